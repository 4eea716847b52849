"""Rules on Flink's memory model: what Flink would refuse to start, and what the checklist calls risky.

MEM-001/MEM-002 fail wherever Flink itself would refuse the configuration (the same arithmetic as
TaskExecutorProcessUtils / JobManagerProcessUtils, see generator.flink.memory). MEM-003..MEM-005 are
warnings in every environment: the checklist's "Memory split" items are signals to review, not
configurations Flink refuses (docs/readiness.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.config.yamlload import Path_
from generator.flink.memory import MemoryConfigError, format_size
from generator.model import keys
from generator.policy import documents
from generator.policy.facts import conf_path, rocksdb_like, slots, state_backend
from generator.policy.model import Location, Note, Priority, Severity, Subject, Violation
from generator.policy.registry import rule
from generator.policy.sizing import Sizing, key_path, sizing
from generator.policy.vvp import container_note, on_vvp

SIZING = "Resource sizing and memory"


def _sizing(subject: Subject) -> Sizing:
    return sizing(subject.effective)  # pure arithmetic, microseconds: no cache needed


def _refused(component: str, error: MemoryConfigError, conf: dict[str, str]) -> Violation:
    process_key = f"{component}.memory.process.size"
    explicit = [k for k in error.keys if k in conf and k != process_key]  # a set option is likelier the culprit
    key = explicit[0] if explicit else process_key
    title = "TaskManager" if component == "taskmanager" else "JobManager"
    return Violation(
        f"Flink refuses this {title} memory configuration: {error.flink_message}",
        key_path(component, key),
        conf.get(key),
        f"see `gen memory` for the breakdown; raise spec.template.spec.resources.{component}.memory or lower "
        f"{', '.join(k for k in error.keys if k != f'{component}.memory.process.size') or 'the fixed components'}",
    )


@rule(
    "MEM-001",
    item="TaskManager memory",
    section=SIZING,
    priority=Priority.REQUIRED,
    checks="Flink's TaskManager memory calculation accepts the configuration (components fit the process size, "
    "network within its min/max, fractions in range)",
)
def taskmanager(subject: Subject) -> Iterator[Violation]:
    result = _sizing(subject)
    if result.tm_error is not None:
        yield _refused("taskmanager", result.tm_error, result.tm_conf)


@rule(
    "MEM-002",
    item="JobManager memory",
    section=SIZING,
    priority=Priority.REQUIRED,
    checks="Flink's JobManager memory calculation accepts the configuration",
)
def jobmanager(subject: Subject) -> Iterator[Violation]:
    result = _sizing(subject)
    if result.jm_error is not None:
        yield _refused("jobmanager", result.jm_error, result.jm_conf)


@rule(
    "MEM-003",
    item="Memory split: container limit and process size",
    section=SIZING,
    priority=Priority.REQUIRED,
    production=Severity.WARNING,
    checks="the container memory limit (rendered limits, or resources x kubernetes.<component>.memory.limit-factor) "
    "is not below the Flink process size",
)
def container_limit(subject: Subject) -> Iterator[Violation | Note]:
    if on_vvp(subject):
        yield container_note("the container memory limit")
    result = _sizing(subject)
    processes = {
        "taskmanager": result.taskmanager.total_process if result.taskmanager else None,
        "jobmanager": result.jobmanager.total_process if result.jobmanager else None,
    }
    for component, process in processes.items():
        if process is None:
            continue
        factor_key = f"kubernetes.{component}.memory.limit-factor"
        factor_text = subject.conf.get(factor_key)
        if factor_text is not None and float(factor_text) < 1.0:
            yield Violation(
                f"the {component} memory limit factor {factor_text} puts the container limit below the process "
                "size: the kernel kills the process before Flink's own limits apply",
                conf_path(factor_key),
                factor_text,
                f"set {factor_key} to 1.0 or more",
            )
        for pod in documents.all_pods(subject.documents):
            if pod.component not in (component, ""):
                continue
            for container in pod.flink_containers:  # a sidecar's limit is its own business
                limit_text = ((container.get("resources") or {}).get("limits") or {}).get("memory")
                limit = documents.quantity_bytes(limit_text) if limit_text is not None else None
                if limit is not None and limit < process:
                    yield Violation(
                        f"{component} container {container.get('name', '?')} has a memory limit of {limit_text}, "
                        f"below the Flink process size {format_size(process)}: OOM kills without heap pressure",
                        (*keys.RESOURCES, component, "memory"),
                        limit_text,
                        "raise the container memory limit to at least the process size",
                        Location.rendered(subject.rendered_file) if subject.rendered_file else None,
                    )


@rule(
    "MEM-004",
    item="Memory split: managed memory for RocksDB",
    section=SIZING,
    priority=Priority.REQUIRED,
    production=Severity.WARNING,
    checks="RocksDB/ForSt deployments have at least platform.policy.minManagedMemoryPerSlot (default 512m) of "
    "managed memory per slot",
)
def managed_for_rocksdb(subject: Subject) -> Iterator[Violation]:
    tm = _sizing(subject).taskmanager
    if tm is None or not rocksdb_like(subject):
        return
    per_slot = tm.managed // max(slots(subject), 1)
    floor = subject.settings.min_managed_per_slot
    if per_slot < floor:
        key = (
            "taskmanager.memory.managed.size"
            if "taskmanager.memory.managed.size" in subject.conf
            else "taskmanager.memory.managed.fraction"
        )
        yield Violation(
            f"{state_backend(subject)} gets {format_size(per_slot)} of managed memory per slot (floor "
            f"{format_size(floor)}): block cache and write buffers starve, or RocksDB grows native memory "
            "outside Flink's budget",
            conf_path(key) if key in subject.conf else (*keys.RESOURCES, "taskmanager", "memory"),
            subject.conf.get(key) or subject.model.resources["taskmanager"].memory,
            "raise taskmanager.memory.managed.fraction or the TaskManager memory, or use fewer slots",
        )


@rule(
    "MEM-005",
    item="Memory split: heap floor",
    section=SIZING,
    priority=Priority.REQUIRED,
    production=Severity.WARNING,
    checks="JobManager heap is at least platform.policy.minJobManagerHeap (default 128m) and TaskManager task heap "
    "at least platform.policy.minTaskHeapPerSlot (default 128m) per slot",
)
def heap_floor(subject: Subject) -> Iterator[Violation]:
    result = _sizing(subject)
    settings = subject.settings
    if result.jobmanager is not None and result.jobmanager.jvm_heap < settings.min_jobmanager_heap:
        path = _culprit(
            subject, "jobmanager", ("jobmanager.memory.off-heap.size", "jobmanager.memory.jvm-metaspace.size")
        )
        yield Violation(
            f"JobManager heap {format_size(result.jobmanager.jvm_heap)} is below "
            f"{format_size(settings.min_jobmanager_heap)}",
            path,
            subject.value(path),
            "raise spec.template.spec.resources.jobmanager.memory or lower the JobManager off-heap/metaspace",
        )
    if result.taskmanager is not None:
        per_slot = result.taskmanager.task_heap // max(slots(subject), 1)
        if per_slot < settings.min_task_heap_per_slot:
            path = _culprit(
                subject,
                "taskmanager",
                (
                    "taskmanager.memory.managed.size",
                    "taskmanager.memory.managed.fraction",
                    "taskmanager.memory.network.fraction",
                    "taskmanager.memory.network.min",
                    "taskmanager.memory.task.off-heap.size",
                ),
            )
            yield Violation(
                f"TaskManager task heap {format_size(per_slot)} per slot is below "
                f"{format_size(settings.min_task_heap_per_slot)}: user code and heap state run out of room",
                path,
                subject.value(path),
                "raise the TaskManager memory, lower managed/network memory, or use fewer slots",
            )


def _culprit(subject: Subject, component: str, candidates: tuple[str, ...]) -> Path_:
    """The first explicitly set option that takes memory from the heap, else the process size."""
    for key in candidates:
        if key in subject.conf:
            return conf_path(key)
    return (*keys.RESOURCES, component, "memory")
