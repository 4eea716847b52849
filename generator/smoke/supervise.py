"""Start processes so that they can always be stopped, and stop them.

Every process runs in its own session (process group), so a terminal's Ctrl-C reaches only
``gen``, which then stops the processes in order. Each is stopped as a whole group: SIGTERM,
a grace period, then SIGKILL. Where ``setpriv`` exists (util-linux), the processes also get a
parent-death signal: if ``gen`` itself is killed with SIGKILL, the kernel kills them too (the
start scripts ``exec`` the JVM, so the signal setting reaches it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

__all__ = ["Proc", "Supervisor", "interruptible", "shielded"]

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def returncode(self) -> int | None:
        return self.popen.poll()

    def output(self, limit: int = 400_000) -> str:
        """The process' output so far (the last ``limit`` bytes)."""
        try:
            with open(self.log, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - limit))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Supervisor:
    """The processes of one run. ``stop_all`` is idempotent and never raises for a gone process."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.procs: list[Proc] = []
        self._setpriv = shutil.which("setpriv")

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str], log: Path) -> Proc:
        wrapper = [self._setpriv, "--pdeathsig", "KILL", "--"] if self._setpriv else []
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                [*wrapper, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=self.cwd,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def exited(self) -> list[Proc]:
        return [p for p in self.procs if p.returncode() is not None]

    def stop_all(self, grace: float = 10.0) -> list[Proc]:
        """SIGTERM every process group, wait up to ``grace`` seconds, SIGKILL what is left.

        Returns the processes that had to be killed.
        """
        for proc in self.procs:
            if proc.returncode() is None:
                _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        killed = [p for p in self.procs if p.returncode() is None]
        for proc in self.procs:
            # the group may hold children of a leader that is gone already (the start scripts' helpers)
            _signal_group(proc.pid, signal.SIGKILL)
        for proc in killed:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=10)
        return killed


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """While active, SIGTERM and SIGHUP raise KeyboardInterrupt like Ctrl-C does, so that
    ``finally`` blocks stop the processes. Only in the main thread (signals are delivered there)."""
    if not _in_main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
    for sig in _STOP_SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP while the processes are being stopped (a second Ctrl-C
    must not leave them running); the stop itself is bounded by its grace period."""
    if not _in_main_thread():
        yield
        return
    sigs = (signal.SIGINT, *_STOP_SIGNALS)
    previous = {sig: signal.getsignal(sig) for sig in sigs}
    for sig in sigs:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
