"""``gen smoke --faults``: inject the faults the alerts exist for and prove each alert fires in time.

On the local cluster, with the rules on the run's compressed clock:

1. a job that keeps failing (it throws after some records, every attempt): FlinkJobRestarting;
2. a job whose sink is slower than its input: FlinkBackpressureSustained on the source task;
3. checkpoint storage refusing writes for a job that has run past the startup grace (the folders of
   its next checkpoints are taken by files, which stops root too): FlinkCheckpointFailures, then
   FlinkCheckpointToleranceReached;
4. a TaskManager killed and kept down: FlinkTaskManagersMissing;
5. the JobManager killed: FlinkJobManagerDown.

Each alert must fire within the time the rules and Flink allow (documented in docs/alerts.md);
the alerts whose signal only a cluster produces are listed as not provable locally.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from generator import model, units
from generator.render.alert_settings import duration_seconds
from generator.smoke import boot, http, job
from generator.smoke.report import Check
from generator.smoke.scenario import (
    Steps,
    checkpoint_folder,
    checkpoint_interval_ms,
    hold,
    scaled_settings,
    start_job,
    wait_checkpoints,
    wait_for_alert,
    wait_state,
)
from generator.smoke.session import Session
from generator.smoke.verify_prometheus import collect_alerts

__all__ = ["NOT_PROVABLE", "run_faults"]

# Flink's Prometheus reporter writes job_name with "_" for "-": names that survive it unchanged
HEALTHY, FAILING, SLOW = "gen_smoke", "gen_smoke_failing", "gen_smoke_slow"
# 10,000 records/s into a sink that holds each 1 ms (under 1,000 records/s): the network buffers
# between source and sink fill within seconds and the source is back-pressured most of the time
SLOW_MS, SLOW_RATE = 1, 10_000
FAIL_AFTER = 500  # records (5 s at 100 records/s): each attempt runs, then fails; 3 restarts fit the window
SLACK = 10.0  # scrape, evaluation and query latency on a busy machine
HOLD = 5.0  # seconds an alert is left firing before the next step (the recorded series show it)

NOT_PROVABLE = {
    "FlinkContainerOOMKilled": "needs kube-state-metrics of a container the kernel OOM-killed",
    "FlinkPodEvicted": "needs kube-state-metrics of an evicted pod",
    "FlinkPodRestarting": "needs kube-state-metrics of restarting containers",
    "FlinkCPUThrottlingHigh": "needs cAdvisor's CFS throttling of a container with a CPU limit",
    "FlinkSourceLagGrowing": "needs a source with a backlog (Kafka) that the job cannot keep up with",
    "FlinkCheckpointDurationHigh": "not injected: needs checkpoints slower than their baseline for hours",
}


def _seconds(conf: dict[str, str], key: str, default: float) -> float:
    return units.parse_duration_ms(conf[key]) / 1000 if conf.get(key) else default


def _restart_delay(conf: dict[str, str]) -> float:
    kind = conf.get("restart-strategy.type", "exponential-delay").lower()
    keys = {
        "failure-rate": "restart-strategy.failure-rate.delay",
        "failurerate": "restart-strategy.failure-rate.delay",
        "fixed-delay": "restart-strategy.fixed-delay.delay",
        "fixeddelay": "restart-strategy.fixed-delay.delay",
    }
    if kind in keys:
        return _seconds(conf, keys[kind], 1.0)
    return _seconds(conf, "restart-strategy.exponential-delay.max-backoff", 60.0)


def run_faults(session: Session) -> None:
    try:
        _run_faults(session)
    except (job.JobError, http.HttpError) as exc:
        raise session.fail("faults", str(exc)) from None


def _run_faults(session: Session) -> None:
    steps = Steps(session, "faults")
    s = scaled_settings(session)
    conf = dict(model.of(session.target.effective).conf)
    ids: dict[str, str] = {}
    interval = checkpoint_interval_ms(session) / 1000
    grace = duration_seconds(s.startup_grace) + duration_seconds(s.checkpoint_failures_window)

    def start() -> str:
        ids[HEALTHY] = start_job(session, HEALTHY)
        counts = wait_checkpoints(session, ids[HEALTHY], 2)
        ids["started"] = str(time.time())
        return f"job {HEALTHY} RUNNING, {counts.completed} checkpoints every {interval:g}s"

    steps.run("start the healthy job", start)

    # 1. a job that keeps failing
    t0 = time.time()
    ids[FAILING] = start_job(session, FAILING, fail_after=FAIL_AFTER)
    per_attempt = _restart_delay(conf) + FAIL_AFTER / 100 + 5
    within = s.restarts_threshold * per_attempt + duration_seconds(s.restarts_for) + SLACK
    fired = wait_for_alert(session, "FlinkJobRestarting", t0, within, job_name=FAILING)
    _judge(steps, session, "FlinkJobRestarting", f"a job that fails every {FAIL_AFTER // 100}s", fired, within, t0)
    hold(session, HOLD, "the restart alert to keep firing")
    job.cancel(session.rest, ids[FAILING])
    wait_state(session, ids[FAILING], ("CANCELED", "FAILED"))

    # 2. a sink slower than the input: the source task is back-pressured
    ids[SLOW] = start_job(session, SLOW, slow_ms=SLOW_MS, rate=SLOW_RATE)
    wait_state(session, ids[SLOW], ("RUNNING",))
    t0 = time.time()
    within = duration_seconds(s.backpressure_window) + duration_seconds(s.backpressure_for) + 20 + SLACK
    fired = wait_for_alert(session, "FlinkBackpressureSustained", t0, within, job_name=SLOW)
    _judge(
        steps,
        session,
        "FlinkBackpressureSustained",
        f"a sink that takes {SLOW_MS} ms a record, {SLOW_RATE} records/s",
        fired,
        within,
        t0,
    )
    hold(session, HOLD, "the backpressure alert to keep firing")
    job.cancel(session.rest, ids[SLOW])

    # 3. checkpoint storage refuses writes, once the healthy job has run past the grace
    ready = float(ids["started"]) + grace + 2 * interval
    while time.time() < ready:
        session.check_alive("the healthy job to run past the startup grace")
        session.progress(f"waiting {ready - time.time():.0f}s for the job to run past the startup grace", False)
        time.sleep(1.0)
    blocked = _block_checkpoints(session, ids[HEALTHY])
    t0 = time.time()
    within = interval + duration_seconds(s.checkpoint_failures_for) + SLACK
    fired = wait_for_alert(session, "FlinkCheckpointFailures", t0, within, job_name=HEALTHY)
    _judge(steps, session, "FlinkCheckpointFailures", "checkpoint storage refusing writes", fired, within, t0)
    streak = max(int(conf.get("execution.checkpointing.tolerable-failed-checkpoints") or 0), 1)
    within = (streak + 1) * interval + SLACK
    fired = wait_for_alert(session, "FlinkCheckpointToleranceReached", t0, within, job_name=HEALTHY)
    _judge(steps, session, "FlinkCheckpointToleranceReached", "checkpoint storage refusing writes", fired, within, t0)
    hold(session, HOLD, "the checkpoint alerts to keep firing")
    for path in blocked:
        path.unlink(missing_ok=True)
    job.cancel(session.rest, ids[HEALTHY])

    # 4. a TaskManager killed and kept down
    local = session.local
    assert local is not None
    victim = local.processes[-1].name
    boot.kill(session, victim)
    t0 = time.time()
    detect = _seconds(conf, "heartbeat.timeout", 50.0)
    within = detect + duration_seconds(s.taskmanagers_missing_for) + SLACK
    fired = wait_for_alert(session, "FlinkTaskManagersMissing", t0, within)
    _judge(steps, session, "FlinkTaskManagersMissing", f"{victim} killed and kept down", fired, within, t0)
    hold(session, HOLD, "the TaskManager alert to keep firing")

    # 5. the JobManager killed
    boot.kill(session, "jobmanager")
    t0 = time.time()
    within = duration_seconds(s.jobmanager_down_for) + SLACK
    fired = wait_for_alert(session, "FlinkJobManagerDown", t0, within)
    _judge(steps, session, "FlinkJobManagerDown", "the JobManager killed", fired, within, t0)

    hold(session, HOLD, "the JobManager alert to keep firing")  # and the record below to hold it
    for alert, why in NOT_PROVABLE.items():
        steps.fault(alert, why, "not provable locally", None, None, None)
    collect_alerts(session)
    failed = [f for f in session.report.scenario["faults"] if f["outcome"] not in ("fired", "not provable locally")]
    if failed:
        names = ", ".join(f["alert"] for f in failed)
        raise session.fail("faults", f"{names} did not fire within the expected time")
    proven = sum(1 for f in session.report.scenario["faults"] if f["outcome"] == "fired")
    session.ok("faults", f"{proven} alerts fired within their expected time; {len(NOT_PROVABLE)} not provable locally")


def _judge(
    steps: Steps, session: Session, alert: str, fault: str, fired: float | None, within: float, t0: float
) -> None:
    outcome = "fired" if fired is not None and fired <= within else "silent"
    steps.fault(alert, fault, outcome, fired, within, t0)
    if outcome == "fired":
        session.ok(alert, f"fired {fired:.1f}s after {fault} (expected within {within:.0f}s)")
    else:
        session.report.checks.append(Check(alert, False, f"silent {within:.0f}s after {fault}"))


def _block_checkpoints(session: Session, job_id: str) -> list[Path]:
    """Take the folder names of the job's next checkpoints with files: the JobManager cannot create
    them (a storage that refuses writes, also for root, which permissions would not stop)."""
    folder = checkpoint_folder(session, job_id)
    try:
        latest = int(http.get_json(f"{session.rest}/jobs/{job_id}/checkpoints")["latest"]["completed"]["id"])
    except (http.HttpError, KeyError, TypeError, ValueError):
        latest = 0
    blocked = []
    for n in range(latest + 1, latest + 1 + 2000):
        path = folder / f"chk-{n}"
        if not path.exists():
            path.write_bytes(b"")
            blocked.append(path)
    shutil.disk_usage(folder)  # the folder exists: the files were written where Flink writes
    return blocked
