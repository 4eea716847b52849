"""Facts several rules derive from a subject's effective configuration.

Each fact has one function here (is HA on, how many slots, which state backend, ...), so every rule,
the exception process and the reports read it the same way; the facts the model derives (HA, slots,
JobManager replicas) come from it.
"""

from __future__ import annotations

from generator import units
from generator.config.yamlload import Path_
from generator.model import keys
from generator.policy.model import Subject

# Schemes of durable, shared storage Flink has file systems for (object stores and distributed file systems).
DURABLE_SCHEMES = frozenset(
    {"s3", "s3a", "s3n", "s3p", "gs", "abfs", "abfss", "wasb", "wasbs", "adl", "oss", "obs", "cosn", "hdfs", "viewfs"}
)
ROCKSDB_LIKE = ("rocksdb", "forst", "gemini")


def conf_path(key: str) -> Path_:
    return (*keys.FLINK_CONF, key)


def ha_enabled(subject: Subject) -> bool:
    return subject.model.ha.enabled


def state_backend(subject: Subject) -> str:
    return subject.conf.get("state.backend.type", "hashmap").strip().lower()


def rocksdb_like(subject: Subject) -> bool:
    backend = state_backend(subject)
    return any(name in backend for name in ROCKSDB_LIKE)


def large_state(subject: Subject) -> bool:
    return any(p in subject.settings.large_state_profiles for p in subject.profiles)


def count(subject: Subject, key: str) -> int:
    """A count option (slots, replicas, retained checkpoints): 1 when it is unset or not a plain number."""
    text = subject.conf.get(key, "1")
    return int(text) if text.isdigit() else 1


def slots(subject: Subject) -> int:
    return subject.model.slots


def jobmanager_count(subject: Subject) -> int:
    return subject.model.jobmanager_replicas


def slots_within_policy(subject: Subject) -> bool:
    """Whether the slots per TaskManager are what platform.policy allows without an exception: 1 for a
    large-state profile, at most maxSlotsPerTaskManager otherwise."""
    if large_state(subject):
        return slots(subject) == 1
    return slots(subject) <= subject.settings.max_slots


def duration_ms(subject: Subject, key: str) -> float | None:
    text = subject.conf.get(key)
    if text is None:
        return None
    try:
        return units.parse_duration_ms(text)
    except units.UnitError:
        return None


def fmt_ms(ms: float) -> str:
    """A duration for people: 90000 -> 1min 30s."""
    total = int(ms)
    parts: list[str] = []
    for unit, size in (("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    if total or not parts:
        parts.append(f"{total}ms")
    return " ".join(parts)


def scheme(uri: str) -> str:
    head, sep, _ = uri.partition("://")
    return head.lower() if sep else ""
