"""The checks against the Flink processes of a smoke run.

The JobManager's REST API answers; every TaskManager registered with the configured slots; the
memory Flink computed for a TaskManager and the JobManager JVM's memory flags equal gen's memory
model to the byte; each process' Prometheus reporter serves ``flink_*`` series.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.flink.memory import MemoryConfigError, format_size
from generator.flink.memory_jobmanager import jobmanager_memory
from generator.flink.memory_taskmanager import taskmanager_memory
from generator.smoke import http
from generator.smoke.ports import LOOPBACK
from generator.smoke.session import Session

__all__ = ["verify_cluster", "verify_reporters"]


def verify_cluster(session: Session) -> None:
    """The JobManager's REST API, the registered TaskManagers and their slots, memory to the byte."""
    local = session.local
    assert local is not None

    def overview() -> tuple[dict[str, Any] | None, str]:
        try:
            data = http.get_json(f"{session.rest}/overview")
        except http.HttpError as exc:
            return None, "no answer yet" if exc.status is None else str(exc)
        return (data if isinstance(data, dict) else None), ""

    first = session.wait(f"the JobManager REST API on {session.rest}", overview)
    took = session.mark("jobmanager_rest")
    session.ok("JobManager REST /overview", f"answered after {took:.1f}s, Flink {first.get('flink-version')}")
    if first.get("flink-version") != session.tools.flink_version:
        raise session.fail(
            "Flink version", f"/overview says {first.get('flink-version')}, not {session.tools.flink_version}"
        )

    n = local.taskmanagers

    def registered() -> tuple[list[dict[str, Any]] | None, str]:
        # a TaskManager is listed as soon as it registers and reports its slots just after
        try:
            listing = http.get_json(f"{session.rest}/taskmanagers")
        except http.HttpError as exc:
            return None, str(exc)
        tms = listing.get("taskmanagers", []) if isinstance(listing, dict) else []
        ready = [tm for tm in tms if int(tm.get("slotsNumber", 0)) > 0]
        return (tms if len(ready) >= n else None), f"{len(tms)}/{n} registered, {len(ready)} with slots"

    tms = session.wait("the TaskManagers to register", registered)
    took = session.mark("taskmanagers_registered")
    try:
        data = http.get_json(f"{session.rest}/overview")
    except http.HttpError as exc:
        raise session.fail("JobManager REST /overview", str(exc)) from None
    count, slots_total = int(data["taskmanagers"]), int(data["slots-total"])
    session.report.figures.update({"taskmanagers_registered": count, "slots_total": slots_total})
    configured = f"{local.configured_taskmanagers} configured" + (
        f", capped to {n} by --max-taskmanagers" if n < local.configured_taskmanagers else ""
    )
    if count != n:
        raise session.fail("TaskManagers", f"/overview counts {count}, expected {n} ({configured})")
    slots = sorted({int(tm.get("slotsNumber", -1)) for tm in tms})
    if len(tms) != n or slots != [local.slots]:
        raise session.fail(
            "TaskManagers (/taskmanagers)", f"{len(tms)} listed with slots {slots}; expected {n} x {local.slots}"
        )
    session.ok(
        "TaskManagers (/taskmanagers)", f"{n} registered after {took:.1f}s ({configured}), {local.slots} slots each"
    )
    if slots_total != n * local.slots:
        raise session.fail("slots-total", f"{slots_total}, expected {n} x {local.slots} = {n * local.slots}")
    session.ok("slots-total", f"{slots_total} = {n} TaskManager{'s' if n != 1 else ''} x {local.slots} slots")
    _check_memory(session, tms[0].get("memoryConfiguration", {}))
    _check_jobmanager_memory(session)


def _check_memory(session: Session, flink: Mapping[str, Any]) -> None:
    """The memory Flink computed for a TaskManager against gen's memory model."""
    local = session.local
    assert local is not None
    model = taskmanager_memory({**session.target.effective.flink_conf, **local.memory["taskmanager"].conf})
    expected = {
        "frameworkHeap": model.framework_heap,
        "taskHeap": model.task_heap,
        "frameworkOffHeap": model.framework_off_heap,
        "taskOffHeap": model.task_off_heap,
        "networkMemory": model.network,
        "managedMemory": model.managed,
        "jvmMetaspace": model.jvm_metaspace,
        "jvmOverhead": model.jvm_overhead,
        "totalFlinkMemory": model.total_flink,
        "totalProcessMemory": model.total_process,
    }
    actual = {key: int(flink.get(key, -1)) for key in expected}
    session.report.figures["taskmanager_memory"] = actual
    differ = [f"{key} {actual[key]} != {value}" for key, value in expected.items() if actual[key] != value]
    if differ:
        raise session.fail("TaskManager memory", "Flink and gen's memory model differ: " + ", ".join(differ))
    session.ok(
        "TaskManager memory",
        f"Flink's figures equal gen's memory model to the byte (process {format_size(model.total_process)}, "
        f"heap {format_size(model.jvm_heap)}, managed {format_size(model.managed)}, "
        f"network {format_size(model.network)})",
    )


def _check_jobmanager_memory(session: Session) -> None:
    """The JobManager JVM's real memory flags (/jobmanager/environment) against gen's model."""
    local = session.local
    assert local is not None
    try:
        model = jobmanager_memory({**session.target.effective.flink_conf, **local.memory["jobmanager"].conf})
    except MemoryConfigError as exc:  # Flink started it, so the model is wrong
        raise session.fail("JobManager memory", f"gen's memory model refuses what Flink ran: {exc}") from None
    try:
        environment = http.get_json(f"{session.rest}/jobmanager/environment")
    except http.HttpError as exc:
        raise session.fail("JobManager memory", str(exc)) from None
    options = environment.get("jvm", {}).get("options", []) if isinstance(environment, dict) else []
    flags = [o for o in options if o.startswith(("-Xmx", "-Xms", "-XX:MaxMetaspaceSize", "-XX:MaxDirectMemorySize"))]
    expected = model.jvm_args().split()
    session.report.figures["jobmanager_jvm_memory_flags"] = flags
    if sorted(flags) != sorted(expected):
        raise session.fail(
            "JobManager memory",
            f"the JVM runs with {' '.join(flags)}; gen's memory model says {' '.join(expected)}",
        )
    session.ok(
        "JobManager memory",
        f"the JVM's flags equal gen's memory model ({' '.join(expected)}: heap {format_size(model.jvm_heap)})",
    )


def verify_reporters(session: Session) -> None:
    """Each process' Prometheus reporter answers with its ``flink_*`` series."""
    local = session.local
    assert local is not None
    series: dict[str, int] = {}
    for spec in local.processes:
        if spec.reporter_port is None:
            continue
        url = f"http://{LOOPBACK}:{spec.reporter_port}/metrics"
        marker = "flink_jobmanager_" if spec.component == "jobmanager" else "flink_taskmanager_"

        def scrape(url: str = url, marker: str = marker) -> tuple[int | None, str]:
            try:
                text = http.get_text(url)
            except http.HttpError as exc:
                return None, str(exc)
            lines = [ln for ln in text.splitlines() if ln.startswith("flink_")]
            return (len(lines) if any(ln.startswith(marker) for ln in lines) else None), f"{len(lines)} series"

        count = session.wait(f"the Prometheus reporter of {spec.name} on {url}", scrape)
        series[spec.name] = count
        session.ok(f"reporter {spec.name}", f"127.0.0.1:{spec.reporter_port} serves {count} flink_* series")
    session.report.figures["reporter_series"] = series
