"""The atomic write: build the new output tree beside the old one, swap it in, and the lock.

Nothing touches the output folder until every document of the run has been rendered and
validated; then :func:`write` builds a complete new tree beside the old one (with the index) and
exchanges the two in one atomic step (``renameat2`` with ``RENAME_EXCHANGE``; two renames where
that is unsupported, which :func:`recover` finishes or rolls back), so an interrupted run leaves
the previous output as it was. :func:`locked` serialises runs on one output folder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generator.output.index import INDEX, KEEP_UNOWNED, Plan, index_entry, index_text


@contextmanager
def locked(out: Path, on_wait: Callable[[], None] | None = None, *, shared: bool = False) -> Iterator[None]:
    """Serialise runs on one output folder: an flock on the folder that holds it (no lock file is
    left behind; the lock dies with the process). A render takes it exclusively; a check
    (``shared``) takes it shared, so that it never reads a folder a render is swapping, and
    changes nothing: it creates no folder and leaves what a killed run left to the next render."""
    parent = out.resolve().parent
    if shared and not parent.is_dir():
        yield  # no output folder, and none that a render could be swapping
        return
    parent.mkdir(parents=True, exist_ok=True)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    fd = os.open(parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, mode)
        if not shared:
            recover(out.resolve())  # what a killed run left beside the folder: no other run is writing now
        yield
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_libc: Any = None


def _load_libc() -> None:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name, use_errno=True) if name else False


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


def recover(out: Path) -> None:
    """Finish or roll back a swap that a killed run left half done (non-Linux fallback only)."""
    parent = out.parent
    old = parent / f".{out.name}.gen-old"
    if old.exists() and not out.exists():
        os.rename(old, out)
    elif old.exists():
        shutil.rmtree(old, ignore_errors=True)
    for stale in parent.glob(f".{out.name}.gen-tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def write(out: Path, result: Plan, *, before_swap: Callable[[Path], None] | None = None) -> None:
    """Build the complete new tree beside ``out`` and swap it in atomically."""
    out = out.resolve()
    recover(out)
    tmp = out.parent / f".{out.name}.gen-tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        entries: dict[str, dict[str, Any]] = {}
        for path, entry in result.kept.items():
            if (out / path).is_file():
                _link_or_copy(out / path, tmp / path)
                entries[path] = entry
        if out.exists():
            for name in KEEP_UNOWNED:
                for found in out.rglob(name):
                    rel = found.relative_to(out)
                    _link_or_copy(found, tmp / rel)
        for path, f in result.files.items():
            target = tmp / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(f.content)
            entries[path] = index_entry(f)
        (tmp / INDEX).write_text(index_text(entries), encoding="utf-8")
        if before_swap is not None:
            before_swap(tmp)
        _flush(tmp)  # the new tree is on disk before any name points at it
        if not out.exists():
            os.rename(tmp, out)
            _flush(out.parent, metadata_only=True)
            return
        if _exchange(tmp, out):
            _flush(out.parent, metadata_only=True)
            shutil.rmtree(tmp)
            return
        old = out.parent / f".{out.name}.gen-old"
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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
