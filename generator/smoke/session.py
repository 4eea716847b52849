"""The state one smoke run shares between its steps, and how a step waits, passes and fails.

A step records each check it passes (:meth:`Session.ok`) and raises the :class:`NoGo` that
:meth:`Session.fail` returns for the first check that fails. :meth:`Session.wait` polls until a
probe gives a result, the run's deadline passes or one of the run's processes exits.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from generator.smoke.adapt import LocalConfig
from generator.smoke.diagnose import flink_errors, prometheus_errors, summarize
from generator.smoke.ports import PortPicker
from generator.smoke.report import Check, SmokeReport
from generator.smoke.supervise import Proc, Supervisor
from generator.smoke.target import RuleSource, SmokeTarget
from generator.smoke.tools import Tools

__all__ = ["NoGo", "Progress", "Session"]

_POLL = 0.25
T = TypeVar("T")
Progress = Callable[[str, bool], None]  # (text, done): a finished step when done, else what it waits for


class NoGo(Exception):
    """The first failed check of a run: its reason and the errors the processes reported."""

    def __init__(self, reason: str, errors: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


class Session:
    """One run: what it boots, where, its processes and ports, its report and its deadline.

    ``timeout`` is the seconds from the start of the processes to the last check; the run folder is
    created in ``work_root`` (default: the temp folder).
    """

    def __init__(
        self, target: SmokeTarget, tools: Tools, progress: Progress, timeout: float, work_root: Path | None
    ) -> None:
        self.target = target
        self.tools = tools
        self.timeout = timeout
        self.progress = progress
        eff = target.effective
        self.report = SmokeReport(
            deployment=eff.deployment,
            namespace=eff.namespace,
            env=eff.env,
            profile=eff.profile,
            flink_configured=eff.flink_version,
            flink_local=tools.flink_version,
            flink_home=str(tools.flink_home),
            java=tools.java_version,
            prometheus=tools.prometheus_version,
            rules_origin="",
            notes=list(target.notes),
        )
        self.run_dir = Path(tempfile.mkdtemp(prefix="gen-smoke-", dir=work_root))
        self.sup = Supervisor(self.run_dir)
        self.ports = PortPicker()
        self.local: LocalConfig | None = None
        self.flink: dict[str, Proc] = {}
        self.prom: Proc | None = None
        self.prom_base = ""
        self.prom_port = 0
        self.rules: RuleSource | None = None
        self.rest = ""
        self.t0 = time.monotonic()
        self.deadline = self.t0 + timeout
        self.jar: Path | None = None
        self.prom_started = 0.0  # Unix time Prometheus started: the alert watch covers the run from here
        self.time_scale = 1  # --lifecycle/--faults: the rules' durations divided by this
        self.stopped_on_purpose: set[str] = set()  # processes a scenario killed: their exit is no no-go

    def ok(self, name: str, detail: str) -> None:
        """Record a passed check."""
        self.report.checks.append(Check(name, True, detail))
        self.progress(f"ok  {name}: {detail}", True)

    def fail(self, name: str, detail: str, errors: list[str] | None = None) -> NoGo:
        """Record a failed check; the caller raises the returned no-go."""
        self.report.checks.append(Check(name, False, detail))
        self.progress(f"FAIL {name}: {detail}", True)
        return NoGo(f"{name}: {detail}", errors)

    def mark(self, name: str) -> float:
        """Record the seconds since the processes started as the timing ``name``."""
        elapsed = round(time.monotonic() - self.t0, 2)
        self.report.timings[name] = elapsed
        return elapsed

    def check_alive(self, waiting_for: str) -> None:
        """No-go when a process has exited, with the errors it reported."""
        for proc in self.sup.exited():
            if proc.name in self.stopped_on_purpose:
                continue
            output = proc.output()
            if proc is self.prom:
                errors = prometheus_errors(output) or output.strip().splitlines()[-3:]
            else:
                errors = flink_errors(output) or output.strip().splitlines()[-3:]
            said = f"; {'Prometheus' if proc is self.prom else 'Flink'} says: {summarize(errors)}" if errors else ""
            raise self.fail(
                f"{proc.name} running",
                f"{proc.name} exited with code {proc.returncode()} (gen smoke was waiting for {waiting_for}){said}",
                errors,
            )

    def wait(self, what: str, probe: Callable[[], tuple[T | None, str]]) -> T:
        """Poll ``probe`` (result or None, and a status text) until it gives a result."""
        while True:
            self.check_alive(what)
            result, status = probe()
            if result is not None:
                return result
            # every poll: the caller decides how often to show it
            self.progress(f"waiting for {what}" + (f" ({status})" if status else ""), False)
            if time.monotonic() > self.deadline:
                errors = [e for p in self.flink.values() for e in flink_errors(p.output(), 2)]
                raise self.fail(
                    what,
                    f"not reached within {self.timeout:.0f}s" + (f"; last: {status}" if status else ""),
                    errors,
                )
            time.sleep(_POLL)
