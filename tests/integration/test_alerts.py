"""Alert rules: promtool check + promtool unit tests for every alert (real promtool, never skipped).

The unit-test document is generated here from the same AlertTarget/AlertSettings as the rules, so the
expected values follow the settings. The metric series shapes (names and labels) are hard-coded: they
are the contract with the Flink Prometheus reporter, the PodMonitor, kube-state-metrics and cAdvisor.
The expected summary/description texts are written out here independently of the generator.

Series notation (promtool): ``a+bxn`` is n+1 samples a, a+b, ... ; one sample per minute from 0m.
Expected values assume Prometheus 2.x range selection ([t-window, t], both ends included).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import jsonschema
import pytest

from generator.render import alert_rules as R
from generator.render import alert_settings as S
from generator.render import alerts as A
from generator.render.alert_settings import AlertSettings
from generator.render.alerts import AlertTarget, alert_groups, alert_settings_from_mapping
from generator.validate import promtool

NS = "flink-prod"
ELSEWHERE = "other-team"  # same deployment names in another namespace: must never alert for NS
# orders checkpoints every 2 minutes and tolerates 3 failed checkpoints; payments has checkpointing off
TARGETS = (AlertTarget("orders", NS, 2, 120_000, 3), AlertTarget("payments", NS, 3))

# hard-coded on purpose: which alerts page (severity from settings.severity)
PAGING = {
    "FlinkJobManagerDown",
    "FlinkTaskManagersMissing",
    "FlinkJobRestarting",
    "FlinkCheckpointToleranceReached",
    "FlinkSourceLagGrowing",
    "FlinkContainerOOMKilled",
}

PROD = alert_settings_from_mapping(
    {"labels": {"team": "data-platform"}, "runbookBaseUrl": "https://runbooks.example.com/flink"}
)
DEV = alert_settings_from_mapping(
    {
        "severity": "warning",
        "warningSeverity": "info",
        "checkpointFailuresThreshold": 2,
        "checkpointFailuresWindow": "15m",
        "checkpointFailuresFor": "5m",
        "checkpointDurationRatio": 3,
        "checkpointDurationBaseline": "2h",
        "checkpointDurationFloor": "1m",
        "checkpointDurationFor": "10m",
        "backpressureThresholdMs": 800,
        "backpressureWindow": "10m",
        "backpressureFor": "20m",
        "sourceLagWindow": "10m",
        "sourceLagMinRecords": 0,
        "sourceLagFor": "5m",
        "restartsThreshold": 5,
        "restartsWindow": "30m",
        "restartsFor": "2m",
        "oomWindow": "30m",
        "oomFor": "5m",
        "evictionWindow": "1h",
        "evictionFor": "2m",
        "jobmanagerDownFor": "10m",
        "taskmanagersMissingFor": "15m",
        "cpuThrottlingRatio": 0.5,
        "cpuThrottlingWindow": "10m",
        "cpuThrottlingFor": "30m",
        "podRestartsThreshold": 5,
        "podRestartsWindow": "1h",
        "podRestartsFor": "10m",
    }
)
SETTINGS = {"prod": PROD, "dev": DEV}
SCENARIOS = [(env, major) for env in ("prod", "dev") for major in (1, 2)]
SCENARIO_IDS = [f"{env}-flink{major}" for env, major in SCENARIOS]


@pytest.fixture(scope="session", autouse=True)
def _promtool_installed() -> None:
    if promtool.find_promtool() is None:
        pytest.fail(f"promtool is required by these tests and was not found; {promtool.INSTALL_HINT}")


# ---------------------------------------------------------------------------------------------------------
# series helpers


def minutes(duration: str) -> int:
    seconds = S.duration_seconds(duration)
    assert seconds % 60 == 0, f"test settings use whole minutes, got {duration}"
    return int(seconds // 60)


def const(value: float, n: int) -> str:
    """n samples of value."""
    return f"{value}+0x{n - 1}"


def ramp(start: float, step: float, n: int) -> str:
    """n samples start, start+step, ..."""
    return f"{start}+{step}x{n - 1}"


def missing(n: int) -> str:
    return " ".join(["_"] * n)


def key(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in labels.items()) + "}"


@dataclass(frozen=True)
class Dep:
    """Hard-coded label shapes of one Flink deployment's series (the scrape contract)."""

    ns: str
    name: str

    @property
    def job(self) -> str:
        return f"{self.name}-job"

    def jm(self) -> dict[str, str]:
        return {
            "namespace": self.ns,
            "pod": f"{self.name}-jobmanager-0",
            "flink_deployment": self.name,
            "component": "jobmanager",
            "host": "10_0_0_1",
        }

    def tm(self, i: int) -> dict[str, str]:
        pod = f"{self.name}-taskmanager-1-{i}"
        return {
            "namespace": self.ns,
            "pod": pod,
            "flink_deployment": self.name,
            "component": "taskmanager",
            "host": f"10_0_1_{i}",
            "tm_id": pod,
        }

    def up(self, labels: dict[str, str]) -> str:
        return key("up", {**labels, "job": f"{self.ns}/flink", "instance": labels["host"] + ":9249"})

    def jm_job(self, metric: str) -> str:
        return key(f"flink_jobmanager_job_{metric}", {**self.jm(), "job_name": self.job, "job_id": "a1b2c3"})

    def registered_tms(self) -> str:
        return key("flink_jobmanager_numRegisteredTaskManagers", self.jm())

    def task(self, metric: str, task: str, subtask: int) -> str:
        labels = {**self.tm(subtask + 1), "job_name": self.job, "job_id": "a1b2c3", "task_name": task}
        return key(f"flink_taskmanager_job_task_{metric}", {**labels, "subtask_index": str(subtask)})

    def operator(self, metric: str, subtask: int) -> str:
        labels = {**self.tm(subtask + 1), "job_name": self.job, "task_name": "Source:_orders"}
        return key(
            f"flink_taskmanager_job_task_operator_{metric}",
            {**labels, "operator_name": "Source:_orders", "subtask_index": str(subtask)},
        )

    def pods(self) -> list[tuple[str, str]]:
        """(pod, container) of the deployment (operator naming: flink-main-container)."""
        return [
            (self.jm()["pod"], "flink-main-container"),
            (self.tm(1)["pod"], "flink-main-container"),
            (self.tm(2)["pod"], "flink-main-container"),
        ]


def ksm(metric: str, ns: str, pod: str, container: str | None = None, **extra: str) -> str:
    labels = {"namespace": ns, "pod": pod}
    if container is not None:
        labels["container"] = container
    labels.update(extra)
    return key(metric, {**labels, "uid": f"uid-{pod}", "job": "kube-state-metrics", "instance": "ksm:8080"})


def cadvisor(metric: str, ns: str, pod: str, container: str | None) -> str:
    labels = {"namespace": ns, "pod": pod}
    if container is not None:
        labels["container"] = container
    return key(metric, {**labels, "job": "kubelet", "metrics_path": "/metrics/cadvisor"})


RESTARTS = "kube_pod_container_status_restarts_total"
LAST_REASON = "kube_pod_container_status_last_terminated_reason"
POD_REASON = "kube_pod_status_reason"
THROTTLED = "container_cpu_cfs_throttled_periods_total"
PERIODS = "container_cpu_cfs_periods_total"
KAFKA_LAG = "KafkaSourceReader_KafkaConsumer_records_lag_max"
LEGACY_KAFKA_LAG = "KafkaConsumer_records_lag_max"


UPTIME_MS = 86_400_000  # the healthy jobs have been running for a day


def healthy_checkpoint_ms(s: AlertSettings) -> int:
    return max(2 * S.duration_ms(s.checkpoint_duration_floor), 2000)


def healthy_throttled_per_minute(s: AlertSettings) -> int:
    return int(600 * s.cpu_throttling_ratio / 2)


def baseline(targets: tuple[AlertTarget, ...], s: AlertSettings, major: int, n: int) -> dict[str, str]:
    """Healthy series for every deployment of NS: keeps every alert silent."""
    series: dict[str, str] = {}
    lag = s.source_lag_min_records + 500
    for t in targets:
        d = Dep(NS, t.deployment)
        series[d.up(d.jm())] = const(1, n)
        series[d.up(d.tm(1))] = const(1, n)
        series[d.up(d.tm(2))] = const(1, n)
        series[d.registered_tms()] = const(t.expected_taskmanagers, n)
        series[d.jm_job("numberOfFailedCheckpoints")] = const(0, n)
        series[d.jm_job("numberOfCompletedCheckpoints")] = ramp(1000, 1, n)
        series[d.jm_job("uptime")] = ramp(UPTIME_MS, 60_000, n)
        series[d.jm_job("numRestarts")] = const(0, n)
        series[d.jm_job("lastCheckpointDuration")] = const(healthy_checkpoint_ms(s), n)
        for subtask in (0, 1):
            for task in ("Source:_orders", "Sink:_warehouse"):
                series[d.task("backPressuredTimeMsPerSecond", task, subtask)] = const(
                    s.backpressure_threshold_ms // 2, n
                )
            series[d.operator("pendingRecords", subtask)] = const(lag, n)
            series[d.operator(KAFKA_LAG, subtask)] = const(lag, n)
            if major == 1:
                series[d.operator(LEGACY_KAFKA_LAG, subtask)] = const(lag, n)
        for pod, container in d.pods():
            series[ksm(RESTARTS, NS, pod, container)] = const(0, n)
            series[ksm(POD_REASON, NS, pod, reason="Evicted")] = const(0, n)
            series[cadvisor(PERIODS, NS, pod, container)] = ramp(0, 600, n)
            series[cadvisor(THROTTLED, NS, pod, container)] = ramp(0, healthy_throttled_per_minute(s), n)
            # pod-level cgroup (no container label) and the pause container: not selected
            for pseudo in (None, "POD"):
                series[cadvisor(PERIODS, NS, pod, pseudo)] = ramp(0, 600, n)
                series[cadvisor(THROTTLED, NS, pod, pseudo)] = ramp(0, 600, n)
        # an old OOM kill without a recent restart must not alert
        tm2 = d.tm(2)["pod"]
        series[ksm(LAST_REASON, NS, tm2, "flink-main-container", reason="OOMKilled")] = const(1, n)
    return series


# ---------------------------------------------------------------------------------------------------------
# firing cases


@dataclass
class Case:
    name: str
    alertname: str
    deployment: str | None  # None: namespace-wide alert
    fire_at: int  # minute
    quiet_at: list[int]  # minutes at which this alert must not fire
    series: Callable[[str, int], dict[str, str]]  # (namespace, n) -> overriding series
    labels: dict[str, str]
    summary: str
    description: str
    foreign: bool = True  # also feed the same series in ELSEWHERE
    extra_samples: int = 5
    meta: dict[str, Any] = field(default_factory=dict)
    step: int = 60  # seconds between samples; fire_at and quiet_at count samples


def held(for_: str) -> str:
    return f" for at least {for_}" if S.duration_ms(for_) > 0 else ""


def flink_where(d: str) -> str:
    return f"job {d}-job (Flink deployment {d}, namespace {NS})"


def deployment_cases(t: AlertTarget, s: AlertSettings, major: int) -> Iterator[Case]:
    d = t.deployment
    dep = lambda ns: Dep(ns, d)  # noqa: E731
    job_labels = {"namespace": NS, "flink_deployment": d, "job_name": f"{d}-job"}
    j = 10  # minute at which trouble starts

    # -- JobManager down: up == 0, and the target disappearing
    f = minutes(s.jobmanager_down_for)
    summary = f"JobManager of Flink deployment {d} in namespace {NS} is down"
    description = (
        f"No JobManager metrics target of Flink deployment {d} in namespace {NS} is up "
        f"(up == 0 or no target scraped){held(s.jobmanager_down_for)}."
    )
    jm_labels = {"namespace": NS, "flink_deployment": d}
    yield Case(
        f"{d}: JobManager target up == 0",
        "FlinkJobManagerDown",
        d,
        j + f,
        [j - 1],
        lambda ns, n: {dep(ns).up(dep(ns).jm()): const(1, j) + " " + const(0, n - j)},
        jm_labels,
        summary,
        description,
    )
    yield Case(
        f"{d}: JobManager target gone",
        "FlinkJobManagerDown",
        d,
        j + f,
        [j - 1],
        lambda ns, n: {dep(ns).up(dep(ns).jm()): const(1, j) + " stale"},
        jm_labels,
        summary,
        description,
        foreign=False,
    )

    # -- TaskManagers missing
    if t.expected_taskmanagers > 0:
        f = minutes(s.taskmanagers_missing_for)
        e = t.expected_taskmanagers
        yield Case(
            f"{d}: one TaskManager missing",
            "FlinkTaskManagersMissing",
            d,
            j + f,
            [j - 1],
            lambda ns, n, e=e: {dep(ns).registered_tms(): const(e, j) + " " + const(e - 1, n - j)},
            jm_labels,
            f"Flink deployment {d} in namespace {NS} has fewer TaskManagers than expected",
            f"Only {e - 1} of {e} expected TaskManagers are registered with the JobManager of Flink "
            f"deployment {d} in namespace {NS}{held(s.taskmanagers_missing_for)}.",
        )

    # -- counters ramping: restarts and failed checkpoints (increase over a window fully in the ramp)
    def counter_case(metric: str, threshold: int, window: str, for_: str) -> tuple[int, int, Callable[..., Any]]:
        w = minutes(window)
        per_minute = math.ceil(threshold / w)
        fire_at = j + w + minutes(for_)

        def series(ns: str, n: int) -> dict[str, str]:
            return {dep(ns).jm_job(metric): const(0, j) + " " + ramp(per_minute, per_minute, n - j)}

        return fire_at, per_minute * w, series

    fire_at, value, series = counter_case("numRestarts", s.restarts_threshold, s.restarts_window, s.restarts_for)
    yield Case(
        f"{d}: job restarting",
        "FlinkJobRestarting",
        d,
        fire_at,
        [j - 1],
        series,
        job_labels,
        f"Flink job {d}-job (deployment {d}, namespace {NS}) is restarting repeatedly",
        f"Job {d}-job of Flink deployment {d} in namespace {NS} restarted {value} times in the last "
        f"{s.restarts_window} (threshold {s.restarts_threshold}){held(s.restarts_for)}.",
    )
    fire_at, value, series = counter_case(
        "numberOfFailedCheckpoints",
        s.checkpoint_failures_threshold,
        s.checkpoint_failures_window,
        s.checkpoint_failures_for,
    )
    yield Case(
        f"{d}: checkpoints failing",
        "FlinkCheckpointFailures",
        d,
        fire_at,
        [j - 1],
        series,
        job_labels,
        f"Checkpoints failing for Flink job {d}-job of deployment {d} in namespace {NS}",
        f"{value} checkpoint(s) of {flink_where(d)} failed in the last {s.checkpoint_failures_window} "
        f"(threshold {s.checkpoint_failures_threshold}), more than {s.startup_grace} after the job's last "
        f"start or restart{held(s.checkpoint_failures_for)}.",
    )
    if t.checkpoint_interval_ms is not None:
        # every checkpoint from sample j on fails and none completes; sampled twice per checkpoint interval
        step = t.checkpoint_interval_ms // 2000
        assert step * 2000 == t.checkpoint_interval_ms, "test intervals: whole seconds, even"
        streak = max(t.tolerable_failed_checkpoints, 1)
        floor_ms = S.duration_ms(s.checkpoint_tolerance_min_window)
        quiet_ms = max(int((streak - 0.5) * t.checkpoint_interval_ms), floor_ms)
        window_ms = quiet_ms + t.checkpoint_interval_ms

        def failing(ns: str, n: int) -> dict[str, str]:
            failed = [str((m - j) // 2) if m >= j else "0" for m in range(n)]
            done = [str(1000 + min(m, j)) for m in range(n)]
            return {
                dep(ns).jm_job("numberOfFailedCheckpoints"): " ".join(failed),
                dep(ns).jm_job("numberOfCompletedCheckpoints"): " ".join(done),
            }

        yield Case(
            f"{d}: checkpoint failures reach the tolerance",
            "FlinkCheckpointToleranceReached",
            d,
            j + 2 * streak,
            [j - 1, j + 2 * streak - 1],
            failing,
            job_labels,
            f"Flink job {d}-job of deployment {d} in namespace {NS} is at its checkpoint failure tolerance",
            f"{streak} checkpoint(s) of {flink_where(d)} failed in the last {S.format_duration(window_ms)} and "
            f"none completed in the last {S.format_duration(quiet_ms)}: the job tolerates "
            f"{t.tolerable_failed_checkpoints} consecutive failed checkpoint(s) "
            "(execution.checkpointing.tolerable-failed-checkpoints), the next counted failure fails it and every "
            "failure makes the restore replay more data.",
            extra_samples=1,
            step=step,
        )

    # -- checkpoint duration jumps to k x the healthy value at minute `jump` (after a full baseline)
    b = minutes(s.checkpoint_duration_baseline)
    f = minutes(s.checkpoint_duration_for)
    jump = b + 1
    samples, slow = b + 1, f + 1  # samples in the baseline window at fire time, of which slow
    assert samples > s.checkpoint_duration_ratio * slow, "baseline too short for the hold time"
    k = next(k for k in range(2, 10_000) if k * samples / ((samples - slow) + k * slow) > s.checkpoint_duration_ratio)
    ratio = k * samples / ((samples - slow) + k * slow)
    healthy_ms = healthy_checkpoint_ms(s)
    yield Case(
        f"{d}: checkpoint duration above baseline",
        "FlinkCheckpointDurationHigh",
        d,
        jump + f,
        [jump - 1],
        lambda ns, n: {
            dep(ns).jm_job("lastCheckpointDuration"): const(healthy_ms, jump) + " " + const(k * healthy_ms, n - jump)
        },
        job_labels,
        f"Checkpoint duration of Flink job {d}-job (deployment {d}, namespace {NS}) is above its baseline",
        f"The last checkpoint of {flink_where(d)} took {ratio:.1f}x its {s.checkpoint_duration_baseline} "
        f"average (threshold {s.checkpoint_duration_ratio:g}x, only above {s.checkpoint_duration_floor})"
        f"{held(s.checkpoint_duration_for)}.",
        meta={"ratio": ratio},
    )

    # -- backpressure on subtask 0 of the source task; subtask 1 and the sink stay healthy
    bp = (s.backpressure_threshold_ms + 1000) // 2
    healthy_bp = s.backpressure_threshold_ms // 2
    yield Case(
        f"{d}: backpressure",
        "FlinkBackpressureSustained",
        d,
        j + minutes(s.backpressure_window) + minutes(s.backpressure_for),
        [j - 1],
        lambda ns, n: {
            dep(ns).task("backPressuredTimeMsPerSecond", "Source:_orders", 0): const(healthy_bp, j)
            + " "
            + const(bp, n - j)
        },
        {**job_labels, "task_name": "Source:_orders"},
        f"Sustained backpressure on task Source:_orders of Flink job {d}-job (deployment {d}, namespace {NS})",
        f"Task Source:_orders of {flink_where(d)} is back-pressured {bp} ms/s on average over "
        f"{s.backpressure_window} (threshold {s.backpressure_threshold_ms} ms/s){held(s.backpressure_for)}.",
    )

    # -- source lag growing by 600 records/min = 10 records/s on subtask 0, per lag metric
    lag = s.source_lag_min_records + 500
    lag_metrics = ["pendingRecords", KAFKA_LAG] + ([LEGACY_KAFKA_LAG] if major == 1 else [])
    for metric in lag_metrics:
        yield Case(
            f"{d}: source lag growing ({metric})",
            "FlinkSourceLagGrowing",
            d,
            j + minutes(s.source_lag_window) + minutes(s.source_lag_for),
            [j - 1],
            lambda ns, n, metric=metric: {  # type: ignore[misc]
                dep(ns).operator(metric, 0): const(lag, j) + " " + ramp(lag + 600, 600, n - j)
            },
            {**job_labels, "task_name": "Source:_orders"},
            f"Source lag of Flink job {d}-job (deployment {d}, namespace {NS}) keeps growing",
            f"The backlog of source task Source:_orders of {flink_where(d)} grew by 10.0 records/s over "
            f"the last {s.source_lag_window} and is above {s.source_lag_min_records} records"
            f"{held(s.source_lag_for)}.",
        )


def namespace_cases(s: AlertSettings) -> Iterator[Case]:
    pod = "orders-taskmanager-1-1"
    container = "flink-main-container"
    labels = {"namespace": NS, "pod": pod, "container": container}
    where = f"container {container} of pod {pod} (namespace {NS})"

    w, f = minutes(s.oom_window), minutes(s.oom_for)
    j = w + 1
    yield Case(
        "OOM kill",
        "FlinkContainerOOMKilled",
        None,
        j + f,
        [j - 1],
        lambda ns, n, j=j: {
            ksm(RESTARTS, ns, pod, container): const(0, j) + " " + const(1, n - j),
            ksm(LAST_REASON, ns, pod, container, reason="OOMKilled"): missing(j) + " " + const(1, n - j),
        },
        labels,
        f"Container {container} of pod {pod} in namespace {NS} was OOMKilled",
        f"The {where} restarted 1 time(s) in the last {s.oom_window} and was last terminated with reason "
        f"OOMKilled{held(s.oom_for)}.",
    )

    w, f = minutes(s.eviction_window), minutes(s.eviction_for)
    j = w + 1
    yield Case(
        "eviction",
        "FlinkPodEvicted",
        None,
        j + f,
        [j - 1, j + w],  # an eviction alerts for `window`, not for as long as the pod object exists
        lambda ns, n, j=j: {ksm(POD_REASON, ns, pod, reason="Evicted"): const(0, j) + " " + const(1, n - j)},
        {"namespace": NS, "pod": pod},
        f"Pod {pod} in namespace {NS} was evicted",
        f"Pod {pod} in namespace {NS} was evicted within the last {s.eviction_window}{held(s.eviction_for)}.",
    )

    w, f = minutes(s.pod_restarts_window), minutes(s.pod_restarts_for)
    per_minute = math.ceil(s.pod_restarts_threshold / w)
    j = 10
    yield Case(
        "pod restarting",
        "FlinkPodRestarting",
        None,
        j + w + f,
        [j - 1],
        lambda ns, n, j=j: {ksm(RESTARTS, ns, pod, container): const(0, j) + " " + ramp(per_minute, per_minute, n - j)},
        labels,
        f"Container {container} of pod {pod} in namespace {NS} is restarting",
        f"The {where} restarted {per_minute * w} times in the last {s.pod_restarts_window} "
        f"(threshold {s.pod_restarts_threshold}){held(s.pod_restarts_for)}.",
    )

    w, f = minutes(s.cpu_throttling_window), minutes(s.cpu_throttling_for)
    healthy = healthy_throttled_per_minute(s)
    throttled = min(600, int(600 * s.cpu_throttling_ratio) + 60)
    value = (throttled * w) / (600 * w)
    j = 10
    yield Case(
        "CPU throttling",
        "FlinkCPUThrottlingHigh",
        None,
        j + w + f,
        [j - 1],
        lambda ns, n, j=j: {
            cadvisor(THROTTLED, ns, pod, container): ramp(0, healthy, j)
            + " "
            + ramp(healthy * (j - 1) + throttled, throttled, n - j)
        },
        labels,
        f"Container {container} of pod {pod} in namespace {NS} is CPU-throttled",
        # promtool's humanizePercentage is Go's fmt.Sprintf("%.4g%%", v*100)
        f"{'%.4g' % (value * 100)}% of the CFS periods of {where} were throttled over "
        f"{s.cpu_throttling_window} (threshold {s.cpu_throttling_ratio * 100:g}%){held(s.cpu_throttling_for)}.",
    )


def all_cases(s: AlertSettings, major: int) -> list[Case]:
    cases = [c for t in TARGETS for c in deployment_cases(t, s, major)]
    return cases + list(namespace_cases(s))


def rule_for(groups: list[dict[str, Any]], alertname: str, deployment: str | None) -> dict[str, Any]:
    name = f"flink.{NS}.deployment.{deployment}" if deployment else f"flink.{NS}.pods"
    (group,) = (g for g in groups if g["name"] == name)
    (rule,) = (r for r in group["rules"] if r["alert"] == alertname)
    return rule


def reads(rule: dict[str, Any], series: str) -> bool:
    name = series.split("{", 1)[0]
    return re.search(rf"(?<![A-Za-z0-9_]){name}\{{", rule["expr"]) is not None


def severity(s: AlertSettings, alertname: str) -> str:
    return s.severity if alertname in PAGING else s.warning_severity


def input_series(series: dict[str, str]) -> list[dict[str, str]]:
    return [{"series": k, "values": v} for k, v in series.items()]


def unit_test_document(groups: list[dict[str, Any]], s: AlertSettings, major: int) -> dict[str, Any]:
    tests: list[dict[str, Any]] = []
    for case in all_cases(s, major):
        n = case.fire_at + case.extra_samples + 1
        rule = rule_for(groups, case.alertname, case.deployment)
        # the healthy series this rule reads (other deployments, subtasks, pods) must keep it silent;
        # series of other metrics cannot matter for it and would only slow promtool down
        series = {k: v for k, v in baseline(TARGETS, s, major, n).items() if reads(rule, k)}
        series.update(case.series(NS, n))
        if case.foreign:
            series.update(case.series(ELSEWHERE, n))
        annotations = {"summary": case.summary, "description": case.description}
        annotations.update({k: v for k, v in rule["annotations"].items() if k.startswith("runbook")})
        exp_labels = {"severity": severity(s, case.alertname), **case.labels, **dict(s.labels)}
        at = case.step
        checks = [{"eval_time": f"{m * at}s", "alertname": case.alertname, "exp_alerts": []} for m in case.quiet_at]
        checks.append(
            {
                "eval_time": f"{case.fire_at * at}s",
                "alertname": case.alertname,
                "exp_alerts": [{"exp_labels": exp_labels, "exp_annotations": annotations}],
            }
        )
        tests.append(
            {
                "name": case.name,
                "interval": f"{at}s",
                "input_series": input_series(series),
                "alert_rule_test": sorted(checks, key=lambda c: int(c["eval_time"][:-1])),
            }
        )
    # all healthy: nothing fires, early and after the longest window (the full checkpoint-duration
    # baseline is covered by that alert's own case, which stays quiet before the jump)
    windows = [getattr(s, f.name) for f in dataclasses.fields(s) if f.name.endswith("_window")]
    n = max(minutes(w) for w in windows) + 30
    tests.append(
        {
            "name": "healthy namespace",
            "interval": "1m",
            "input_series": input_series(baseline(TARGETS, s, major, n)),
            "alert_rule_test": [
                {"eval_time": f"{m}m", "alertname": name, "exp_alerts": []}
                for m in (1, 30, n - 1)
                for name in R.ALERT_NAMES
            ],
        }
    )
    return {"evaluation_interval": "30s", "tests": tests}


# ---------------------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize(("env", "major"), SCENARIOS, ids=SCENARIO_IDS)
def test_promtool_check_rules(env: str, major: int) -> None:
    promtool.check_rules(alert_groups(NS, TARGETS, SETTINGS[env], major))


@pytest.mark.parametrize(("env", "major"), SCENARIOS, ids=SCENARIO_IDS)
def test_promtool_unit_tests(env: str, major: int) -> None:
    s = SETTINGS[env]
    groups = alert_groups(NS, TARGETS, s, major)
    promtool.test_rules(groups, unit_test_document(groups, s, major))


@pytest.mark.parametrize(("env", "major"), SCENARIOS, ids=SCENARIO_IDS)
def test_every_alert_has_a_firing_test(env: str, major: int) -> None:
    s = SETTINGS[env]
    groups = alert_groups(NS, TARGETS, s, major)
    defined = {
        (rule["alert"], group["name"].split(".deployment.")[1] if ".deployment." in group["name"] else None)
        for group in groups
        for rule in group["rules"]
    }
    tested = {(c.alertname, c.deployment) for c in all_cases(s, major)}
    assert defined == tested
    assert {name for name, _ in defined} == set(R.ALERT_NAMES)


def test_promtool_failure_is_reported() -> None:
    groups = alert_groups(NS, TARGETS, PROD, 2)
    broken = [{"name": "broken", "rules": [{"alert": "X", "expr": "sum(rate(x[5m])"}]}]
    with pytest.raises(promtool.PromtoolError, match="parse error"):
        promtool.check_rules(broken)
    doc = unit_test_document(groups, PROD, 2)
    doc["tests"] = doc["tests"][:1]
    promtool.test_rules(groups, doc)
    wrong = doc["tests"][0]["alert_rule_test"][-1]["exp_alerts"][0]["exp_annotations"]
    wrong["summary"] += " (wrong)"
    with pytest.raises(promtool.PromtoolError, match="FAILED"):
        promtool.test_rules(groups, doc)


@pytest.mark.parametrize("major", [1, 2])
def test_severity_prod_pages_dev_warns(major: int) -> None:
    for env, expected_paging, expected_other in (("prod", "critical", "warning"), ("dev", "warning", "info")):
        groups = alert_groups(NS, TARGETS, SETTINGS[env], major)
        for group in groups:
            for rule in group["rules"]:
                want = expected_paging if rule["alert"] in PAGING else expected_other
                assert rule["labels"]["severity"] == want, (env, rule["alert"])
                assert rule["labels"]["namespace"] == NS
                assert ("team" in rule["labels"]) == (env == "prod")
    assert AlertSettings().severity == "critical"
    assert alert_settings_from_mapping({"severity": "warning"}).severity == "warning"


def test_groups_are_deterministic_and_unique() -> None:
    shuffled = tuple(reversed(TARGETS))
    groups = alert_groups(NS, shuffled, PROD, 2)
    assert groups == alert_groups(NS, TARGETS, PROD, 2)
    names = [g["name"] for g in groups]
    assert names == [f"flink.{NS}.deployment.orders", f"flink.{NS}.deployment.payments", f"flink.{NS}.pods"]
    assert len(set(names)) == len(names)
    for g in groups:
        alerts = [r["alert"] for r in g["rules"]]
        assert len(set(alerts)) == len(alerts)
        for rule in g["rules"]:
            assert set(rule["annotations"]) >= {"summary", "description", "runbook"}
            assert "{{ $labels.namespace }}" in rule["annotations"]["summary"]
            if ".deployment." in g["name"]:
                assert rule["labels"]["flink_deployment"] == g["name"].rsplit(".", 1)[1]
                assert "{{ $labels.flink_deployment }}" in rule["annotations"]["summary"]
            else:
                assert "{{ $labels.pod }}" in rule["annotations"]["summary"]


def test_metric_names_follow_flink_major() -> None:
    for major in (1, 2):
        text = json.dumps(alert_groups(NS, TARGETS, PROD, major))
        assert "fullRestarts" not in text
        assert "flink_jobmanager_job_numRestarts" in text
        assert "_total" not in text.replace("kube_pod_container_status_restarts_total", "").replace(
            "container_cpu_cfs_throttled_periods_total", ""
        ).replace("container_cpu_cfs_periods_total", "")
        assert "flink_taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer_records_lag_max" in text
        assert ("flink_taskmanager_job_task_operator_KafkaConsumer_records_lag_max" in text) == (major == 1)
    with pytest.raises(ValueError, match="flink_major"):
        alert_groups(NS, TARGETS, PROD, 3)


def test_taskmanager_alert_needs_an_expected_count() -> None:
    groups = alert_groups(NS, (AlertTarget("session", NS, 0),), PROD, 2)
    assert "FlinkTaskManagersMissing" not in {r["alert"] for r in groups[0]["rules"]}
    promtool.check_rules(groups)
    with pytest.raises(ValueError, match="namespace"):
        alert_groups(NS, (AlertTarget("orders", "elsewhere", 1),), PROD, 2)
    with pytest.raises(ValueError, match="duplicate"):
        alert_groups(NS, (AlertTarget("orders", NS, 1), AlertTarget("orders", NS, 2)), PROD, 2)


# -- settings and schema ----------------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    text = (resources.files("generator") / "_data" / "schemas" / "input" / "alerts.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def settings_as_mapping(s: AlertSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(s):
        value = getattr(s, f.name)
        if f.name == "labels":
            value = dict(value)
        if value is not None:
            out[A.camel_case(f.name)] = value
    return out


def test_schema_matches_settings() -> None:
    sch = schema()
    jsonschema.Draft202012Validator.check_schema(sch)
    assert sch["$id"] == "https://gen.schemas/input/alerts.json"
    assert sch["additionalProperties"] is False
    assert set(sch["properties"]) == {A.camel_case(f.name) for f in dataclasses.fields(AlertSettings)}
    validator = jsonschema.Draft202012Validator(sch)
    for s in (AlertSettings(), PROD, DEV):
        mapping = settings_as_mapping(s)
        validator.validate(mapping)
        assert alert_settings_from_mapping(mapping) == s
    defaults = settings_as_mapping(AlertSettings())
    for name, prop in sch["properties"].items():
        if "default" in prop:
            assert prop["default"] == defaults[name], name


@pytest.mark.parametrize(
    "bad",
    [
        {"checkpointFailuresWindow": "10 minutes"},
        {"checkpointFailuresWindow": "0m"},
        {"checkpointFailuresWindow": "1.5m"},
        {"restartsFor": "m"},
        {"restartsThreshold": 0},
        {"restartsThreshold": "3"},
        {"cpuThrottlingRatio": 1.5},
        {"backpressureThresholdMs": 1000},
        {"severity": ""},
        {"labels": {"severity": "x"}},
        {"labels": {"bad-name": "x"}},
        {"unknownKey": 1},
        {"oomFor": "10m"},  # not shorter than the default oomWindow: can never fire
    ],
)
def test_bad_settings_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        alert_settings_from_mapping(bad)
    if "oomFor" not in bad:  # cross-field rule: only the Python side checks it
        assert list(jsonschema.Draft202012Validator(schema()).iter_errors(bad)), bad


@pytest.mark.parametrize("good", ["0", "0m", "90s", "1h30m", "6h", "2d", "1w", "500ms"])
def test_durations(good: str) -> None:
    assert S.duration_ms(good) >= 0
    assert not list(jsonschema.Draft202012Validator(schema()).iter_errors({"restartsFor": good}))


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        PROD.severity = "x"  # type: ignore[misc]
    assert replace(PROD, severity="page").severity == "page"
