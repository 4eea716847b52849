"""What ``--lifecycle`` and ``--faults`` share: the time scale, the smoke job's control, the steps
and the alerts Prometheus recorded since a moment of the run.

Both run on the live local cluster after the ordinary checks, with the deployment's rules on a
compressed clock (every duration of the alert settings and the checkpoint interval divided by
:data:`TIME_SCALE`; Flink's own timeouts and restart delays are left as configured). Each step is
recorded with its time; the first one that fails is the run's no-go.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from generator.render.alert_settings import AlertSettings, scaled
from generator.render.alerts import alert_settings_from_mapping, alert_target
from generator.smoke import alert_watch, http, job, verify_job
from generator.smoke.session import NoGo, Session

__all__ = [
    "TIME_SCALE",
    "Steps",
    "first_firing",
    "job_args",
    "scaled_settings",
    "start_job",
    "wait_checkpoints",
]

TIME_SCALE = 10
T = TypeVar("T")


def scaled_settings(session: Session) -> AlertSettings:
    from generator import model

    return scaled(alert_settings_from_mapping(model.of(session.target.effective).alerts), session.time_scale)


def checkpoint_interval_ms(session: Session) -> int:
    """The configured checkpoint interval on the run's clock (1 s when checkpointing is off)."""
    from generator import model

    facts = model.of(session.target.effective)
    target = alert_target(facts.name, facts.kubernetes_namespace, 1, facts.conf)
    return max(500, (target.checkpoint_interval_ms or 1000 * session.time_scale) // session.time_scale)


def job_args(session: Session, name: str, fail_after: int = -1, slow_ms: int = 0, rate: int = 100) -> tuple[str, ...]:
    return (str(checkpoint_interval_ms(session)), str(fail_after), name, str(slow_ms), str(rate))


class Steps:
    """The steps of a scenario, recorded into ``report.scenario``."""

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.started = time.monotonic()
        session.report.scenario = {"name": name, "time_scale": session.time_scale, "steps": [], "faults": []}

    def run(self, name: str, action: Callable[[], str]) -> None:
        """Run one step: ``action`` returns its detail or raises the run's no-go."""
        t0 = time.monotonic()
        self.session.progress(f"{name} ...", False)
        try:
            detail = action()
        except (job.JobError, http.HttpError) as exc:
            self._record(name, False, str(exc), t0)
            raise self.session.fail(name, str(exc)) from None
        except NoGo as exc:
            self._record(name, False, exc.reason, t0)
            raise
        self._record(name, True, detail, t0)
        self.session.ok(name, f"{detail} ({time.monotonic() - t0:.1f}s)")

    def _record(self, name: str, ok: bool, detail: str, t0: float) -> None:
        self.session.report.scenario["steps"].append(
            {"name": name, "ok": ok, "detail": detail, "seconds": round(time.monotonic() - t0, 1)}
        )

    def fault(
        self, alert: str, fault: str, outcome: str, seconds: float | None, within: float | None, at: float | None
    ) -> None:
        """One alert's verdict; ``at``: when its fault was injected (Unix time)."""
        since = round(at - self.session.prom_started, 1) if at is not None else None
        self.session.report.scenario["faults"].append(
            {
                "alert": alert,
                "fault": fault,
                "outcome": outcome,
                "seconds": seconds,
                "expected_within": within,
                "injected_after_prometheus_start": since,
            }
        )


def start_job(
    session: Session,
    name: str,
    fail_after: int = -1,
    savepoint: str | None = None,
    slow_ms: int = 0,
    rate: int = 100,
) -> str:
    assert session.jar is not None
    return job.submit(session.rest, session.jar, job_args(session, name, fail_after, slow_ms, rate), savepoint)


def wait_checkpoints(session: Session, job_id: str, at_least: int) -> job.CheckpointCounts:
    """Until the job is RUNNING with ``at_least`` completed checkpoints (it may restart meanwhile)."""
    return verify_job.wait_checkpoints(session, job_id, at_least, f"{at_least} completed checkpoint(s)", "job")


def wait_savepoint(session: Session, job_id: str, trigger: str) -> str:
    def probe() -> tuple[str | None, str]:
        try:
            done, path, failure = job.savepoint_status(session.rest, job_id, trigger)
        except http.HttpError as exc:
            return None, str(exc)
        if failure:
            raise session.fail("savepoint", failure)
        return (path if done else None), "in progress"

    return session.wait("the savepoint", probe)


def wait_state(session: Session, job_id: str, states: tuple[str, ...]) -> str:
    def probe() -> tuple[str | None, str]:
        try:
            state = job.job_state(session.rest, job_id)
        except http.HttpError as exc:
            return None, str(exc)
        return (state if state in states else None), f"job {state}"

    return session.wait(f"the job to be {' or '.join(states)}", probe)


def first_firing(session: Session, alert: str, since: float, **labels: str) -> float | None:
    """Seconds from ``since`` (Unix time) to the first evaluation that had ``alert`` firing."""
    try:
        seen = alert_watch.alert_history(session.prom_base, since)
    except http.HttpError:
        return None
    times = [
        a.first_firing
        for a in seen
        if a.name == alert and a.first_firing is not None and all(a.labels.get(k) == v for k, v in labels.items())
    ]
    return min(times) if times else None


def wait_for_alert(session: Session, alert: str, since: float, within: float, **labels: str) -> float | None:
    """Poll until ``alert`` fires (seconds after ``since``) or ``within`` seconds passed (None)."""
    while True:
        fired = first_firing(session, alert, since, **labels)
        if fired is not None:
            return fired
        if time.time() - since > within:
            return None
        session.check_alive(f"{alert} to fire")
        session.progress(f"waiting for {alert} to fire (at most {within:.0f}s)", False)
        time.sleep(1.0)


def checkpoint_folder(session: Session, job_id: str) -> Path:
    """The job's folder in the run's checkpoint storage."""
    local = session.local
    assert local is not None
    base = next(v for k, v in local.conf.items() if k in ("execution.checkpointing.dir", "state.checkpoints.dir"))
    return Path(base.removeprefix("file://").removeprefix("file:")) / job_id


def hold(session: Session, seconds: float, what: str) -> None:
    """Keep the cluster running for ``seconds`` (the processes must stay up)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        session.check_alive(what)
        session.progress(f"{what} ({seconds:.0f}s)", False)
        time.sleep(1.0)


def detail(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items())
