"""One smoke run: adapt, boot, check, stop, report.

The run boots one JobManager, the TaskManagers and a Prometheus at once (the JVMs start in
parallel), then checks, in order, each with the run's deadline:

1. the JobManager's REST API answers ``/overview``;
2. every TaskManager registered: ``/overview`` and ``/taskmanagers`` count them, each has the
   configured slots, ``slots-total`` = TaskManagers x slots, the memory Flink computed for a
   TaskManager and the JobManager JVM's memory flags equal gen's memory model to the byte;
3. each process' Prometheus reporter answers with ``flink_*`` series;
4. Prometheus: every target up, every rule group loaded and evaluated on the live series without
   an error; the deployment's availability rules see the JobManager and the registered
   TaskManagers (the label contract holds);
5. optionally (``--job``) a tiny job completes a checkpoint, also seen in Prometheus.

The first failing check is the no-go reason; a process that exits early is one too, with Flink's
own error from its output. Every process is stopped at the end, also on failure and interruption.

The steps live in their own modules: ``prepare`` (the local configuration and its files), ``boot``
(start and stop the processes), ``verify_flink``, ``verify_prometheus`` and ``verify_job`` (the
checks), on the state of ``session``; ``report`` holds the verdict and its text.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.smoke.alert_watch import describe
from generator.smoke.boot import boot_flink, boot_prometheus, stop
from generator.smoke.prepare import prepare
from generator.smoke.report import Check, SmokeInterrupted, SmokeReport
from generator.smoke.session import NoGo, Progress, Session
from generator.smoke.supervise import interruptible, shielded
from generator.smoke.target import SmokeTarget
from generator.smoke.tools import Tools
from generator.smoke.verify_flink import verify_cluster, verify_reporters
from generator.smoke.verify_job import compile_job, run_job
from generator.smoke.verify_prometheus import collect_alerts, paging_alerts_fired, verify_prometheus

__all__ = ["DEFAULT_MAX_TASKMANAGERS", "DEFAULT_TIMEOUT", "SmokeOptions", "run_smoke"]

DEFAULT_MAX_TASKMANAGERS = 4
DEFAULT_TIMEOUT = 180.0


def _silent(text: str, done: bool) -> None:
    return None


@dataclass(frozen=True)
class SmokeOptions:
    max_taskmanagers: int = DEFAULT_MAX_TASKMANAGERS
    job: bool = False
    timeout: float = DEFAULT_TIMEOUT  # seconds from the start of the processes to the last check
    keep: bool = False  # keep the run folder (configuration, logs, checkpoints)
    fast_jvm: bool = True  # adapt.FAST_JVM_OPTS
    work_root: Path | None = None  # where the run folder is created (default: the temp folder)
    # --lifecycle / --faults: runs after the checks, on the live cluster (see generator.smoke.scenario)
    scenario: Callable[[Session], None] | None = None
    time_scale: int = 1  # the rules' durations divided by this (the scenarios' compressed clock)


def _alert_verdict(session: Session, healthy: bool) -> None:
    """List every alert of the run; a paging alert that fired makes a healthy run a no-go
    (--faults and --lifecycle judge the alerts step by step themselves)."""
    seen = collect_alerts(session)
    fired = paging_alerts_fired(session, seen)
    if healthy and fired and session.report.go:
        names = ", ".join(sorted({a.name for a in fired}))
        session.report.go = False
        session.report.reason = f"alerts: {names} fired during a healthy run"
        session.report.checks.append(Check("alerts", False, "; ".join(describe(a) for a in fired)))
    elif healthy and session.report.go:
        session.report.checks.append(
            Check("alerts", True, f"no paging alert fired in the run ({len(seen)} pending or firing)")
        )


def run_smoke(
    target: SmokeTarget, tools: Tools, options: SmokeOptions | None = None, progress: Progress = _silent
) -> SmokeReport:
    """Boot the target's configuration locally and check it; every started process is stopped
    before this returns or raises (:class:`SmokeInterrupted` on Ctrl-C/SIGTERM/SIGHUP)."""
    options = options or SmokeOptions()
    session = Session(target, tools, progress, options.timeout, options.work_root)
    session.time_scale = options.time_scale
    report = session.report
    interrupted = False
    try:
        with interruptible():
            try:
                prepare(session, options.max_taskmanagers, options.fast_jvm)
                boot_flink(session)
                boot_prometheus(session)
                if options.job or options.scenario is not None:
                    compile_job(session)
                verify_cluster(session)
                verify_reporters(session)
                verify_prometheus(session)
                if options.job and options.scenario is None:
                    run_job(session)
                if options.scenario is not None:
                    options.scenario(session)
                report.go = True
            except NoGo as exc:
                report.reason = exc.reason
                report.flink_errors = exc.errors
    except KeyboardInterrupt:
        interrupted = True
    finally:
        with shielded():
            if not interrupted:
                _alert_verdict(session, options.scenario is None)
            stop(session)
            report.timings["total"] = round(time.monotonic() - session.t0, 2)
            if options.keep:
                report.run_dir = str(session.run_dir)
            else:
                shutil.rmtree(session.run_dir, ignore_errors=True)
    if interrupted:
        report.interrupted = True
        report.go = False
        report.reason = "interrupted"
        raise SmokeInterrupted(report)
    return report
