"""The previous output tree: can it be replaced, and its files hard-linked into the new one.

:func:`scan` finds whatever would keep the previous tree from being removed once the new one is in
place: a mount point at it or inside it, a folder gen cannot read or write, an immutable or
append-only folder or file, an entry of another user in a folder with the sticky bit. :func:`mirror`
hard-links every regular file of the previous tree into the new one, at the same path; Linux refuses
to link an immutable or append-only file, so the links check those files too.

:mod:`generator.output.swap` runs both, in its own process or, while the run renders, in a helper
process: this file run as a script (``python -I -S mirror.py OUT NEW``, :func:`main`), which prints
what it linked, or why the tree cannot be replaced, as one line of JSON, then waits to be handed
the previous tree to remove once the run swapped the trees in (on its standard input; without such
a helper, the same script removes it started as ``--remove TREE``). So it uses the standard library
only, and starts in milliseconds.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import stat
import struct
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

INDEX = "gen-index.json"  # the index of the files gen wrote (generator.output.index), never linked
KEEP_UNOWNED = frozenset({".gitkeep", ".gitignore"})  # kept in every folder, whoever wrote them

_FS_IOC_GETFLAGS = (2 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 1
_FS_IMMUTABLE_FL = 0x10
_FS_APPEND_FL = 0x20


KINDS = frozenset({"mount-itself", "mount", "read-only", "unreadable", "sticky", "immutable"})


class Refusal(Exception):
    """The previous tree cannot be replaced: ``path`` (absolute) is ``kind`` (one of :data:`KINDS`);
    ``detail``: the system's reason, where there is one."""

    def __init__(self, path: str, kind: str, detail: str = "") -> None:
        super().__init__(path, kind, detail)
        self.path, self.kind, self.detail = path, kind, detail


def mount_points(out: str) -> list[str]:
    """Mount points at or below ``out`` (Linux: /proc/self/mountinfo, which also lists bind mounts
    of the same file system; elsewhere none, and the device check finds the others)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    found = set()
    inside = out.rstrip("/") + "/"
    for line in lines:
        fields = line.split(" ")
        if len(fields) > 4:
            point = os.path.normpath(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))
            if point == out or point.startswith(inside):
                found.add(point)
    return sorted(found)


def immutable(path: str, info: os.stat_result) -> bool:
    """Whether ``path`` has the immutable or append-only attribute (Linux; False elsewhere)."""
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)) or not sys.platform.startswith("linux"):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return False  # what gen cannot open it may still remove; anything else shows when removing
    try:
        flags = int.from_bytes(fcntl.ioctl(fd, _FS_IOC_GETFLAGS, bytes(8))[:4], sys.byteorder)
    except OSError:
        return False  # a file system without these attributes
    finally:
        os.close(fd)
    return bool(flags & (_FS_IMMUTABLE_FL | _FS_APPEND_FL))


def scan(out: str, linked: frozenset[str] | None = frozenset(), unowned: list[str] | None = None) -> dict[str, int]:
    """Refuse (:class:`Refusal`) a previous tree ``out`` (an absolute path) that could not be removed
    as a whole once the new one is in place. Returns its regular files: their paths (relative, with
    ``/``) and inodes; ``unowned`` gets the paths of the other files named in :data:`KEEP_UNOWNED`.

    The attributes of the regular files in ``linked`` (all of them: ``None``) are not asked (an open
    and an ioctl per file): they are hard-linked into the new tree, and the link fails on an immutable
    or append-only file (:func:`mirror`, :func:`link_refusal`)."""
    mounts = mount_points(out)
    if out in mounts or os.path.ismount(out):
        raise Refusal(out, "mount-itself")
    if mounts:
        raise Refusal(mounts[0], "mount")
    device = os.lstat(out).st_dev
    euid = os.geteuid()

    def unreadable(exc: OSError) -> None:
        raise Refusal(exc.filename or out, "unreadable", exc.strerror or "")

    regular: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(out, onerror=unreadable):
        prefix = dirpath[len(out) :].lstrip(os.sep).replace(os.sep, "/")
        prefix = prefix + "/" if prefix else ""
        info = os.lstat(dirpath)
        if not os.access(dirpath, os.W_OK | os.X_OK) or immutable(dirpath, info):
            raise Refusal(dirpath, "read-only")
        sticky = bool(info.st_mode & stat.S_ISVTX) and euid != 0 and info.st_uid != euid
        for name in (*dirnames, *filenames):
            path = f"{dirpath}/{name}"  # strings: a Path per file was a fifth of the check
            entry = os.lstat(path)
            if entry.st_dev != device:
                raise Refusal(path, "mount")
            if sticky and entry.st_uid != euid:
                raise Refusal(path, "sticky")
            rel = prefix + name
            is_regular = stat.S_ISREG(entry.st_mode)
            if not (is_regular and (linked is None or rel in linked)) and immutable(path, entry):
                raise Refusal(path, "immutable")
            if is_regular:
                regular[rel] = entry.st_ino
            elif unowned is not None and name in KEEP_UNOWNED and name in filenames:
                unowned.append(rel)
    return regular


def link_refusal(source: str, exc: OSError) -> Refusal | None:
    """The refusal a failed hard link of ``source`` means: Linux refuses (EPERM) to link an immutable
    or append-only file, which could not be removed after the swap either."""
    if exc.errno == errno.EPERM and immutable(source, os.lstat(source)):
        return Refusal(source, "immutable")
    return None


def mirror(out: str, new: str, files: Iterable[str]) -> dict[str, int]:
    """Hard-link each of ``files`` (regular files of ``out``, relative paths) into ``new`` at the same
    path, creating folders as needed; the index is not linked. Returns the files linked, with the
    inode each link holds (a file replaced meanwhile holds another). A file that cannot be linked for
    another reason than :func:`link_refusal` is left out: whoever completes the tree writes it."""
    linked: dict[str, int] = {}
    folders: set[str] = set()
    for rel in files:
        if rel == INDEX:
            continue
        source, target = f"{out}/{rel}", f"{new}/{rel}"
        folder = target.rpartition("/")[0]
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        try:
            os.link(source, target)
        except OSError as exc:
            refusal = link_refusal(source, exc)
            if refusal is not None:
                raise refusal from None
            continue
        linked[rel] = os.lstat(target).st_ino
    return linked


def helper(
    *args: str, stdout: int, lock: int | None = None, stdin: int | None = None
) -> subprocess.Popen[bytes] | None:
    """This file run as a helper process with ``args`` (:func:`main`), isolated and without site
    packages, so that it starts in milliseconds; ``lock``: the output folder's lock
    (:func:`generator.output.swap.locked`), held by the helper too, so that a run killed meanwhile
    keeps the next one waiting until the helper is done. ``None`` if it cannot be started."""
    import subprocess  # not for the helper itself

    if not sys.executable:
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-S", __file__, *args],
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            pass_fds=() if lock is None else (lock,),
        )
    except OSError:
        return None


def main(argv: list[str]) -> int:
    """``OUT NEW``: scan the previous tree ``OUT`` and mirror it into the folder ``NEW`` (created here);
    print ``{"linked": {path: inode}, "unowned": [path]}``, or ``{"refused": [path, kind, detail]}``;
    then read standard input to its end: a path there is the tree the new one replaced, once the
    run swapped them, to remove (nothing: exit). ``--remove TREE``: remove that tree at once. The
    exit status is 1 if any of a tree to remove is left."""
    if argv[:1] == ["--remove"]:
        return _remove(argv[1])
    out, new = argv
    unowned: list[str] = []
    try:
        regular = scan(out, linked=None, unowned=unowned)
        os.mkdir(new)
        report: dict[str, object] = {"linked": mirror(out, new, regular), "unowned": unowned}
    except Refusal as refusal:
        report = {"refused": [refusal.path, refusal.kind, refusal.detail]}
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    told = sys.stdin.buffer.read()  # the run swapped the trees (this process starts no other to remove it)
    return _remove(os.fsdecode(told)) if told else 0


def _remove(tree: str) -> int:
    try:
        shutil.rmtree(tree)
    except OSError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
