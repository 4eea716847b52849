"""The PromQL alert rules: one list per Flink deployment, one for the namespace's pods.

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

import json
from typing import Any, Final

from generator.render.alert_settings import AlertSettings, duration_ms, format_duration

__all__ = ["ALERT_NAMES", "NAMESPACE_ALERTS", "PAGING_ALERTS", "PER_DEPLOYMENT_ALERTS", "RuleBuilder"]

# Alert names, in the order they appear in a group.
PER_DEPLOYMENT_ALERTS: Final = (
    "FlinkJobManagerDown",
    "FlinkTaskManagersMissing",
    "FlinkJobRestarting",
    "FlinkCheckpointFailures",
    "FlinkCheckpointToleranceReached",
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
        "FlinkCheckpointToleranceReached",
        "FlinkSourceLagGrowing",
        "FlinkContainerOOMKilled",
    }
)


def _q(value: str) -> str:
    """A PromQL string literal (Go-style quoting; JSON escapes are a subset)."""
    return json.dumps(value)


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _held(for_: str) -> str:
    return f" for at least {for_}" if duration_ms(for_) > 0 else ""


_BY_JOB = "by (namespace, flink_deployment, job_name)"
_FLINK_WHERE = (
    "job {{ $labels.job_name }} (Flink deployment {{ $labels.flink_deployment }}, namespace {{ $labels.namespace }})"
)


class RuleBuilder:
    """The rules of one PrometheusRule, with the labels and annotations every rule carries."""

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

    def deployment_rules(
        self,
        namespace: str,
        deployment: str,
        expected_taskmanagers: int,
        checkpoint_interval_ms: int | None = None,
        tolerable_failed_checkpoints: int = 0,
    ) -> list[dict[str, Any]]:
        s = self.s
        self.scope = {"namespace": namespace, "flink_deployment": deployment}
        sel = f"namespace={_q(namespace)}, flink_deployment={_q(deployment)}"
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
                "operator / Ververica Platform. A deployment suspended outside gen (its rules still rendered) "
                "also fires: suspend it in the configuration, or silence the alert for the suspension.",
            )
        )
        if expected_taskmanagers > 0:
            n = expected_taskmanagers
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
        rules += self._checkpoint_rules(sel, checkpoint_interval_ms, tolerable_failed_checkpoints)
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

    def _settled(self, sel: str, window_ms: int) -> str:
        """The jobs whose every sample in the last ``window_ms`` was taken at least ``startup_grace``
        after the job's last (re)start: the job has been RUNNING (``uptime``, which restarts at 0
        with the job and with a new JobManager) since before the window plus the grace, and no
        restart (``numRestarts``, full and fine-grained restarts alike) happened in the
        window plus the grace. Checkpoints fail to trigger until every task runs; Flink counts
        those failures in ``numberOfFailedCheckpoints`` but not against the job's tolerance."""
        grace_ms = duration_ms(self.s.startup_grace)
        uptime = f"flink_jobmanager_job_uptime{{{sel}}}"
        restarts = f"flink_jobmanager_job_numRestarts{{{sel}}}"
        return (
            f"min {_BY_JOB} (min_over_time({uptime}[{format_duration(window_ms)}])) > {grace_ms}\n"
            f"unless on (namespace, flink_deployment, job_name)\n"
            f"max {_BY_JOB} (changes({restarts}[{format_duration(window_ms + grace_ms)}])) > 0"
        )

    def _checkpoint_rules(self, sel: str, interval_ms: int | None, tolerable: int) -> list[dict[str, Any]]:
        s = self.s
        failed = f"flink_jobmanager_job_numberOfFailedCheckpoints{{{sel}}}"
        completed = f"flink_jobmanager_job_numberOfCompletedCheckpoints{{{sel}}}"
        w = s.checkpoint_failures_window
        grace = s.startup_grace
        rules = [
            self.rule(
                "FlinkCheckpointFailures",
                f"max {_BY_JOB} (increase({failed}[{w}])) >= {s.checkpoint_failures_threshold}\n"
                f"and on (namespace, flink_deployment, job_name)\n(\n{self._settled(sel, duration_ms(w))}\n)",
                s.checkpoint_failures_for,
                "Checkpoints failing for Flink job {{ $labels.job_name }} of deployment "
                "{{ $labels.flink_deployment }} in namespace {{ $labels.namespace }}",
                '{{ $value | printf "%.0f" }} checkpoint(s) of ' + _FLINK_WHERE + " failed in the last "
                f"{w} (threshold {s.checkpoint_failures_threshold}), more than {grace} after the job's last "
                f"start or restart{_held(s.checkpoint_failures_for)}.",
                "Flink UI > Checkpoints > History shows the failure cause (timeout, declined, storage "
                "error); check checkpoint storage reachability and credentials, backpressure and "
                "execution.checkpointing.timeout. Failures while tasks start after a (re)start are not "
                "counted (startupGrace).",
            )
        ]
        if interval_ms is None:
            return rules
        streak = max(tolerable, 1)
        # no completed checkpoint in the last (streak - 0.5) intervals, and at least `streak` failed
        # in one interval more: true from the streak-th failure on, and steadily while they go on
        quiet_ms = max(int((streak - 0.5) * interval_ms), duration_ms(s.checkpoint_tolerance_min_window))
        window_ms = quiet_ms + interval_ms
        wq, wf = format_duration(quiet_ms), format_duration(window_ms)
        rules.append(
            self.rule(
                "FlinkCheckpointToleranceReached",
                f"max {_BY_JOB} (increase({failed}[{wf}])) >= {streak}\n"
                f"and on (namespace, flink_deployment, job_name)\n"
                f"max {_BY_JOB} (increase({completed}[{wq}])) == 0\n"
                f"and on (namespace, flink_deployment, job_name)\n(\n{self._settled(sel, window_ms)}\n)",
                "0m",
                "Flink job {{ $labels.job_name }} of deployment {{ $labels.flink_deployment }} in namespace "
                "{{ $labels.namespace }} is at its checkpoint failure tolerance",
                '{{ $value | printf "%.0f" }} checkpoint(s) of ' + _FLINK_WHERE + f" failed in the last {wf} "
                f"and none completed in the last {wq}: the job tolerates {tolerable} consecutive failed "
                "checkpoint(s) (execution.checkpointing.tolerable-failed-checkpoints), the next counted failure "
                "fails it and every failure makes the restore replay more data.",
                "Act now: Flink UI > Checkpoints > History for the cause (storage unwritable or "
                "unreachable, credentials, timeouts under backpressure); fix the storage or raise "
                "execution.checkpointing.timeout before the job fails over.",
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
