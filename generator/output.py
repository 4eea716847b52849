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
    look-alikes (``on``, ``yes``, ``1.20``, ``0755``) quoted, no line folding."""
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
        if not isinstance(files, dict):
            raise TypeError
        return files
    except (ValueError, KeyError, TypeError):
        raise OutputError(
            f"{path} is not an index gen wrote", hint="restore it from version control or remove the folder"
        ) from None


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
    index = read_index(out)
    on_disk = set(_walk_files(out)) - {INDEX}
    if index is None:
        unowned = sorted(p for p in on_disk if p.rsplit("/", 1)[-1] not in KEEP_UNOWNED)
        if unowned and not force:
            shown = ", ".join(unowned[:5]) + (f" and {len(unowned) - 5} more" if len(unowned) > 5 else "")
            raise OutputError(
                f"{out} holds files gen did not write ({shown}); refusing to replace them",
                hint="choose an empty or gen-owned --out folder, or pass --force to replace its contents",
            )
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
def locked(out: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Serialise runs on one output folder: an exclusive flock on the folder that holds it
    (no lock file is left behind; the lock dies with the process)."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_libc: Any = None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name, use_errno=True) if name else False
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
        if not out.exists():
            os.rename(tmp, out)
            return
        if _exchange(tmp, out):
            shutil.rmtree(tmp)
            return
        old = out.parent / f".{out.name}.gen-old"
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
