"""The single writer: YAML formatting, the file index, the atomic swap and ``--check``.

Every rendered file goes through here. Nothing touches the output folder until every document
of the run has been rendered and validated; then a complete new tree is built beside the old one
and exchanged with it in one atomic step, so an interrupted run leaves the previous output as it
was. An index (``gen-index.json``) records which files gen wrote, with content hashes and owner.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import OutputError

INDEX = "gen-index.json"
KEEP_UNOWNED = frozenset({".gitkeep", ".gitignore"})
_TOP_ORDER = ("apiVersion", "kind", "metadata", "spec")
_META_ORDER = ("name", "namespace")

try:
    _Dumper: type[Any] = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


class _Dumper2(_Dumper):  # type: ignore[misc]
    """libyaml's emitter; multi-line strings as literal blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper2.add_representer(str, _str_representer)


def _ordered(value: Any, depth: int = 0, parent: str = "") -> Any:
    if isinstance(value, dict):
        if depth == 0:
            first = [k for k in _TOP_ORDER if k in value]
        elif parent == "metadata":
            first = [k for k in _META_ORDER if k in value]
        else:
            first = []
        rest = sorted(k for k in value if k not in first)
        return {k: _ordered(value[k], depth + 1, k) for k in (*first, *rest)}
    if isinstance(value, list):
        return [_ordered(v, depth + 1, parent) for v in value]
    return value


def dump_yaml(doc: Mapping[str, Any]) -> str:
    """Deterministic YAML: Kubernetes key order at the top, other maps sorted, YAML 1.1
    look-alikes (``on``, ``yes``, ``1.20``, ``0755``) quoted, no line folding.

    Byte for byte what :func:`dump_yaml_pyyaml` writes: block structure is laid out here and
    every scalar is written the way libyaml's emitter writes it (asked once per distinct
    scalar); anything outside that subset is handed to PyYAML whole."""
    try:
        if not doc:
            raise _Fallback
        out: list[str] = []
        _emit_map(doc, 0, 0, "", out, False)
        return "".join(out)
    except _Fallback:
        return dump_yaml_pyyaml(doc)


class _Fallback(Exception):
    """A value the fast emitter does not handle: PyYAML writes the whole document."""


# A string libyaml writes plain, both as a key and as a value: no indicator first, no ': ' or
# ' #', no leading or trailing space, nothing YAML 1.1 would read as another type.
_PLAIN = re.compile(r"[A-Za-z_/](?:[A-Za-z0-9_./=@+\-]|:(?=[^ ])| (?=[^ #]))*")
_NOT_PLAIN = frozenset(
    {
        *("yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"),
        *("true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"),
    }
)
_SCALARS: dict[tuple[type, Any], str] = {}  # (type, value) -> its text after "key: " at column 0
_KEYS: dict[str, str] = {}
_MEMO_LIMIT = 200_000


def _learn(value: Any) -> str:
    """How libyaml writes ``value`` as a map value at column 0 (``|`` blocks: lines below it)."""
    text: str = yaml.dump({"k": value}, Dumper=_Dumper2, default_flow_style=False, allow_unicode=True, width=1 << 30)
    if not text.startswith("k: ") or text.endswith("\n...\n"):
        raise _Fallback
    body = text[3:-1]
    if any(ch in body for ch in "\x85\u2028\u2029"):
        raise _Fallback  # line breaks that are not "\n": libyaml indents after them too
    if "\n" in body and not (body.startswith("|") and not body.split("\n", 1)[0].endswith("+")):
        raise _Fallback  # multi-line quoted scalars depend on their context
    if len(_SCALARS) > _MEMO_LIMIT:
        _SCALARS.clear()
    _SCALARS[_memo_key(value)] = body
    return body


def _memo_key(value: Any) -> tuple[type, Any]:
    # 0.0 == -0.0 (and hash alike), but libyaml writes them differently: floats by their repr
    return (float, repr(value)) if type(value) is float else (type(value), value)


def _scalar(value: Any, col: int) -> str:
    kind = type(value)
    if kind is str:
        if _PLAIN.fullmatch(value) and value not in _NOT_PLAIN:
            plain: str = value
            return plain
    elif value is None:
        return "null"
    elif kind is bool:
        return "true" if value else "false"
    elif kind is int:
        return str(value)
    elif kind is not float:
        raise _Fallback
    body = _SCALARS.get(_memo_key(value))
    if body is None:
        body = _learn(value)
    if "\n" in body and col:
        pad = " " * col
        return "\n".join([line if not line or i == 0 else pad + line for i, line in enumerate(body.split("\n"))])
    return body


def _key(key: Any) -> str:
    if type(key) is not str:
        raise _Fallback
    if len(key) < 100 and _PLAIN.fullmatch(key) and key not in _NOT_PLAIN:
        return key
    text = _KEYS.get(key)
    if text is None:
        dumped: str = yaml.dump({key: 0}, Dumper=_Dumper2, default_flow_style=False, allow_unicode=True, width=1 << 30)
        multi_line = dumped.count("\n") != 1 or any(ch in dumped for ch in "\x85\u2028\u2029")
        if not dumped.endswith(": 0\n") or dumped.startswith("? ") or multi_line:
            raise _Fallback
        text = dumped[:-4]
        if len(_KEYS) > _MEMO_LIMIT:
            _KEYS.clear()
        _KEYS[key] = text
    return text


def _keys(value: Mapping[str, Any], depth: int, parent: str) -> list[str]:
    try:
        if depth == 0:
            first = [k for k in _TOP_ORDER if k in value]
        elif parent == "metadata":
            first = [k for k in _META_ORDER if k in value]
        else:
            return sorted(value)
        return [*first, *sorted(k for k in value if k not in first)]
    except TypeError:
        raise _Fallback from None


def _emit_value(value: Any, col: int, depth: int, parent: str, out: list[str]) -> None:
    """After ``key:`` or ``-`` at column ``col``: the rest of the line and the lines below."""
    kind = type(value)
    if kind is dict:
        if not value:
            out.append(" {}\n")
        else:
            out.append("\n")
            _emit_map(value, col + 2, depth, parent, out, False)
    elif kind is list:
        if not value:
            out.append(" []\n")
        else:
            out.append("\n")
            _emit_seq(value, col, depth, parent, out, False)
    else:
        out.append(" ")
        out.append(_scalar(value, col))
        out.append("\n")


def _emit_map(value: Mapping[str, Any], col: int, depth: int, parent: str, out: list[str], inline: bool) -> None:
    if type(value) is not dict:
        raise _Fallback
    pad = " " * col
    for i, key in enumerate(_keys(value, depth, parent)):
        if i or not inline:
            out.append(pad)
        out.append(_key(key))
        out.append(":")
        _emit_value(value[key], col, depth + 1, key, out)


def _emit_seq(value: list[Any], col: int, depth: int, parent: str, out: list[str], inline: bool) -> None:
    """A block sequence with its dashes at column ``col``; items keep the list's key as parent."""
    pad = " " * col
    for i, item in enumerate(value):
        if i or not inline:
            out.append(pad)
        kind = type(item)
        if kind is dict and item:
            out.append("- ")
            _emit_map(item, col + 2, depth + 1, parent, out, True)
        elif kind is list and item:
            out.append("- ")
            _emit_seq(item, col + 2, depth + 1, parent, out, True)
        elif kind is dict:
            out.append("- {}\n")
        elif kind is list:
            out.append("- []\n")
        else:
            out.append("- ")
            out.append(_scalar(item, col))
            out.append("\n")


def dump_yaml_pyyaml(doc: Mapping[str, Any]) -> str:
    """The reference: PyYAML (libyaml's C emitter) over the ordered document."""
    text: str = yaml.dump(
        _ordered(dict(doc)),
        Dumper=_Dumper2,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
        indent=2,
    )
    return text


@dataclass(frozen=True)
class Owner:
    """Who a file belongs to: a deployment (``deployment`` set) or its namespace."""

    env: str
    namespace: str
    deployment: str = ""
    profile: str = ""


@dataclass(frozen=True)
class OutFile:
    path: str  # relative to the output folder, with '/'
    content: str
    owner: Owner

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode()).hexdigest()


@dataclass(frozen=True)
class Scope:
    """Which previously written files this run is responsible for (and may remove)."""

    env: str | None = None
    namespace: str | None = None
    profile: str | None = None
    deployment: str | None = None
    existing: frozenset[tuple[str, str]] = frozenset()  # (namespace, deployment) in the config

    def covers(self, owner: Owner) -> bool:
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
class Plan:
    """What a run would change in the output folder."""

    files: dict[str, OutFile]
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)  # index entries outside the scope

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
        if not isinstance(files, dict) or not all(_index_entry_ok(k, v) for k, v in files.items()):
            raise TypeError
        return files
    except (ValueError, KeyError, TypeError, OSError):
        raise OutputError(
            f"{path} is not an index gen wrote", hint="restore it from version control or remove the folder"
        ) from None


_OWNER_KEYS = frozenset({"env", "namespace", "deployment", "profile"})


def _index_entry_ok(path: object, entry: object) -> bool:
    """An entry gen could have written: a plain relative path inside the folder, and an owner."""
    if not isinstance(path, str) or not isinstance(entry, dict):
        return False
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        return False  # a tampered index must not make gen link or copy files outside --out
    owner = entry.get("owner", {})
    return (
        isinstance(owner, dict)
        and {"env", "namespace"} <= set(owner) <= _OWNER_KEYS
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
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            yield os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")


def plan(out: Path, rendered: Iterable[OutFile], scope: Scope, *, force: bool = False) -> Plan:
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
        owner = Owner(**entry.get("owner", {}))
        if path in files:
            continue
        if scope.covers(owner):
            result.extra.append(path)
        else:
            result.kept[path] = entry
    result.extra.extend(p for p in unowned if p not in files)
    for path, f in files.items():
        target = out / path
        if not target.is_file():
            result.missing.append(path)
        elif target.read_bytes() != f.content.encode():
            result.stale.append(path)
        else:
            result.unchanged.append(path)
    result.extra.sort()
    result.missing.sort()
    result.stale.sort()
    return result


def _index_text(entries: Mapping[str, Mapping[str, Any]]) -> str:
    return json.dumps({"version": 1, "files": dict(sorted(entries.items()))}, indent=1, sort_keys=True) + "\n"


def _entry(f: OutFile) -> dict[str, Any]:
    owner = {"env": f.owner.env, "namespace": f.owner.namespace}
    if f.owner.deployment:
        owner["deployment"] = f.owner.deployment
    if f.owner.profile:
        owner["profile"] = f.owner.profile
    return {"sha256": f.sha256, "owner": owner}


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
            entries[path] = _entry(f)
        (tmp / INDEX).write_text(_index_text(entries), encoding="utf-8")
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
