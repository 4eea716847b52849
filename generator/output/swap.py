"""The atomic write: build the new output tree beside the old one, swap it in, and the lock.

Nothing touches the output folder until every document of the run has been rendered and
validated; then :func:`write` builds a complete new tree beside the old one (with the index) and
exchanges the two in one atomic step (``renameat2`` with ``RENAME_EXCHANGE``; two renames where
that is unsupported, which :func:`recover` finishes or rolls back), so an interrupted run leaves
the previous output as it was. :func:`locked` serialises runs on one output folder.

A failed run changes nothing. Before anything is created, :func:`check_replaceable` makes sure
every file of the previous tree can be removed once the new one is in place (a read-only or
immutable folder or file, a mount point inside it, a folder gen cannot read are refused, naming
them; an immutable file the new tree would hard-link is refused when the link fails, still before
the swap). A failure while the new tree is built or swapped in removes the new tree and leaves the
previous one in place; a failure right after the swap (making it durable) swaps back. Every
failure is an :class:`OutputError` naming the output folder; no temporary folder is left behind.

The new tree can be begun while the run renders (:mod:`generator.output.prebuild`); :func:`write`
then completes it (:func:`_complete`).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from generator.errors import OutputError
from generator.output import mirror
from generator.output.index import INDEX, KEEP_UNOWNED, OutFile, Plan, index_entry, index_text


@contextmanager
def locked(
    out: Path, on_wait: Callable[[], None] | None = None, *, shared: bool = False, wait: bool = True
) -> Iterator[int | None]:
    """Serialise runs on one output folder: an flock on the folder that holds it (no lock file is
    left behind; the lock dies with the process and any helper it passed the descriptor to, which it
    yields). A render takes it exclusively; a check (``shared``) takes it shared, so that it never
    reads a folder a render is swapping, and changes nothing: it creates no folder and leaves what a
    killed run left to the next render. ``wait=False``: yields ``None`` at once, holding nothing,
    when another run holds it."""
    parent = out.resolve().parent
    if shared and not parent.is_dir():
        yield None  # no output folder, and none that a render could be swapping
        return
    parent.mkdir(parents=True, exist_ok=True)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    fd = os.open(parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield None
                return
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, mode)
        if not shared:
            recover(out.resolve(), out)  # what a killed run left beside the folder: no other run is writing now
        yield fd
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_libc: Any = None


def _load_libc() -> None:
    """The C library's functions as this process links them (renameat2, syncfs where it has them).
    Not through ctypes.util.find_library, which runs ``ldconfig -p`` in a new process to find a file
    name for what is already loaded."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:  # pragma: no cover - a platform without dlopen(NULL)
            _libc = False


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    _load_libc()
    if not _libc or not hasattr(_libc, "renameat2"):
        return False
    at_fdcwd = -100
    result = _libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _rename(src: Path, dst: Path) -> None:
    """One rename of the swap (the name tests replace to fail it)."""
    os.rename(src, dst)


def _remove_tree(path: Path) -> None:
    """Remove a tree gen built or replaced; raises on the first entry it cannot remove."""
    shutil.rmtree(path)


def recover(out: Path, shown: Path | None = None) -> None:
    """Finish or roll back a swap that a killed run left half done (non-Linux fallback only), and
    remove the temporary trees killed or failed runs left beside ``out``; one that cannot be
    removed is an error naming it."""
    parent = out.parent
    old = parent / f".{out.name}.gen-old"
    if os.path.lexists(old) and not os.path.lexists(out):
        _rename(old, out)
    elif os.path.lexists(old):
        _remove_leftover(old, shown or out)
    for stale in sorted(parent.glob(f".{out.name}.gen-tmp-*")):
        _remove_leftover(stale, shown or out)


def _remove_leftover(path: Path, shown: Path) -> None:
    try:
        _remove_tree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputError(
            f"cannot remove {path}, which an earlier gen run on {shown} left behind: {_reason(exc)}",
            hint="make it writable and run gen again, or remove it by hand",
        ) from None


def new_tree(out: Path) -> Path:
    """Where this process builds the new tree of ``out`` (resolved): beside it, on its file system."""
    return out.parent / f".{out.name}.gen-tmp-{os.getpid()}"


class Begun(Protocol):
    """A new tree begun while the run rendered (:class:`generator.output.prebuild.Prepared`)."""

    def finish(self, shown: Path) -> tuple[dict[str, int], list[str]] | None:
        """The files linked into :func:`new_tree` (path: inode) and the other files to keep, or
        ``None`` (nothing begun: build it all); raises the refusal of a tree that cannot be replaced."""
        ...

    def remove(self, tree: Path) -> subprocess.Popen[bytes] | None:
        """After :meth:`finish` gave a tree that was swapped in: have the previous one, now ``tree``,
        removed; what to wait for, or ``None`` (nothing started: remove it otherwise)."""
        ...


def write(
    out: Path,
    result: Plan[OutFile],
    *,
    before_swap: Callable[[Path], None] | None = None,
    prepared: Begun | None = None,
    meanwhile: Callable[[], None] | None = None,
    lock: int | None = None,
) -> None:
    """Build the complete new tree beside ``out`` and swap it in atomically; on any failure
    ``out`` is left as it was and the new tree is removed. ``prepared``: the new tree a helper has
    begun (:func:`generator.output.prebuild.prepare`), completed here. ``meanwhile``: work of the
    caller done once the new tree is in place, while a helper process removes the previous one
    (what it leaves, or an error, is then this process's as without a helper); ``lock``: the
    descriptor of :func:`locked`, which the helper holds too."""
    shown = out
    out = out.resolve()
    tmp = new_tree(out)
    mirrored = prepared.finish(shown) if prepared is not None else None
    if mirrored is not None:
        fill = functools.partial(_complete, out, tmp, result, *mirrored)
    else:  # the whole tree is built here
        recover(out, shown)
        unchanged = frozenset(result.unchanged)
        regular: frozenset[str] = frozenset()
        if os.path.lexists(out):
            regular = check_replaceable(out, shown, unchanged)  # before anything is created
        try:
            tmp.mkdir(parents=True)
        except OSError as exc:
            raise OutputError(
                f"cannot write the new output beside {shown}: {_reason(exc)}",
                hint=f"gen builds the new tree in {out.parent} and swaps it in: that folder must be writable",
            ) from None
        fill = functools.partial(_build, out, tmp, result, unchanged & regular, shown)
    try:
        fill()
        if before_swap is not None:
            before_swap(tmp)
        _flush(tmp)  # the new tree is on disk before any name points at it
    except BaseException as exc:
        raise _abandon(tmp, shown, exc, "could not write the new output for {out}") from None
    previous = _swap(tmp, out, shown)
    removal = None
    if previous is not None and prepared is not None and mirrored is not None:
        removal = prepared.remove(previous)  # the helper that began the tree, waiting for it
    if removal is None and previous is not None and meanwhile is not None:
        removal = _start_removal(previous, lock)
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        removed = removal is not None and removal.wait() == 0
    if previous is not None and not removed:  # in this process: what is left, or the error that names it
        _remove_previous(previous, shown)


def _start_removal(tree: Path, lock: int | None) -> subprocess.Popen[bytes] | None:
    """Remove ``tree`` in a helper process (``mirror.py --remove``), so that the caller's work goes
    on meanwhile on another CPU; ``None`` if it cannot be started."""
    return mirror.helper("--remove", os.fspath(tree), stdout=subprocess.DEVNULL, lock=lock)


def _build(out: Path, tmp: Path, result: Plan[OutFile], linked: frozenset[str], shown: Path) -> None:
    """The new tree in ``tmp``: every file of the run, with the bytes the folder already holds linked
    from it (``linked``: the unchanged files that :func:`check_replaceable` found to be regular files
    just before; never a symlink someone put in a file's place) and the others written. A file
    that cannot be linked because it is immutable or append-only (which :func:`check_replaceable`
    leaves to the link) is refused: it could not be removed after the swap."""
    entries: dict[str, dict[str, Any]] = {}
    for path, entry in result.kept.items():
        if (out / path).is_file():
            _link_or_copy(out / path, tmp / path)
            entries[path] = entry
    if out.exists():  # one walk of the previous tree for the files kept whoever wrote them
        top = os.fspath(out)
        for dirpath, _dirs, names in os.walk(top):
            for name in KEEP_UNOWNED.intersection(names):
                found = Path(dirpath, name)
                _link_or_copy(found, tmp / found.relative_to(out))
    folders: set[str] = set()
    out_s, tmp_s = os.fspath(out), os.fspath(tmp)  # strings: a Path per file was a third of the build
    for path, f in result.files.items():
        target = f"{tmp_s}/{path}"
        folder = target.rpartition("/")[0]
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        entries[path] = index_entry(f)
        if path in linked:  # a regular file with the same bytes
            source = f"{out_s}/{path}"
            try:
                os.link(source, target)
                continue
            except OSError as exc:
                refusal = mirror.link_refusal(source, exc)
                if refusal is not None:
                    raise refused(out, shown, refusal) from None
        _create(target, f.content)
    (tmp / INDEX).write_text(index_text(entries), encoding="utf-8")


def _complete(out: Path, tmp: Path, result: Plan[OutFile], linked: dict[str, int], unowned: list[str]) -> None:
    """Make the new tree of ``result`` from ``tmp``, which holds a hard link of every regular file of
    the previous tree (``linked``: its path and the inode it links). A file the plan found unchanged
    keeps its link if that is the very file the plan compared (the inode of its stamp); every other
    link is removed (with the folders it leaves empty), and the files to write are written."""
    out_s, tmp_s = os.fspath(out), os.fspath(tmp)
    stamps, unchanged = result.stamps, frozenset(result.unchanged)
    keep = {
        path
        for path in result.files
        if path in unchanged and (stamp := stamps.get(path)) is not None and linked.get(path) == stamp[1]
    }
    entries: dict[str, dict[str, Any]] = {}
    for path, entry in result.kept.items():  # kept whoever wrote them, as _build keeps them
        if path in linked:
            keep.add(path)
        elif (out / path).is_file():
            _link_or_copy(out / path, tmp / path)
        else:
            continue
        entries[path] = entry
    keep.update(path for path in linked if path.rpartition("/")[2] in KEEP_UNOWNED)
    emptied: set[str] = set()
    for path in linked:
        if path not in keep:
            os.unlink(f"{tmp_s}/{path}")
            emptied.add(path.rpartition("/")[0])
    for folder in sorted(emptied, key=len, reverse=True):  # deepest first
        while folder:
            try:
                os.rmdir(f"{tmp_s}/{folder}")
            except OSError:  # not empty (or already removed from a deeper one)
                break
            folder = folder.rpartition("/")[0]
    for path in unowned:
        _link_or_copy(Path(out_s, path), Path(tmp_s, path))
    folders: set[str] = set()
    for path, f in result.files.items():
        entries[path] = index_entry(f)
        if path in keep:
            continue
        target = f"{tmp_s}/{path}"
        folder = target.rpartition("/")[0]
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        _create(target, f.content)
    (tmp / INDEX).write_text(index_text(entries), encoding="utf-8")


def _create(path: str, content: str) -> None:
    """A new file holding ``content`` (UTF-8), as ``open(path, "x")`` makes it (mode 0666 less the
    umask), with three system calls instead of seven: creating the files is most of a cold render's
    kernel time."""
    data = memoryview(content.encode("utf-8"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def _swap(tmp: Path, out: Path, shown: Path) -> Path | None:
    """Put the complete new tree ``tmp`` in place of ``out``; where the previous tree now is (for
    :func:`_remove_previous`), or ``None`` when there was none. On failure ``out`` is as it was
    and ``tmp`` is removed."""
    if not os.path.lexists(out):
        try:
            _rename(tmp, out)
        except BaseException as exc:
            raise _abandon(tmp, shown, exc, "could not move the new output into {out}") from None
        _settle(tmp, out, shown, undo=lambda: _rename(out, tmp), previous=None)
        return None
    try:
        exchanged = _exchange(tmp, out)
    except BaseException as exc:
        raise _abandon(tmp, shown, exc, "could not swap the new output into {out}") from None
    if exchanged:
        _settle(tmp, out, shown, undo=lambda: _exchange(tmp, out), previous=tmp)
        return tmp
    # two renames where renameat2 is unsupported; recover() finishes or rolls back a killed run
    old = out.parent / f".{out.name}.gen-old"
    try:
        _rename(out, old)
    except BaseException as exc:
        raise _abandon(tmp, shown, exc, "could not move {out} aside") from None
    try:
        _rename(tmp, out)
    except BaseException as exc:
        _put_back(lambda: _rename(old, out), shown, old)
        raise _abandon(tmp, shown, exc, "could not move the new output into {out}") from None

    def undo() -> None:
        _rename(out, tmp)
        _rename(old, out)

    _settle(tmp, out, shown, undo=undo, previous=old)
    return old


def _settle(tmp: Path, out: Path, shown: Path, *, undo: Callable[[], object], previous: Path | None) -> None:
    """Make the swap durable (an fsync of the folder holding ``out``); if that fails, swap back."""
    try:
        _flush(out.parent, metadata_only=True)
    except BaseException as exc:
        _put_back(undo, shown, previous)
        raise _abandon(tmp, shown, exc, "could not make the swap of {out} durable") from None


def _put_back(undo: Callable[[], object], shown: Path, previous: Path | None) -> None:
    try:
        undo()
    except OSError as exc:  # the file system refuses renames it just made: say where everything is
        where = f"the previous output is in {previous}" if previous else "there was no previous output"
        raise OutputError(
            f"the swap of {shown} failed and could not be undone: {_reason(exc)}; {where}",
            hint=f"move {previous} back to {shown} by hand" if previous else f"remove {shown} by hand",
        ) from None


def _remove_previous(previous: Path, shown: Path) -> None:
    """Remove the previous tree once the new one is in place. check_replaceable() made sure this
    works; if the file system still refuses, say so: the new output is complete, the rest of the
    previous one is named, and the next run removes it."""
    try:
        _remove_tree(previous)
    except OSError as exc:
        raise OutputError(
            f"{shown} holds the new output, but the previous one could not be removed completely from {previous}: "
            f"{_reason(exc)}",
            hint="make it writable and run gen again: it removes what is left",
        ) from None


def _abandon(tmp: Path, shown: Path, exc: BaseException, doing: str) -> BaseException:
    """Remove the new tree after a failure; the error to raise (an :class:`OutputError` naming
    the output folder for a file system error, the original exception otherwise)."""
    try:
        shutil.rmtree(tmp)
        left = ""
    except FileNotFoundError:
        left = ""
    except OSError as again:
        left = f"; the temporary folder {tmp} could not be removed ({_reason(again)}): remove it by hand"
    if not isinstance(exc, OSError):
        return exc
    return OutputError(f"{doing.format(out=shown)}: {_reason(exc)}; {shown} was left as it was{left}")


def _reason(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    return f"{what}: {exc.filename}" if exc.filename else what


# -- before the swap: can every file of the previous tree be removed? -----------------------------
_IMMUTABLE = ("is immutable or append-only", "clear the attribute (chattr -i -a), or remove it")
_REFUSALS = {  # each of mirror.KINDS: what it is, and what to do (detail: the system's reason)
    "mount-itself": (
        "is a mount point",
        "gen builds the new output beside the folder and swaps the two: mount the volume one level up "
        "and render into a folder inside it",
    ),
    "mount": ("is a mount point", "unmount it, or mount it outside the output folder"),
    "unreadable": ("cannot be read ({detail})", "make it readable for gen"),
    "read-only": (
        "is read-only for gen (no write permission, a read-only mount or an immutable folder), so the "
        "files in it could not be removed",
        "make it writable for the user running gen (chmod u+w, chattr -i), or remove it",
    ),
    "sticky": (
        "belongs to another user in a folder with the sticky bit",
        "remove it as its owner, or render as that user",
    ),
    "immutable": _IMMUTABLE,
}


def _refusal(out: Path, shown: Path, path: Path, why: str, hint: str) -> OutputError:
    return OutputError(f"cannot replace {shown}: {_rel(path, out, shown)} {why}; nothing was changed", hint=hint)


def refused(out: Path, shown: Path, refusal: mirror.Refusal) -> OutputError:
    why, hint = _REFUSALS[refusal.kind]
    return _refusal(out, shown, Path(refusal.path), why.format(detail=refusal.detail), hint)


def check_replaceable(out: Path, shown: Path, linked: frozenset[str] = frozenset()) -> frozenset[str]:
    """Refuse an output folder that could not be replaced as a whole, before anything is
    written (:func:`mirror.scan`: after the swap every entry of the previous tree is removed, which
    needs a folder gen can read and write, entries that are not immutable or append-only, and no
    mount point inside it or at it). Returns the paths (relative, with ``/``) of the regular files in
    it.

    ``linked``: the paths of files the new tree will hard-link. Their attributes are not asked here
    (an open and an ioctl per file, a fifth of the bookkeeping of an incremental render): Linux
    refuses to link an immutable or append-only file (EPERM), and :func:`_build` refuses the run
    then, before the swap, with the same message."""
    try:
        return frozenset(mirror.scan(os.fspath(out), linked))
    except mirror.Refusal as refusal:
        raise refused(out, shown, refusal) from None


def _rel(path: Path, out: Path, shown: Path) -> str:
    try:
        rel = path.relative_to(out)
    except ValueError:
        return str(path)
    return str(shown / rel) if rel.parts else str(shown)


def _flush(folder: Path, *, metadata_only: bool = False) -> None:
    """Make ``folder`` durable: syncfs(2) of its file system (one call for the whole new tree;
    fsync of every file is ten times slower), or an fsync of the folder for a rename."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        _load_libc()
        if not metadata_only and _libc and hasattr(_libc, "syncfs") and _libc.syncfs(fd) == 0:
            return
        if not metadata_only:
            for dirpath, _dirs, files in os.walk(folder):
                for name in files:
                    file_fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
                    try:
                        os.fsync(file_fd)
                    finally:
                        os.close(file_fd)
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
