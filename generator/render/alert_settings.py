"""The settings of the alert rules: thresholds, windows, hold times and routing labels.

They come from the environment layer's ``alerts:`` section (read by
:func:`generator.render.alerts.alert_settings_from_mapping`); :class:`AlertSettings` refuses values
Prometheus or the rules cannot use. Durations are Prometheus duration strings.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["AlertSettings", "duration_ms", "duration_seconds", "format_duration", "scaled"]

# Prometheus duration syntax (model.ParseDuration): units in this order, each at most once.
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_DURATION_UNITS_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED_LABELS = frozenset({"severity", "alertname", "namespace", "flink_deployment", "pod", "container"})

_POSITIVE: Final = "positive-duration"  # a range-vector window: must be > 0
_DURATION_KIND: Final = "duration"  # a `for:` hold time: may be 0


def duration_ms(text: str) -> int:
    """Milliseconds in a Prometheus duration string (``90s``, ``1h30m``, ``0``)."""
    if text == "0":
        return 0
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(
            f"'{text}' is not a Prometheus duration: write e.g. 30s, 10m, 1h30m or 6h "
            "(units y, w, d, h, m, s, ms in this order, integers only)"
        )
    return sum(int(g) * unit for g, unit in zip(match.groups(), _DURATION_UNITS_MS, strict=True) if g)


def duration_seconds(text: str) -> float:
    return duration_ms(text) / 1000


def format_duration(ms: int) -> str:
    """The shortest Prometheus duration string of ``ms`` milliseconds (``150000`` -> ``2m30s``)."""
    if ms <= 0:
        return "0s"
    parts = []
    for unit, size in zip(("y", "w", "d", "h", "m", "s", "ms"), _DURATION_UNITS_MS, strict=True):
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)


def _dur(default: str, kind: str = _POSITIVE) -> Any:
    return field(default=default, metadata={"kind": kind})


@dataclass(frozen=True)
class AlertSettings:
    """Thresholds, windows and hold times of the alert rules (environment layer, ``alerts:``).

    Durations are Prometheus duration strings. ``*_window`` is the range of the PromQL range vector
    (must be > 0); ``*_for`` is the rule's ``for:`` hold time (0 = fire on the first evaluation).
    """

    severity: str = "critical"  # label of paging alerts; dev uses "warning"
    warning_severity: str = "warning"  # label of non-paging alerts
    labels: tuple[tuple[str, str], ...] = ()  # extra routing labels, e.g. (("team", "data"),)
    runbook_base_url: str | None = None  # adds annotation runbook_url = <base>/<alertname lowercase>

    # JobManager down: no JobManager target up (up == 0) or no JobManager target at all.
    jobmanager_down_for: str = _dur("5m", _DURATION_KIND)
    # Fewer TaskManagers registered with the JobManager than AlertTarget.expected_taskmanagers.
    taskmanagers_missing_for: str = _dur("5m", _DURATION_KIND)
    # increase(numRestarts[window]) >= threshold
    restarts_threshold: int = 3
    restarts_window: str = _dur("15m")
    restarts_for: str = _dur("0m", _DURATION_KIND)
    # increase(numberOfFailedCheckpoints[window]) >= threshold, counted only once the job has run
    # for `startup_grace` since its last (re)start (ticket); the job's own tolerance pages (critical)
    checkpoint_failures_threshold: int = 1
    checkpoint_failures_window: str = _dur("10m")
    checkpoint_failures_for: str = _dur("0m", _DURATION_KIND)
    # after a job start, a restart or a JobManager start, checkpoints fail to trigger until every task
    # runs (task deployment and state restore): such failures are not counted for this long
    startup_grace: str = _dur("10m")
    # FlinkCheckpointToleranceReached looks back (tolerance - 0.5) checkpoint intervals, at least this
    checkpoint_tolerance_min_window: str = _dur("1m")
    # lastCheckpointDuration > ratio * avg_over_time(lastCheckpointDuration[baseline]) and > floor
    checkpoint_duration_ratio: float = 2.0
    checkpoint_duration_baseline: str = _dur("6h")
    checkpoint_duration_floor: str = _dur("30s", _DURATION_KIND)
    checkpoint_duration_for: str = _dur("15m", _DURATION_KIND)
    # max per task of avg_over_time(backPressuredTimeMsPerSecond[window]) > threshold_ms
    backpressure_threshold_ms: int = 500
    backpressure_window: str = _dur("5m")
    backpressure_for: str = _dur("10m", _DURATION_KIND)
    # deriv(pendingRecords | records_lag_max [window]) > 0 while the backlog is > min_records
    source_lag_window: str = _dur("15m")
    source_lag_min_records: int = 1000
    source_lag_for: str = _dur("15m", _DURATION_KIND)
    # a container restart in the window whose last termination reason is OOMKilled
    oom_window: str = _dur("10m")
    oom_for: str = _dur("0m", _DURATION_KIND)
    # a pod whose status reason became Evicted within the window
    eviction_window: str = _dur("15m")
    eviction_for: str = _dur("0m", _DURATION_KIND)
    # increase(kube_pod_container_status_restarts_total[window]) >= threshold
    pod_restarts_threshold: int = 3
    pod_restarts_window: str = _dur("30m")
    pod_restarts_for: str = _dur("0m", _DURATION_KIND)
    # throttled CFS periods / CFS periods over window > ratio
    cpu_throttling_ratio: float = 0.25
    cpu_throttling_window: str = _dur("5m")
    cpu_throttling_for: str = _dur("15m", _DURATION_KIND)

    def __post_init__(self) -> None:
        problems: list[str] = []
        for f in dataclasses.fields(self):
            kind = f.metadata.get("kind")
            if kind is None:
                continue
            value = getattr(self, f.name)
            try:
                ms = duration_ms(value)
            except ValueError as exc:
                problems.append(f"{f.name}: {exc}")
                continue
            if kind == _POSITIVE and ms <= 0:
                problems.append(f"{f.name}: a window must be longer than 0, got '{value}'")
        for name in ("severity", "warning_severity"):
            if not getattr(self, name):
                problems.append(f"{name}: must not be empty")
        for name, value in self.labels:
            if not _LABEL_NAME.match(name) or name.startswith("__"):
                problems.append(f"labels: '{name}' is not a valid Prometheus label name")
            elif name in _RESERVED_LABELS:
                problems.append(f"labels: '{name}' is set by the rules themselves and cannot be overridden")
            if not value:
                problems.append(f"labels: value of '{name}' must not be empty")
        if len({name for name, _ in self.labels}) != len(self.labels):
            problems.append("labels: duplicate label name")
        for name in (
            "restarts_threshold",
            "checkpoint_failures_threshold",
            "pod_restarts_threshold",
        ):
            if getattr(self, name) < 1:
                problems.append(f"{name}: must be at least 1")
        if self.source_lag_min_records < 0:
            problems.append("source_lag_min_records: must not be negative")
        if not 0 <= self.backpressure_threshold_ms < 1000:
            problems.append("backpressure_threshold_ms: must be in [0, 1000) (milliseconds per second)")
        if not self.checkpoint_duration_ratio > 1:
            problems.append("checkpoint_duration_ratio: must be greater than 1")
        if not 0 < self.cpu_throttling_ratio < 1:
            problems.append("cpu_throttling_ratio: must be between 0 and 1 (exclusive)")
        if self.runbook_base_url is not None and not re.match(r"^https?://\S+$", self.runbook_base_url):
            problems.append("runbook_base_url: must be an http(s) URL")
        if not problems:
            # a single OOM kill / eviction is visible for `window`; a longer hold time never fires
            for kind in ("oom", "eviction"):
                if duration_ms(getattr(self, f"{kind}_for")) >= duration_ms(getattr(self, f"{kind}_window")):
                    problems.append(f"{kind}_for: must be shorter than {kind}_window, else the alert never fires")
        if problems:
            raise ValueError("invalid alert settings: " + "; ".join(problems))


def scaled(settings: AlertSettings, factor: int) -> AlertSettings:
    """``settings`` with every duration (window, hold time, grace, floor) divided by ``factor``:
    the same rules on a compressed clock, for a local run that proves them in minutes."""
    if factor < 1:
        raise ValueError("factor must be at least 1")
    if factor == 1:
        return settings
    changes: dict[str, Any] = {
        f.name: format_duration(duration_ms(getattr(settings, f.name)) // factor)
        for f in dataclasses.fields(settings)
        if f.metadata.get("kind") is not None
    }
    return dataclasses.replace(settings, **changes)
