"""The optional smoke job (``--job``): compiled while the JVMs start, then run to a checkpoint.

The job is submitted through the JobManager's REST API and must complete a checkpoint; Prometheus
must then see the completed checkpoint too. The job's own HTTP calls are in :mod:`generator.smoke.job`.
"""

from __future__ import annotations

import time

from generator.smoke import http, job
from generator.smoke.session import Session
from generator.smoke.verify_prometheus import query_until

__all__ = ["compile_job", "run_job", "wait_checkpoints"]


STOPPED = ("FAILED", "CANCELED", "FINISHED")


def wait_checkpoints(
    session: Session, job_id: str, at_least: int, what: str, check: str, fatal: tuple[str, ...] = STOPPED
) -> job.CheckpointCounts:
    """Until the job has ``at_least`` completed checkpoints; a job in a ``fatal`` state fails
    ``check`` with its root exception."""

    def probe() -> tuple[job.CheckpointCounts | None, str]:
        try:
            state = job.job_state(session.rest, job_id)
            counts = job.checkpoint_counts(session.rest, job_id)
        except http.HttpError as exc:
            return None, str(exc)
        if state in fatal:
            failure = job.root_exception(session.rest, job_id)
            raise session.fail(check, f"the job is {state}" + (f": {failure}" if failure else ""))
        done = state == "RUNNING" and counts.completed >= at_least
        return (counts if done else None), f"job {state}, {counts.completed} completed, {counts.failed} failed"

    return session.wait(what, probe)


def compile_job(session: Session) -> None:
    """Compile the smoke job's jar; javac runs while the JVMs start."""
    assert session.tools.javac is not None
    session.progress("compiling the smoke job with javac", False)
    try:
        session.jar = job.build_jar(session.tools.javac, session.tools.flink_home, session.run_dir / "job")
    except job.JobError as exc:
        raise session.fail("smoke job", str(exc)) from None
    session.ok("smoke job", f"compiled {session.jar.name} ({session.jar.stat().st_size} bytes)")


def run_job(session: Session) -> None:
    """Submit the job, wait for a completed checkpoint, see it in Prometheus, cancel the job."""
    assert session.jar is not None and session.local is not None
    try:
        job_id = job.submit(session.rest, session.jar)
    except job.JobError as exc:
        raise session.fail("smoke job", str(exc)) from None
    session.ok("smoke job", f"submitted as {job_id}")
    started = time.monotonic()

    # the smoke job fails nowhere: a restart is a failure here
    counts = wait_checkpoints(
        session, job_id, 1, "a completed checkpoint", "checkpoint", (*STOPPED, "FAILING", "RESTARTING")
    )
    took = time.monotonic() - started
    session.mark("checkpoint_completed")
    session.report.figures["checkpoints"] = {"completed": counts.completed, "failed": counts.failed}
    session.ok(
        "checkpoint",
        f"{counts.completed} completed {took:.1f}s after submission"
        + (f" ({counts.latest_path})" if counts.latest_path else ""),
    )
    assert session.rules is not None
    sel = f'namespace="{session.rules.namespace_label}", flink_deployment="{session.target.effective.deployment}"'
    seen = query_until(
        session,
        "Prometheus to see the completed checkpoint",
        f"max(flink_jobmanager_job_numberOfCompletedCheckpoints{{{sel}}})",
        lambda v: v >= 1,
    )
    session.ok("checkpoint metric", f"flink_jobmanager_job_numberOfCompletedCheckpoints = {seen:g} in Prometheus")
    job.cancel(session.rest, job_id)
