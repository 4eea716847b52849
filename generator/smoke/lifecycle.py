"""``gen smoke --lifecycle``: the healthy life of a job on the local cluster, and no alert fires.

Start the smoke job, let it complete checkpoints, take a savepoint, stop it with a savepoint,
restore a new job from that savepoint (with its keyed state), kill the TaskManager that runs it and
start that TaskManager again (Flink recovers within the restart strategy), then keep the cluster
running until the checkpoint alerts' startup grace and window have passed after the recovery. Every
step is timed; any alert that fired during the run is a no-go (pending ones are listed).
"""

from __future__ import annotations

import time

from generator.render.alert_settings import duration_seconds
from generator.smoke import boot, http, job
from generator.smoke.scenario import (
    Steps,
    hold,
    scaled_settings,
    start_job,
    wait_checkpoints,
    wait_savepoint,
    wait_state,
)
from generator.smoke.session import Session
from generator.smoke.verify_prometheus import collect_alerts

__all__ = ["run_lifecycle"]

JOB = "gen-smoke"


def _taskmanager_process(session: Session, job_id: str) -> str:
    """The name of the local TaskManager process that runs the job (by its RPC port)."""
    local = session.local
    assert local is not None
    ids = set(job.taskmanager_of(session.rest, job_id))
    listing = http.get_json(f"{session.rest}/taskmanagers")
    for tm in listing.get("taskmanagers", []) if isinstance(listing, dict) else []:
        if tm.get("id") not in ids:
            continue
        for spec in local.processes:
            port = spec.dynamic.get("taskmanager.rpc.port")
            if port and f":{port}/" in str(tm.get("path", "")):
                return spec.name
    raise job.JobError(f"no local TaskManager runs job {job_id} (TaskManagers of the job: {sorted(ids)})")


def run_lifecycle(session: Session) -> None:
    steps = Steps(session, "lifecycle")
    settings = scaled_settings(session)
    state: dict[str, str] = {}
    folder = str(session.run_dir / "savepoints-lifecycle")

    def start() -> str:
        state["job"] = start_job(session, JOB)
        counts = wait_checkpoints(session, state["job"], 3)
        return f"job {state['job']} RUNNING, {counts.completed} checkpoints completed"

    def savepoint() -> str:
        path = wait_savepoint(session, state["job"], job.savepoint(session.rest, state["job"], folder))
        return f"savepoint {path}"

    def stop() -> str:
        trigger = job.savepoint(session.rest, state["job"], folder, stop=True)
        state["savepoint"] = wait_savepoint(session, state["job"], trigger)
        final = wait_state(session, state["job"], ("FINISHED", "CANCELED"))
        return f"job {final} with savepoint {state['savepoint']}"

    def restore() -> str:
        state["job"] = start_job(session, JOB, savepoint=state["savepoint"])
        counts = wait_checkpoints(session, state["job"], 2)
        restored = counts.restored_from or ""
        if restored.removeprefix("file:").lstrip("/") != state["savepoint"].removeprefix("file:").lstrip("/"):
            raise job.JobError(f"job {state['job']} restored from {restored or 'nothing'}, not {state['savepoint']}")
        return f"job {state['job']} restored from the savepoint, {counts.completed} checkpoints completed"

    def tm_restart() -> str:
        name = _taskmanager_process(session, state["job"])
        before = job.checkpoint_counts(session.rest, state["job"]).completed
        boot.kill(session, name)
        boot.restart(session, name)
        counts = wait_checkpoints(session, state["job"], before + 2)
        restarts = _restarts(session, state["job"])
        return (
            f"killed and started {name} again; the job recovered ({restarts} restart), {counts.completed} checkpoints"
        )

    def quiet() -> str:
        seconds = duration_seconds(settings.startup_grace) + duration_seconds(settings.checkpoint_failures_window)
        hold(session, seconds + 5, "the alerts to settle after the recovery")
        counts = wait_checkpoints(session, state["job"], 1)
        return f"{seconds + 5:.0f}s more, {counts.completed} checkpoints completed, {counts.failed} failed"

    steps.run("start", start)
    steps.run("savepoint", savepoint)
    steps.run("stop with savepoint", stop)
    steps.run("restore from the savepoint", restore)
    steps.run("TaskManager restart", tm_restart)
    steps.run("healthy after recovery", quiet)
    time.sleep(2)  # the last evaluations
    seen = collect_alerts(session)
    fired = [a for a in seen if a.fired]
    if fired:
        names = ", ".join(sorted({a.name for a in fired}))
        raise session.fail("alerts", f"{names} fired during the healthy lifecycle")
    pending = ", ".join(sorted({a.name for a in seen})) or "none"
    session.ok("alerts", f"no alert fired during the lifecycle (pending at some point: {pending})")


def _restarts(session: Session, job_id: str) -> int:
    try:
        answer = http.get_json(f"{session.rest}/jobs/{job_id}/metrics?get=numRestarts")
    except http.HttpError:
        return -1
    values = [m.get("value") for m in answer] if isinstance(answer, list) else []
    return int(float(values[0])) if values and values[0] is not None else -1
