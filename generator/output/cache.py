"""The cache of rendered documents: a folder of entries, each written atomically and checked when read.

An entry is a value stored under a key (a hex digest that its caller computed from every input the
value depends on, see :mod:`generator.render.incremental`). What is stored is only ever a copy of what
a render computed; a wrong, damaged or foreign entry must never be used, so every entry carries:

- a magic line and the format version (a file of another format, or of another program, is ignored);
- the key it was stored under (an entry copied or renamed to another key is ignored);
- the SHA-256 of its payload (a truncated or corrupted file is ignored).

Anything that does not check out is a miss: the value is computed again and stored anew. Entries are
written to a temporary file in the same folder and renamed into place (:func:`os.replace`), so a
reader sees a whole entry or none, and concurrent runs sharing one cache folder never see each
other's half-written files; two runs storing the same key store the same value. The cache is bounded:
when a run stored entries, the least recently used ones (by modification time, which a hit renews)
are removed until the folder holds at most :func:`limit_bytes` (measured by listing the folder, or,
while that is well below the limit, by the last measurement and what runs stored since: see
:meth:`Cache.prune`).

Where it lives: ``--cache-dir``, else ``$GEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/gen``, else
``~/.cache/gen`` (:func:`default_folder`). The payload is a pickle: the cache folder must be as
trusted as the configuration itself (a CI cache of the same repository, a developer's home folder).
Where a cache can be written by jobs that are not trusted (a CI cache that pull requests from forks
restore and save), ``$GEN_CACHE_KEY`` names a secret: every entry then carries the HMAC-SHA256 of its
payload under that key instead of its SHA-256, and an entry whose HMAC does not check out (written
without the secret, or with another) is a miss and never unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from generator.output.index import F, Plan, Scope, plan, seen_files

FORMAT = b"gen-render-cache 1\n"
SIZE_FILE = "size"  # the size of the folder as the last prune measured it, and what runs stored since
_SIZE_FORMAT = "gen-render-cache-size 1"
# the folder is measured again at least this often, whatever the record says (runs storing at the
# same time may each miss the other's bytes in it)
SCAN_EVERY_NS = 3600 * 10**9
ENV_DIR = "GEN_CACHE_DIR"
ENV_LIMIT = "GEN_CACHE_MAX_MB"
ENV_KEY = "GEN_CACHE_KEY"
DEFAULT_LIMIT_MB = 1024
_SUFFIX = ".entry"


def default_folder() -> Path:
    """``$GEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/gen``, else ``~/.cache/gen``."""
    explicit = os.environ.get(ENV_DIR)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "gen"


def limit_bytes() -> int:
    """The size the cache folder is pruned to: ``$GEN_CACHE_MAX_MB`` megabytes (default 1024)."""
    try:
        mb = int(os.environ.get(ENV_LIMIT, DEFAULT_LIMIT_MB))
    except ValueError:
        mb = DEFAULT_LIMIT_MB
    return max(mb, 1) << 20


class Cache:
    """A cache folder. ``get`` answers ``None`` for anything it cannot vouch for; ``put`` never
    fails a render (a read-only or full disk only means nothing is stored)."""

    def __init__(self, folder: Path, limit: int | None = None, secret: bytes | None = None) -> None:
        self.folder = folder
        self.limit = limit_bytes() if limit is None else limit
        if secret is None:
            named = os.environ.get(ENV_KEY)
            secret = named.encode() if named else None
        self.secret = secret  # entries are signed with it (HMAC-SHA256), and only signed ones are read
        self._seen: dict[str, dict[str, Any]] = {}
        self.stored = 0  # entries this process wrote
        self.stored_bytes = 0  # their size
        self.hits = 0
        self.misses = 0
        # inside deferred(): what this process put, stored by flush(); and whether prune() was asked for
        self._pending: dict[str, Any] | None = None
        self._pending_pid = 0
        self._prune_pending = False

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / (key + _SUFFIX)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Inside the block, :meth:`put` keeps entries in memory (:meth:`get` finds them there) until
        :meth:`flush`, which stores them, or the end of the block. A render flushes while the previous
        output tree is removed (:func:`generator.output.swap.write`): pickling and writing the
        entries (a tenth of a render after one deployment changed) then overlaps that removal. The
        values must not change once put. A process forked inside the block stores its own entries at
        once."""
        self._pending, self._pending_pid = {}, os.getpid()
        try:
            yield
        finally:
            self.flush()
            self._pending = None

    def flush(self) -> None:
        """Store what :meth:`put` kept in memory (and prune, if that was asked for meanwhile)."""
        kept = self._kept()
        if kept is None:
            return
        self._pending = {}
        for key, value in kept.items():
            self._store(key, value)
        if self._prune_pending:
            self._prune_pending = False
            self.prune()

    def _kept(self) -> dict[str, Any] | None:
        """The entries kept in memory, inside :meth:`deferred` and in the process that entered it."""
        return self._pending if self._pending_pid == os.getpid() else None

    def get(self, key: str) -> Any | None:
        kept = self._kept()
        if kept and key in kept:
            self.hits += 1
            return kept[key]
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                blob = handle.read()
        except OSError:
            self.misses += 1
            return None
        value = _decode(blob, key, self.secret)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: pruned last
        return value

    def touch(self, key: str) -> None:
        """Mark an entry recently used without reading it (pruned last, like one that was read)."""
        with contextlib.suppress(OSError):
            os.utime(self._path(key))

    def forget(self, key: str) -> None:
        """Remove an entry (one found to be of no use: the next run computes and stores it anew)."""
        kept = self._kept()
        if kept:
            kept.pop(key, None)
        with contextlib.suppress(OSError):
            os.unlink(self._path(key))

    def put(self, key: str, value: Any) -> None:
        kept = self._kept()
        if kept is not None:
            kept[key] = value
        else:
            self._store(key, value)

    def _store(self, key: str, value: Any) -> None:
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # something a renderer made that cannot be stored: it is simply not cached
            return
        blob = FORMAT + key.encode() + b"\n" + _checksum(payload, self.secret) + b"\n" + payload
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, blob)
        except OSError:
            return
        self.stored += 1
        self.stored_bytes += len(blob)

    def seen(self, out: Path) -> dict[str, Any]:
        """What the last run on the output folder ``out`` knew of its files (:func:`index.seen_files`)."""
        key = _seen_key(out)
        if key not in self._seen:
            found = self.get(key)
            self._seen[key] = found if isinstance(found, dict) else {}
        return self._seen[key]

    def keep_seen(self, out: Path, seen: dict[str, Any]) -> None:
        if seen != self.seen(out):
            self.put(_seen_key(out), seen)
            self._seen[_seen_key(out)] = seen

    def prune(self) -> None:
        """Remove the least recently used entries when the folder holds more than 90 % of the limit
        (down to 80 % of it, so that a full cache is not pruned on every run).

        Measuring the folder takes a system call per entry (23 ms for 5,300 entries), so each
        measurement is recorded (:data:`SIZE_FILE`): the bytes it found (after pruning), when, and
        the bytes runs stored since. A run whose own entries keep that sum within 90 % of the limit
        adds them to the record instead of measuring, unless the measurement is older than
        :data:`SCAN_EVERY_NS`: the folder is measured once for every tenth of the limit stored.
        Inside :meth:`deferred`, it prunes when the entries kept in memory are stored."""
        if self._kept():
            self._prune_pending = True
            return
        if not self.stored:
            return
        now = time.time_ns()
        record = self._size_record()
        if record is not None:
            measured, when, added = record
            added += self.stored_bytes
            if measured + added <= self.limit * 9 // 10 and 0 <= now - when < SCAN_EVERY_NS:
                self._keep_size(measured, when, added)
                return
        entries: list[tuple[float, int, str]] = []
        total = 0
        try:
            with os.scandir(self.folder) as shards:
                for shard in shards:
                    if not shard.is_dir(follow_symlinks=False):
                        continue
                    with os.scandir(shard.path) as files:
                        for entry in files:
                            if not entry.name.endswith(_SUFFIX):
                                continue
                            info = entry.stat(follow_symlinks=False)
                            entries.append((info.st_mtime, info.st_size, entry.path))
                            total += info.st_size
        except OSError:
            return
        if total > self.limit * 9 // 10:
            goal = self.limit * 4 // 5
            for _, size, path in sorted(entries):
                if total <= goal:
                    break
                try:
                    os.unlink(path)
                except OSError:
                    continue
                total -= size
        self._keep_size(total, now, 0)

    def _size_record(self) -> tuple[int, int, int] | None:
        """(bytes measured, when in ns, bytes stored since) from :data:`SIZE_FILE`, or ``None``."""
        try:
            with open(self.folder / SIZE_FILE, encoding="ascii") as handle:
                head, numbers = handle.read(200).split("\n")[:2]
            measured, when, added = (int(n) for n in numbers.split())
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if head != _SIZE_FORMAT or min(measured, when, added) < 0:
            return None
        return measured, when, added

    def _keep_size(self, measured: int, when: int, added: int) -> None:
        """Write :data:`SIZE_FILE` (a folder that cannot be written keeps none)."""
        with contextlib.suppress(OSError):
            _write_atomically(self.folder / SIZE_FILE, f"{_SIZE_FORMAT}\n{measured} {when} {added}\n".encode())


def _write_atomically(path: Path, data: bytes) -> None:
    """``data`` written to a temporary file beside ``path`` and renamed into place: a reader, in this
    run or another, sees the whole file or the one it replaces."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def planned(store: Cache | None, out: Path, rendered: Iterable[F], scope: Scope, *, force: bool = False) -> Plan[F]:
    """:func:`index.plan`, trusting the stamps of the files the last run on ``out`` compared or wrote
    (kept in ``store``), and keeping the stamps of the files this plan found unchanged."""
    if store is None:
        return plan(out, rendered, scope, force=force)
    result = plan(out, rendered, scope, force=force, seen=store.seen(out))
    store.keep_seen(out, seen_files(result, time.time_ns()))
    return result


def _seen_key(out: Path) -> str:
    """The key of what gen knows of the files of the output folder ``out`` (by its real path: on
    this machine; another machine's folder has other inodes, and its entry is simply never used)."""
    return hashlib.sha256(b"seen files\0" + os.fsencode(os.path.realpath(out))).hexdigest()


def _checksum(payload: bytes | memoryview, secret: bytes | None) -> bytes:
    """The SHA-256 of an entry's payload, or its HMAC-SHA256 under ``secret``, in hex."""
    if secret is None:
        return hashlib.sha256(payload).hexdigest().encode()
    return hmac.new(secret, payload, hashlib.sha256).hexdigest().encode()


def _decode(blob: bytes, key: str, secret: bytes | None = None) -> Any | None:
    """The value of an entry, or ``None`` if it is not a whole entry gen stored under ``key`` (with
    ``secret``, one signed with it)."""
    if not blob.startswith(FORMAT):
        return None
    head = len(FORMAT)
    key_end = blob.find(b"\n", head)
    sum_end = blob.find(b"\n", key_end + 1) if key_end >= 0 else -1
    if sum_end < 0 or blob[head:key_end] != key.encode():
        return None
    payload = memoryview(blob)[sum_end + 1 :]
    if not hmac.compare_digest(_checksum(payload, secret), blob[key_end + 1 : sum_end]):
        return None
    try:
        return pickle.loads(payload)
    except Exception:
        return None


__all__ = [
    "ENV_DIR",
    "ENV_KEY",
    "ENV_LIMIT",
    "SCAN_EVERY_NS",
    "SIZE_FILE",
    "Cache",
    "default_folder",
    "limit_bytes",
    "planned",
]
