"""Prometheus alert rules for the Flink deployments of one Kubernetes namespace.

The result is the ``spec.groups`` list of a ``PrometheusRule`` (prometheus-operator). It is pure data:
no I/O, deterministic order, one group per Flink deployment plus one namespace-wide group for the
Kubernetes-level alerts.

Label contract (guaranteed by the PodMonitor the rest of the project renders):

* Flink series carry ``namespace``, ``pod``, ``flink_deployment`` (the deployment name) and
  ``component`` (``jobmanager`` | ``taskmanager``) plus Flink's own scope labels (``job_name``,
  ``task_name``, ``operator_name``, ``tm_id``, ``host`` ...).
* kube-state-metrics and cAdvisor series carry ``namespace``, ``pod`` and ``container`` only, so the
  Kubernetes-level alerts select by namespace and name the pod in their annotations.

Metric names (Flink Prometheus reporter: every counter, gauge and meter is exported as a Prometheus
gauge named ``flink_<scope>_<metric>``, without ``_total``; counters reset when the process restarts,
which ``increase()`` treats as a counter reset):

* JobManager/job scope: ``numberOfFailedCheckpoints``, ``lastCheckpointDuration`` (ms), ``numRestarts``
  (``fullRestarts`` is gone in Flink 2.x, ``numRestarts`` exists in both), ``numRegisteredTaskManagers``.
* Task scope: ``backPressuredTimeMsPerSecond``; operator scope: ``pendingRecords`` (FLIP-33) and the
  Kafka client's ``records-lag-max`` (``KafkaSourceReader_KafkaConsumer_records_lag_max``; Flink 1.x
  also the legacy ``FlinkKafkaConsumer`` name ``KafkaConsumer_records_lag_max``).
* kube-state-metrics: ``kube_pod_container_status_restarts_total``,
  ``kube_pod_container_status_last_terminated_reason``, ``kube_pod_status_reason``;
  cAdvisor: ``container_cpu_cfs_throttled_periods_total``, ``container_cpu_cfs_periods_total``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "ALERT_NAMES",
    "NAMESPACE_ALERTS",
    "PAGING_ALERTS",
    "PER_DEPLOYMENT_ALERTS",
    "AlertSettings",
    "AlertTarget",
    "alert_groups",
    "alert_settings_from_mapping",
    "camel_case",
    "duration_ms",
    "duration_seconds",
]

# Alert names, in the order they appear in a group.
PER_DEPLOYMENT_ALERTS: Final = (
    "FlinkJobManagerDown",
    "FlinkTaskManagersMissing",
    "FlinkJobRestarting",
    "FlinkCheckpointFailures",
    "FlinkCheckpointDurationHigh",
    "FlinkBackpressureSustained",
    "FlinkSourceLagGrowing",
)
NAMESPACE_ALERTS: Final = (
    "FlinkContainerOOMKilled",
    "FlinkPodEvicted",
    "FlinkPodRestarting",
    "FlinkCPUThrottlingHigh",
)
ALERT_NAMES: Final = PER_DEPLOYMENT_ALERTS + NAMESPACE_ALERTS
# Alerts that page (label severity = AlertSettings.severity); the others are tickets
# (label severity = AlertSettings.warning_severity).
PAGING_ALERTS: Final = frozenset(
    {
        "FlinkJobManagerDown",
        "FlinkTaskManagersMissing",
        "FlinkJobRestarting",
        "FlinkCheckpointFailures",
        "FlinkSourceLagGrowing",
        "FlinkContainerOOMKilled",
    }
)

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


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


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
    # increase(numberOfFailedCheckpoints[window]) >= threshold
    checkpoint_failures_threshold: int = 1
    checkpoint_failures_window: str = _dur("10m")
    checkpoint_failures_for: str = _dur("0m", _DURATION_KIND)
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


@dataclass(frozen=True)
class AlertTarget:
    deployment: str  # deployment name == flink_deployment label value
    namespace: str  # Kubernetes namespace
    expected_taskmanagers: int  # 0 = no TaskManager count alert (e.g. a session cluster scaling from 0)


def alert_settings_from_mapping(data: Mapping[str, Any]) -> AlertSettings:
    """AlertSettings from the environment layer's ``alerts:`` section (camelCase keys).

    Mirrors ``schemas/input/alerts.json``; raises ValueError on unknown keys or wrong types.
    """
    by_key = {camel_case(f.name): f for f in dataclasses.fields(AlertSettings)}
    unknown = sorted(set(data) - set(by_key))
    if unknown:
        raise ValueError(f"unknown alerts key(s): {', '.join(unknown)}; allowed: {', '.join(sorted(by_key))}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = by_key[key]
        if f.name == "labels":
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError("alerts.labels: expected a map of label name to string value")
            kwargs[f.name] = tuple(sorted(value.items()))
        elif f.name == "runbook_base_url":
            if value is not None and not isinstance(value, str):
                raise ValueError(f"alerts.{key}: expected a string")
            kwargs[f.name] = value
        elif isinstance(f.default, bool) or isinstance(value, bool):
            raise ValueError(f"alerts.{key}: expected {type(f.default).__name__}, got a boolean")
        elif isinstance(f.default, str):
            if not isinstance(value, str):
                raise ValueError(f"alerts.{key}: expected a string, got {json.dumps(value)}")
            kwargs[f.name] = value
        elif isinstance(f.default, float):
            if not isinstance(value, int | float):
                raise ValueError(f"alerts.{key}: expected a number, got {json.dumps(value)}")
            kwargs[f.name] = float(value)
        elif isinstance(f.default, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # JSON Schema's "integer" accepts 3.0
            if not isinstance(value, int):
                raise ValueError(f"alerts.{key}: expected an integer, got {json.dumps(value)}")
            kwargs[f.name] = value
        else:  # pragma: no cover - every field type is handled above
            raise AssertionError(f.name)
    return AlertSettings(**kwargs)


# ---------------------------------------------------------------------------------------------------------
# rule building


def _q(value: str) -> str:
    """A PromQL string literal (Go-style quoting; JSON escapes are a subset)."""
    return json.dumps(value)


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _held(for_: str) -> str:
    return f" for at least {for_}" if duration_ms(for_) > 0 else ""


_FLINK_WHERE = (
    "job {{ $labels.job_name }} (Flink deployment {{ $labels.flink_deployment }}, namespace {{ $labels.namespace }})"
)


class _Builder:
    def __init__(self, settings: AlertSettings, flink_major: int) -> None:
        self.s = settings
        self.flink_major = flink_major
        # static labels equal to the series' own labels: they make each rule unique for
        # `promtool check rules` (duplicate-rules lint) and survive absent()/aggregation
        self.scope: dict[str, str] = {}

    def rule(
        self,
        alert: str,
        expr: str,
        for_: str,
        summary: str,
        description: str,
        runbook: str,
    ) -> dict[str, Any]:
        labels = {"severity": self.s.severity if alert in PAGING_ALERTS else self.s.warning_severity}
        labels.update(self.scope)
        labels.update(self.s.labels)
        annotations = {"summary": summary, "description": description, "runbook": runbook}
        if self.s.runbook_base_url:
            annotations["runbook_url"] = f"{self.s.runbook_base_url.rstrip('/')}/{alert.lower()}"
        rule: dict[str, Any] = {"alert": alert, "expr": expr}
        if duration_ms(for_) > 0:
            rule["for"] = for_
        rule["labels"] = labels
        rule["annotations"] = annotations
        return rule

    # -- per Flink deployment ------------------------------------------------------------------------------

    def deployment_rules(self, target: AlertTarget) -> list[dict[str, Any]]:
        s = self.s
        self.scope = {"namespace": target.namespace, "flink_deployment": target.deployment}
        sel = f"namespace={_q(target.namespace)}, flink_deployment={_q(target.deployment)}"
        by_dep = "max by (namespace, flink_deployment)"
        by_job = "by (namespace, flink_deployment, job_name)"
        by_task = "by (namespace, flink_deployment, job_name, task_name)"
        rules: list[dict[str, Any]] = []

        jm_up = f'up{{{sel}, component="jobmanager"}}'
        rules.append(
            self.rule(
                "FlinkJobManagerDown",
                f"{by_dep} ({jm_up}) == 0\nor\n{by_dep} (absent({jm_up}))",
                s.jobmanager_down_for,
                "JobManager of Flink deployment {{ $labels.flink_deployment }} "
                "in namespace {{ $labels.namespace }} is down",
                "No JobManager metrics target of Flink deployment {{ $labels.flink_deployment }} "
                "in namespace {{ $labels.namespace }} is up (up == 0 or no target scraped)"
                f"{_held(s.jobmanager_down_for)}.",
                "kubectl -n <namespace> get pods,events for the JobManager pod (Pending, CrashLoopBackOff, "
                "OOMKilled?); check the JobManager log, the HA ConfigMaps and the deployment state in the "
                "operator / Ververica Platform. A suspended deployment that is still listed here also fires.",
            )
        )
        if target.expected_taskmanagers > 0:
            n = target.expected_taskmanagers
            rules.append(
                self.rule(
                    "FlinkTaskManagersMissing",
                    f"{by_dep} (flink_jobmanager_numRegisteredTaskManagers{{{sel}}}) < {n}",
                    s.taskmanagers_missing_for,
                    "Flink deployment {{ $labels.flink_deployment }} in namespace {{ $labels.namespace }} "
                    "has fewer TaskManagers than expected",
                    'Only {{ $value | printf "%.0f" }} of '
                    f"{n} expected TaskManagers are registered with the JobManager of Flink deployment "
                    "{{ $labels.flink_deployment }} in namespace {{ $labels.namespace }}"
                    f"{_held(s.taskmanagers_missing_for)}.",
                    "Look for Pending or crash-looping TaskManager pods (quota, node capacity, image pull, "
                    "OOM) and for TaskManager heartbeat timeouts in the JobManager log.",
                )
            )
        rules.append(
            self.rule(
                "FlinkJobRestarting",
                f"max {by_job} (increase(flink_jobmanager_job_numRestarts{{{sel}}}[{s.restarts_window}]))"
                f" >= {s.restarts_threshold}",
                s.restarts_for,
                "Flink job {{ $labels.job_name }} (deployment {{ $labels.flink_deployment }}, "
                "namespace {{ $labels.namespace }}) is restarting repeatedly",
                "Job {{ $labels.job_name }} of Flink deployment {{ $labels.flink_deployment }} in namespace "
                '{{ $labels.namespace }} restarted {{ $value | printf "%.0f" }} times in the last '
                f"{s.restarts_window} (threshold {s.restarts_threshold}){_held(s.restarts_for)}.",
                "Open the exception history of the job (Flink UI / REST /jobs/<id>/exceptions) and the "
                "JobManager log for the root cause; check TaskManager pod restarts and OOM kills.",
            )
        )
        rules.append(
            self.rule(
                "FlinkCheckpointFailures",
                f"max {by_job} (increase(flink_jobmanager_job_numberOfFailedCheckpoints{{{sel}}}"
                f"[{s.checkpoint_failures_window}])) >= {s.checkpoint_failures_threshold}",
                s.checkpoint_failures_for,
                "Checkpoints failing for Flink job {{ $labels.job_name }} of deployment "
                "{{ $labels.flink_deployment }} in namespace {{ $labels.namespace }}",
                '{{ $value | printf "%.0f" }} checkpoint(s) of ' + _FLINK_WHERE + " failed in the last "
                f"{s.checkpoint_failures_window} (threshold {s.checkpoint_failures_threshold})"
                f"{_held(s.checkpoint_failures_for)}.",
                "Flink UI > Checkpoints > History shows the failure cause (timeout, declined, storage "
                "error); check checkpoint storage reachability and credentials, backpressure and "
                "execution.checkpointing.timeout.",
            )
        )
        duration = f"flink_jobmanager_job_lastCheckpointDuration{{{sel}}}"
        floor_ms = duration_ms(s.checkpoint_duration_floor)
        rules.append(
            self.rule(
                "FlinkCheckpointDurationHigh",
                f"(\n  max {by_job} ({duration})\n  /\n"
                f"  (max {by_job} (avg_over_time({duration}[{s.checkpoint_duration_baseline}])) > 0)\n"
                f") > {_num(s.checkpoint_duration_ratio)}\n"
                f"and\nmax {by_job} ({duration}) > {floor_ms}",
                s.checkpoint_duration_for,
                "Checkpoint duration of Flink job {{ $labels.job_name }} (deployment "
                "{{ $labels.flink_deployment }}, namespace {{ $labels.namespace }}) is above its baseline",
                "The last checkpoint of " + _FLINK_WHERE + ' took {{ $value | printf "%.1f" }}x its '
                f"{s.checkpoint_duration_baseline} average (threshold {_num(s.checkpoint_duration_ratio)}x, "
                f"only above {s.checkpoint_duration_floor}){_held(s.checkpoint_duration_for)}.",
                "Compare checkpoint size and alignment time in the Flink UI; look for backpressure, state "
                "growth (missing state TTL), slow checkpoint storage or throttled TaskManagers.",
            )
        )
        rules.append(
            self.rule(
                "FlinkBackpressureSustained",
                f"max {by_task} (avg_over_time(flink_taskmanager_job_task_backPressuredTimeMsPerSecond"
                f"{{{sel}}}[{s.backpressure_window}])) > {s.backpressure_threshold_ms}",
                s.backpressure_for,
                "Sustained backpressure on task {{ $labels.task_name }} of Flink job {{ $labels.job_name }} "
                "(deployment {{ $labels.flink_deployment }}, namespace {{ $labels.namespace }})",
                "Task {{ $labels.task_name }} of " + _FLINK_WHERE + " is back-pressured "
                '{{ $value | printf "%.0f" }} ms/s on average over '
                f"{s.backpressure_window} (threshold {s.backpressure_threshold_ms} ms/s)"
                f"{_held(s.backpressure_for)}.",
                "The bottleneck is the first task downstream that is busy but not back-pressured (Flink UI "
                "> BackPressure / busyTimeMsPerSecond); check sink latency, data skew, CPU throttling and GC.",
            )
        )
        # one branch per metric name (deriv() drops __name__, so names must not share a vector):
        # FLIP-33 pendingRecords summed over subtasks, the Kafka client's records-lag-max as max
        lag_metrics = [("sum", "pendingRecords"), ("max", "KafkaSourceReader_KafkaConsumer_records_lag_max")]
        if self.flink_major == 1:
            # the legacy FlinkKafkaConsumer (gone with the Kafka connector for Flink 2) registers
            # records-lag-max without the KafkaSourceReader group
            lag_metrics.append(("max", "KafkaConsumer_records_lag_max"))
        w = s.source_lag_window
        m = s.source_lag_min_records
        branches = []
        for agg, metric in lag_metrics:
            series = f"flink_taskmanager_job_task_operator_{metric}{{{sel}}}"
            branches.append(
                f"(\n  {agg} {by_task} (deriv({series}[{w}])) > 0\n  and\n  {agg} {by_task} ({series}) > {m}\n)"
            )
        rules.append(
            self.rule(
                "FlinkSourceLagGrowing",
                "\nor\n".join(branches),
                s.source_lag_for,
                "Source lag of Flink job {{ $labels.job_name }} (deployment {{ $labels.flink_deployment }}, "
                "namespace {{ $labels.namespace }}) keeps growing",
                "The backlog of source task {{ $labels.task_name }} of " + _FLINK_WHERE + " grew by "
                '{{ $value | printf "%.1f" }} records/s over the last '
                f"{w} and is above {m} records{_held(s.source_lag_for)}.",
                "The job consumes slower than the input arrives: check backpressure, restarts and "
                "throughput per subtask; consider more parallelism (up to the number of partitions).",
            )
        )
        return rules

    # -- namespace-wide (kube-state-metrics, cAdvisor) -------------------------------------------------------

    def namespace_rules(self, namespace: str) -> list[dict[str, Any]]:
        s = self.s
        self.scope = {"namespace": namespace}
        ns = f"namespace={_q(namespace)}"
        by_ctr = "max by (namespace, pod, container)"
        where = "container {{ $labels.container }} of pod {{ $labels.pod }} (namespace {{ $labels.namespace }})"
        restarts = f"kube_pod_container_status_restarts_total{{{ns}}}"
        rules: list[dict[str, Any]] = []
        rules.append(
            self.rule(
                "FlinkContainerOOMKilled",
                f"{by_ctr} (increase({restarts}[{s.oom_window}])) >= 1\n"
                "and on (namespace, pod, container)\n"
                f"{by_ctr} (max_over_time(kube_pod_container_status_last_terminated_reason"
                f'{{{ns}, reason="OOMKilled"}}[{s.oom_window}])) == 1',
                s.oom_for,
                "Container {{ $labels.container }} of pod {{ $labels.pod }} in namespace "
                "{{ $labels.namespace }} was OOMKilled",
                "The " + where + ' restarted {{ $value | printf "%.0f" }} time(s) in the last '
                f"{s.oom_window} and was last terminated with reason OOMKilled{_held(s.oom_for)}.",
                "The container exceeded its memory limit: compare the Flink memory model (heap, managed, "
                "network, metaspace, JVM overhead) with the limit; RocksDB native memory is a common cause.",
            )
        )
        evicted = f'max by (namespace, pod) (kube_pod_status_reason{{{ns}, reason="Evicted"}}'
        rules.append(
            self.rule(
                "FlinkPodEvicted",
                f"{evicted}) == 1\nunless on (namespace, pod)\n{evicted} offset {s.eviction_window}) == 1",
                s.eviction_for,
                "Pod {{ $labels.pod }} in namespace {{ $labels.namespace }} was evicted",
                "Pod {{ $labels.pod }} in namespace {{ $labels.namespace }} was evicted within the last "
                f"{s.eviction_window}{_held(s.eviction_for)}.",
                "kubectl -n <namespace> describe pod <pod>: node memory or disk pressure (ephemeral storage, "
                "local RocksDB state), or preemption; check requests vs. usage and priority classes.",
            )
        )
        rules.append(
            self.rule(
                "FlinkPodRestarting",
                f"{by_ctr} (increase({restarts}[{s.pod_restarts_window}])) >= {s.pod_restarts_threshold}",
                s.pod_restarts_for,
                "Container {{ $labels.container }} of pod {{ $labels.pod }} in namespace "
                "{{ $labels.namespace }} is restarting",
                "The " + where + ' restarted {{ $value | printf "%.0f" }} times in the last '
                f"{s.pod_restarts_window} (threshold {s.pod_restarts_threshold}){_held(s.pod_restarts_for)}.",
                "kubectl -n <namespace> logs --previous <pod> and describe pod: last termination reason "
                "(OOMKilled, Error), failing probes, configuration errors.",
            )
        )
        ctr = f'{ns}, container!="", container!="POD"'
        by_sum = "sum by (namespace, pod, container)"
        wnd = s.cpu_throttling_window
        rules.append(
            self.rule(
                "FlinkCPUThrottlingHigh",
                f"{by_sum} (increase(container_cpu_cfs_throttled_periods_total{{{ctr}}}[{wnd}]))\n/\n"
                f"{by_sum} (increase(container_cpu_cfs_periods_total{{{ctr}}}[{wnd}]))\n"
                f"> {_num(s.cpu_throttling_ratio)}",
                s.cpu_throttling_for,
                "Container {{ $labels.container }} of pod {{ $labels.pod }} in namespace "
                "{{ $labels.namespace }} is CPU-throttled",
                "{{ $value | humanizePercentage }} of the CFS periods of " + where + " were throttled over "
                f"{wnd} (threshold {_num(s.cpu_throttling_ratio * 100)}%){_held(s.cpu_throttling_for)}.",
                "The CPU limit is too low for the load (or GC / RocksDB compaction bursts): raise the CPU "
                "limit or drop it in favour of requests; throttled TaskManagers cause backpressure and "
                "heartbeat timeouts.",
            )
        )
        return rules


def alert_groups(
    namespace: str,
    targets: Sequence[AlertTarget],
    settings: AlertSettings,
    flink_major: int,
) -> list[dict[str, Any]]:
    """The ``spec.groups`` of the PrometheusRule for ``namespace``.

    One group per Flink deployment (sorted by name, ``flink.<namespace>.deployment.<name>``) with one
    rule per alert kind, then the namespace-wide group ``flink.<namespace>.pods`` with the
    Kubernetes-level alerts. Deployment names are DNS labels (no dots), so group names are unique.
    """
    if flink_major not in (1, 2):
        raise ValueError(f"flink_major must be 1 or 2, got {flink_major}")
    if not namespace:
        raise ValueError("namespace must not be empty")
    seen: set[str] = set()
    for target in targets:
        if target.namespace != namespace:
            raise ValueError(
                f"alert target {target.deployment!r} is in namespace {target.namespace!r}, not {namespace!r}"
            )
        if not target.deployment or "." in target.deployment:
            raise ValueError(f"invalid deployment name {target.deployment!r}")
        if target.deployment in seen:
            raise ValueError(f"duplicate alert target {target.deployment!r}")
        if target.expected_taskmanagers < 0:
            raise ValueError(f"{target.deployment}: expected_taskmanagers must not be negative")
        seen.add(target.deployment)

    builder = _Builder(settings, flink_major)
    groups: list[dict[str, Any]] = [
        {"name": f"flink.{namespace}.deployment.{target.deployment}", "rules": builder.deployment_rules(target)}
        for target in sorted(targets, key=lambda t: t.deployment)
    ]
    groups.append({"name": f"flink.{namespace}.pods", "rules": builder.namespace_rules(namespace)})
    return groups
