"""The index and the plan: which files gen wrote, and what a run would change.

The index (``gen-index.json``, at the top of the output folder) records every file gen wrote, with
its content hash and its owner (an environment and namespace, and a deployment and profile where
the file belongs to one). :func:`plan` compares a run's files with the folder and its index: what
is stale, missing or extra, what stays untouched because it lies outside the run's :class:`Scope`,
and it refuses folders holding files gen did not write (unless forced) or folders gen must never
replace.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from generator.errors import OutputError
from generator.output.mirror import INDEX as INDEX
from generator.output.mirror import KEEP_UNOWNED as KEEP_UNOWNED


@dataclass(frozen=True)
class Owner:
    """Who a file belongs to: a deployment (``deployment`` set) or its namespace."""

    env: str
    namespace: str
    deployment: str = ""
    profile: str = ""


class ContentGone(OutputError):
    """The render cache no longer holds the content of a file this run reused from it (another run
    sharing the cache pruned or replaced the entry): nothing is written from it."""


class OutFile:
    """One file of a run: its path (relative to the output folder, with ``/``), content and owner, and
    the SHA-256 of the content, computed where the file is rendered (in a worker, in parallel) and kept
    with it in the render cache: the plan, the stamps, the index and the run's summary all ask for it.

    A file reused from the render cache (:meth:`stored`) is known by its digest until its content is
    asked for, and its content is read from the cache then: a render compares most reused files with
    the folder (which needs the digest) and hard-links them (which needs nothing). Files are equal
    when their paths, owners and digests are."""

    __slots__ = ("_content", "_load", "owner", "path", "sha256")

    def __init__(self, path: str, content: str, owner: Owner) -> None:
        self.path = path
        self.owner = owner
        self.sha256 = hashlib.sha256(content.encode()).hexdigest()
        self._content: str | None = content
        self._load: Callable[[], str] | None = None

    @classmethod
    def stored(cls, path: str, sha256: str, owner: Owner, load: Callable[[], str]) -> OutFile:
        """A file whose content ``load`` returns when it is first asked for (it must return the
        content whose SHA-256 is ``sha256``, or raise)."""
        made = cls.__new__(cls)
        made.path, made.owner, made.sha256 = path, owner, sha256
        made._content, made._load = None, load
        return made

    @property
    def content(self) -> str:
        if self._content is None:
            assert self._load is not None
            self._content, self._load = self._load(), None
        return self._content

    def holds(self, data: bytes) -> bool:
        """Whether ``data`` (a file's bytes) is this file's content."""
        if self._content is None:
            return hashlib.sha256(data).hexdigest() == self.sha256
        return data == self._content.encode()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OutFile):
            return NotImplemented
        return (self.path, self.owner, self.sha256) == (other.path, other.owner, other.sha256)

    def __hash__(self) -> int:
        return hash((self.path, self.owner, self.sha256))

    def __repr__(self) -> str:
        return f"OutFile(path={self.path!r}, owner={self.owner!r}, sha256={self.sha256[:12]!r})"

    def __getstate__(self) -> tuple[str, str, Owner, str]:
        return self.path, self.content, self.owner, self.sha256

    def __setstate__(self, state: tuple[str, str, Owner, str]) -> None:
        self.path, self._content, self.owner, self.sha256 = state
        self._load = None


@dataclass(frozen=True)
class FileDigest:
    """A file of a run known by its path, owner and SHA-256 only (:mod:`generator.render.summary`):
    enough to compare a folder with, never to write."""

    path: str
    sha256: str
    owner: Owner

    def holds(self, data: bytes) -> bool:
        return hashlib.sha256(data).hexdigest() == self.sha256


class Planned(Protocol):
    """What a plan compares a file of the folder with: an :class:`OutFile` or a :class:`FileDigest`."""

    @property
    def path(self) -> str: ...
    @property
    def owner(self) -> Owner: ...
    @property
    def sha256(self) -> str: ...
    def holds(self, data: bytes) -> bool: ...


F = TypeVar("F", bound=Planned)


@dataclass(frozen=True)
class Scope:
    """Which previously written files this run is responsible for (and may remove)."""

    env: str | None = None
    namespace: str | None = None
    profile: str | None = None
    deployment: str | None = None
    existing: frozenset[tuple[str, str]] = frozenset()  # (namespace, deployment) in the config
    # "env/namespace" folders whose kustomization this run wrote: every file directly in them is the
    # run's (a selected render writes every file such a kustomization lists, whoever owns it)
    folders: frozenset[str] = frozenset()

    def covers(self, owner: Owner, path: str = "") -> bool:
        if path and path.rpartition("/")[0] in self.folders:
            return True
        if self.env is not None and owner.env != self.env:
            return False
        if self.namespace is not None and owner.namespace != self.namespace:
            return False
        if not owner.deployment or (owner.namespace, owner.deployment) not in self.existing:
            return True
        if self.profile is not None and owner.profile != self.profile:
            return False
        return self.deployment is None or owner.deployment == self.deployment


@dataclass
class Plan(Generic[F]):
    """What a run would change in the output folder (``files``: the run's, by path)."""

    files: dict[str, F]
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)  # index entries outside the scope
    # path -> the stamp of an unchanged regular file, taken before its bytes were compared (or when
    # an earlier stamp vouched for them): what :func:`seen_files` keeps for the next run
    stamps: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def drift(self) -> bool:
        return bool(self.stale or self.missing or self.extra)


def read_index(out: Path) -> dict[str, dict[str, Any]] | None:
    path = out / INDEX
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        files = data["files"]
        if not isinstance(files, dict) or not _entries_ok(files):
            raise TypeError
        return files
    except (ValueError, KeyError, TypeError, OSError):
        raise OutputError(
            f"{path} is not an index gen wrote", hint="restore it from version control or remove the folder"
        ) from None


_OWNER_KEYS = frozenset({"env", "namespace", "deployment", "profile"})
_OWNER_NEEDS = frozenset({"env", "namespace"})
# what a plain relative path inside the folder never holds: an empty, "." or ".." part (which a
# leading or doubled "/" makes), or a backslash
_NOT_INSIDE = re.compile(r"(?:\A|/)\.{0,2}(?:/|\Z)|\\")


# _NOT_INSIDE in the paths of an index joined by line breaks (and one before and after): an empty,
# "." or ".." part, or a backslash (a path that holds a line break is refused too: gen writes none)
_NOT_INSIDE_JOINED = (
    "\\", "\n\n", "\n/", "/\n", "//", "\n./", "\n.\n", "/./", "/.\n", "\n../", "\n..\n", "/../", "/..\n"
)  # fmt: skip


def _entries_ok(files: dict[Any, Any]) -> bool:
    """:func:`_index_entry_ok` of every entry: each distinct owner checked once (an estate's files have
    a few hundred), the paths by one search for each way a part can leave the folder."""
    owners: set[tuple[tuple[Any, Any], ...]] = set()
    for path, entry in files.items():
        if type(path) is not str or type(entry) is not dict:
            return False
        owner = entry.get("owner", {})
        if type(owner) is not dict:
            return False
        try:
            owners.add(tuple(owner.items()))
        except TypeError:  # a value that is no string (a list, a map)
            return False
    if not all(_owner_ok(dict(items)) for items in owners):
        return False
    joined = "\n" + "\n".join(files) + "\n"
    return not files or not any(part in joined for part in _NOT_INSIDE_JOINED)


def _index_entry_ok(path: object, entry: object) -> bool:
    """An entry gen could have written: a plain relative path inside the folder, and an owner."""
    if not isinstance(path, str) or not isinstance(entry, dict) or _NOT_INSIDE.search(path):
        return False  # a tampered index must not make gen link or copy files outside --out
    return _owner_ok(entry.get("owner", {}))


def _owner_ok(owner: object) -> bool:
    return (
        isinstance(owner, dict)
        and _OWNER_NEEDS <= owner.keys() <= _OWNER_KEYS
        and all(isinstance(v, str) for v in owner.values())
    )


def _refuse_dangerous(out: Path) -> None:
    """Folders gen never replaces, even with --force: it swaps the whole output folder."""
    real = out.resolve()
    reason = ""
    if real == real.parent or real == Path.home().resolve():
        reason = "a file system root or the home folder"
    elif real == Path.cwd().resolve() or real in Path.cwd().resolve().parents:
        reason = "the current folder or one that holds it"
    elif (real / ".git").exists():
        reason = "the root of a git repository"
    elif (real / "baseline.yaml").exists():
        reason = "a gen configuration folder"
    if reason:
        raise OutputError(
            f"refusing to use {out} as the output folder: it is {reason}",
            hint="gen replaces its output folder as a whole; render into a folder of its own, e.g. --out out",
        )


def _unowned(paths: Iterable[str]) -> Iterator[str]:
    return (p for p in paths if p != INDEX and p.rsplit("/", 1)[-1] not in KEEP_UNOWNED)


def _walk_files(root: Path) -> Iterator[str]:
    """Every file under ``root``; a folder that cannot be listed is an error (what it holds would
    otherwise be missed: kept, replaced or removed unseen)."""

    def unreadable(exc: OSError) -> None:
        raise OutputError(
            f"cannot read {exc.filename or root} in the output folder {root}: {exc.strerror}",
            hint="make it readable for gen",
        )

    top = os.fspath(root)
    for dirpath, _dirs, files in os.walk(top, onerror=unreadable):
        # os.walk's paths start with ``top``: what follows it is the relative folder (relpath per file
        # was a third of a --check of a large estate)
        folder = dirpath[len(top) :].lstrip(os.sep).replace(os.sep, "/")
        prefix = folder + "/" if folder else ""
        for name in files:
            yield prefix + name


# What gen knows of the files of an output folder from an earlier run: path -> (the file's stamp,
# the SHA-256 of the bytes it held then). A file whose stamp is unchanged holds those bytes.
Seen = Mapping[str, tuple[tuple[int, int, int, int], str]]
# a stamp is trusted only for a file last modified this long before it was taken: a later change of
# the file, in place or not, gives it another modification time (file systems store times at a
# granularity of at most two seconds)
SETTLED_NS = 2_000_000_000


def _stamp(info: os.stat_result) -> tuple[int, int, int, int]:
    """Device, inode, size and modification time of a regular file. Not the change time: gen's own
    render hard-links every unchanged file into the new tree, which changes it."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def seen_files(result: Plan[F], now_ns: int) -> dict[str, tuple[tuple[int, int, int, int], str]]:
    """The stamps of the regular files ``result`` found unchanged, each with the digest of the bytes it
    vouches for: for the next run's :func:`plan`, which then need not read a file whose stamp did not
    change. Each stamp was taken before the bytes were compared, so a change made meanwhile gives the
    file another stamp. A file modified less than :data:`SETTLED_NS` before ``now_ns`` is left out (a
    change within the same tick of the clock would keep its modification time)."""
    settled = now_ns - SETTLED_NS
    return {
        path: (stamp, result.files[path].sha256)
        for path, stamp in result.stamps.items()
        if stamp[3] < settled and path in result.files
    }


def plan(out: Path, rendered: Iterable[F], scope: Scope, *, force: bool = False, seen: Seen | None = None) -> Plan[F]:
    """What writing ``rendered`` into ``out`` changes. A file is compared byte for byte with what the
    folder holds, unless ``seen`` (:func:`seen_files`) vouches for its bytes by its stamp."""
    files = {f.path: f for f in rendered}
    result = Plan(files)
    if not out.exists():
        result.missing = sorted(files)
        return result
    if not out.is_dir():
        raise OutputError(f"--out {out} exists and is not a folder")
    _refuse_dangerous(out)
    index = read_index(out)
    if index is None and not force:  # refuse after a few files: --out / must not walk the whole disk
        first = [p for p, _ in zip(_unowned(_walk_files(out)), range(6), strict=False)]
        if first:
            shown = ", ".join(first[:5]) + (" and more" if len(first) > 5 else "")
            raise OutputError(
                f"{out} holds files gen did not write ({shown}); refusing to replace them",
                hint="choose an empty or gen-owned --out folder, or pass --force to replace its contents",
            )
    on_disk = set(_walk_files(out)) - {INDEX}
    if index is None:  # with --force: everything in the folder is replaced
        unowned = sorted(_unowned(on_disk))
        index = {}
    else:
        unowned = sorted(p for p in on_disk - set(index) if p.rsplit("/", 1)[-1] not in KEEP_UNOWNED)
        if unowned and not force:
            shown = ", ".join(unowned[:5]) + (f" and {len(unowned) - 5} more" if len(unowned) > 5 else "")
            raise OutputError(
                f"{out} holds files gen did not write ({shown}); refusing to delete them",
                hint="move them elsewhere, or pass --force to remove them",
            )
    for path, entry in index.items():
        if path in files:
            continue
        owner = Owner(**entry.get("owner", {}))
        if scope.covers(owner, path):
            result.extra.append(path)
        else:
            result.kept[path] = entry
    result.extra.extend(p for p in unowned if p not in files)
    top = os.fspath(out)  # strings: a Path per file was most of a --check
    seen = seen or {}
    stamps = result.stamps
    for path, f in files.items():
        target = f"{top}/{path}"
        try:
            info: os.stat_result | None = os.lstat(target)
        except OSError:
            info = None
        stamp = _stamp(info) if info is not None and stat.S_ISREG(info.st_mode) else None
        if stamp is not None:
            known = seen.get(path)
            if known is not None and known[0] == stamp:
                if known[1] == f.sha256:
                    result.unchanged.append(path)
                    stamps[path] = stamp
                else:
                    result.stale.append(path)
                continue
        elif info is None or not os.path.isfile(target):  # a symlink to a file is compared by its bytes
            result.missing.append(path)
            continue
        with open(target, "rb") as handle:
            same = f.holds(handle.read())
        if same:
            result.unchanged.append(path)
            if stamp is not None:
                stamps[path] = stamp
        else:
            result.stale.append(path)
    result.extra.sort()
    result.missing.sort()
    result.stale.sort()
    return result


def contents_ready(files: Iterable[OutFile]) -> bool:
    """Whether the content of every one of ``files`` can be read (read now, so that writing them
    cannot fail on it). A file reused from the render cache reads its content there: False when the
    cache no longer holds it."""
    ready = True
    for f in files:
        try:
            f.content  # noqa: B018
        except ContentGone:
            ready = False
    return ready


def to_create(result: Plan[OutFile]) -> Iterator[OutFile]:
    """The files that writing ``result`` may create: all but the regular files the plan found
    unchanged (the new tree links them)."""
    return (f for path, f in result.files.items() if path not in result.stamps)


def gen_version() -> str:
    """The version of the installed gen (its package metadata)."""
    from generator import installed

    return installed.version("generator") or "unknown"  # "unknown": a checkout that was never installed


def index_text(entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The text of ``gen-index.json`` for these entries (path -> hash and owner), and the version of
    the gen that wrote it (``gen_version``: a record only; no comparison reads it, so the same
    rendered files written by another gen version are no drift)."""
    # the text of json.dumps(data, indent=1, sort_keys=True), written without its pure-Python
    # encoder (which indenting needs): a sixth of the bookkeeping of an incremental render; an
    # owner's text is made once (an estate's files have a few hundred owners)
    owners: dict[tuple[tuple[Any, Any], ...], str] = {}
    files = ",\n".join(f"  {_quote(path)}: {_entry_text(entries[path], owners)}" for path in sorted(entries))
    body = f"{{\n{files}\n }}" if files else "{}"
    return f'{{\n "files": {body},\n "gen_version": {_quote(gen_version())},\n "version": 1\n}}\n'


_quote = json.encoder.encode_basestring_ascii  # a JSON string as json.dumps writes it (ASCII only)


def _entry_text(entry: Mapping[str, Any], owners: dict[tuple[tuple[Any, Any], ...], str] | None = None) -> str:
    """One entry at the depth of the index's files, as json.dumps(indent=1, sort_keys=True) writes it
    (``owners``: the text up to the digest, by the owner's items, made once each)."""
    owner, sha = entry.get("owner"), entry.get("sha256")
    if isinstance(sha, str) and isinstance(owner, dict) and len(entry) == 2 and "owner" in entry:
        items = tuple(owner.items())
        try:
            head = None if owners is None else owners.get(items)
        except TypeError:  # a value that is no string (a list, a map): json.dumps writes it
            return json.dumps(entry, indent=1, sort_keys=True).replace("\n", "\n  ")
        if head is None and owner and all(isinstance(k, str) and isinstance(v, str) for k, v in items):
            fields = ",\n".join(f"    {_quote(k)}: {_quote(owner[k])}" for k in sorted(owner))
            head = f'{{\n   "owner": {{\n{fields}\n   }},\n   "sha256": '
            if owners is not None:
                owners[items] = head
        if head is not None:
            return f"{head}{_quote(sha)}\n  }}"
    return json.dumps(entry, indent=1, sort_keys=True).replace("\n", "\n  ")  # any other entry it kept


def index_entry(f: OutFile) -> dict[str, Any]:
    """The index entry of a written file: its hash and its owner."""
    owner = {"env": f.owner.env, "namespace": f.owner.namespace}
    if f.owner.deployment:
        owner["deployment"] = f.owner.deployment
    if f.owner.profile:
        owner["profile"] = f.owner.profile
    return {"sha256": f.sha256, "owner": owner}
