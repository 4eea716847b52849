"""``platform.policy``: the settings `gen check` judges against, with their documented defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator import model, units
from generator.config.resolve import Effective

MiB = 1 << 20

DEFAULT_LARGE_STATE_PROFILES = ("stateful-heavy",)
DEFAULT_MAX_SLOTS = 4
DEFAULT_MIN_MANAGED_PER_SLOT = 512 * MiB
DEFAULT_MIN_TASK_HEAP_PER_SLOT = 128 * MiB
DEFAULT_MIN_JOBMANAGER_HEAP = 128 * MiB  # Flink's own recommended minimum (JobManagerFlinkMemoryUtils warns below)
DEFAULT_TRANSACTION_MARGIN_MS = 60_000.0


@dataclass(frozen=True)
class Sink:
    name: str
    delivery: str
    transaction_timeout_ms: float | None


@dataclass(frozen=True)
class Settings:
    approved_registries: tuple[str, ...]
    large_state_profiles: tuple[str, ...]
    max_slots: int
    min_managed_per_slot: int
    min_task_heap_per_slot: int
    min_jobmanager_heap: int
    transaction_margin_ms: float
    table_api: bool
    sinks: tuple[Sink, ...]


def _memory(raw: Mapping[str, Any], key: str, default: int) -> int:
    return units.parse_memory(raw[key]) if key in raw else default


def settings_of(eff: Effective) -> Settings:
    """The policy settings of an effective configuration (values were schema-checked per layer)."""
    raw = model.of(eff).policy
    sinks = tuple(
        Sink(
            str(item["name"]),
            str(item["delivery"]),
            units.parse_duration_ms(item["transactionTimeout"]) if "transactionTimeout" in item else None,
        )
        for item in raw.get("sinks", [])
        if isinstance(item, dict)
    )
    margin = raw.get("transactionTimeoutMargin")
    return Settings(
        approved_registries=tuple(str(r).rstrip("/") for r in raw.get("approvedRegistries", [])),
        large_state_profiles=tuple(raw.get("largeStateProfiles", DEFAULT_LARGE_STATE_PROFILES)),
        max_slots=int(raw.get("maxSlotsPerTaskManager", DEFAULT_MAX_SLOTS)),
        min_managed_per_slot=_memory(raw, "minManagedMemoryPerSlot", DEFAULT_MIN_MANAGED_PER_SLOT),
        min_task_heap_per_slot=_memory(raw, "minTaskHeapPerSlot", DEFAULT_MIN_TASK_HEAP_PER_SLOT),
        min_jobmanager_heap=_memory(raw, "minJobManagerHeap", DEFAULT_MIN_JOBMANAGER_HEAP),
        transaction_margin_ms=units.parse_duration_ms(margin) if margin else DEFAULT_TRANSACTION_MARGIN_MS,
        table_api=bool(raw.get("tableApi", False)),
        sinks=sinks,
    )
