"""Strict JSON Schemas + semantic rules for the custom resources gen emits."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from generator.validate.crd_schemas import CRD_KINDS, check_crd, load_crd_validators, parse_duration_ms

Doc = dict[str, Any]


# --------------------------------------------------------------------------------------------------
# Valid examples


def pod_monitor() -> Doc:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": "orders-flink",
            "namespace": "flink-jobs",
            "labels": {"release": "prometheus", "app.kubernetes.io/name": "orders"},
            "annotations": {"gen/source": "orders.yaml"},
        },
        "spec": {
            "selector": {
                "matchLabels": {"app": "orders"},
                "matchExpressions": [{"key": "component", "operator": "In", "values": ["jobmanager", "taskmanager"]}],
            },
            "namespaceSelector": {"matchNames": ["flink-jobs"]},
            "podMetricsEndpoints": [
                {
                    "port": "metrics",
                    "path": "/metrics",
                    "scheme": "http",
                    "interval": "30s",
                    "scrapeTimeout": "10s",
                    "honorLabels": False,
                    "filterRunning": True,
                    "relabelings": [
                        {
                            "action": "replace",
                            "sourceLabels": ["__meta_kubernetes_pod_label_component"],
                            "targetLabel": "component",
                        },
                        {"action": "labeldrop", "regex": "pod_template_hash"},
                    ],
                    "metricRelabelings": [{"action": "drop", "sourceLabels": ["__name__"], "regex": "x_.*"}],
                    "params": {"format": ["prometheus"]},
                    "tlsConfig": {"insecureSkipVerify": False},
                }
            ],
            "jobLabel": "app",
            "podTargetLabels": ["app", "component"],
            "sampleLimit": 50000,
        },
    }


def prometheus_rule() -> Doc:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "orders-flink", "namespace": "flink-jobs", "labels": {"release": "prometheus"}},
        "spec": {
            "groups": [
                {
                    "name": "flink.orders.recording",
                    "interval": "1m",
                    "rules": [
                        {
                            "record": "job:flink_restarts:increase10m",
                            "expr": "increase(flink_jobmanager_job_numRestarts[10m])",
                            "labels": {"team": "data"},
                        }
                    ],
                },
                {
                    "name": "flink.orders.alerts",
                    "rules": [
                        {
                            "alert": "FlinkJobRestarting",
                            "expr": "job:flink_restarts:increase10m > 0",
                            "for": "5m",
                            "keep_firing_for": "10m",
                            "labels": {"severity": "warning"},
                            "annotations": {"summary": "Flink job {{ $labels.job_name }} restarts"},
                        },
                        {"alert": "AlwaysFiring", "expr": 1},
                    ],
                },
            ]
        },
    }


def flink_deployment() -> Doc:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "orders", "namespace": "flink-jobs", "labels": {"app": "orders"}},
        "spec": {
            "image": "flink:1.20",
            "imagePullPolicy": "IfNotPresent",
            "flinkVersion": "v1_20",
            "serviceAccount": "flink",
            "mode": "native",
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": "2",
                "high-availability.type": "kubernetes",
                "high-availability.storageDir": "s3://bucket/ha",
                "execution.checkpointing.dir": "s3://bucket/checkpoints",
                "execution.checkpointing.savepoint-dir": "s3://bucket/savepoints",
                "metrics.reporter.prom.factory.class": (
                    "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
                ),
                "metrics.reporter.prom.port": "9249",
            },
            "logConfiguration": {"log4j-console.properties": "rootLogger.level = INFO\n"},
            "podTemplate": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"labels": {"team": "data"}},
                "spec": {
                    "containers": [
                        {
                            "name": "flink-main-container",
                            "ports": [{"name": "metrics", "containerPort": 9249, "protocol": "TCP"}],
                            "env": [{"name": "TZ", "value": "UTC"}],
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                    "securityContext": {"runAsNonRoot": True},
                },
            },
            "ingress": {"template": "/{{namespace}}/{{name}}(/|$)(.*)", "className": "nginx"},
            "jobManager": {"resource": {"cpu": 1, "memory": "2048m"}, "replicas": 2},
            "taskManager": {
                "resource": {"cpu": 0.5, "memory": "4g", "ephemeralStorage": "2G"},
                "replicas": 3,
            },
            "job": {
                "jarURI": "local:///opt/flink/usrlib/orders.jar",
                "entryClass": "com.example.Orders",
                "args": ["--topic", "orders"],
                "parallelism": 6,
                "state": "running",
                "upgradeMode": "last-state",
                "savepointTriggerNonce": 1,
                "allowNonRestoredState": False,
            },
            "restartNonce": 2,
        },
    }


def flink_session_job() -> Doc:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": "orders-enrich", "namespace": "flink-jobs"},
        "spec": {
            "deploymentName": "session-cluster",
            "job": {
                "jarURI": "https://artifacts.example.com/enrich.jar",
                "parallelism": 2,
                "upgradeMode": "stateless",
            },
            "flinkConfiguration": {"pipeline.name": "orders-enrich"},
        },
    }


VALID: dict[str, Callable[[], Doc]] = {
    "PodMonitor": pod_monitor,
    "PrometheusRule": prometheus_rule,
    "FlinkDeployment": flink_deployment,
    "FlinkSessionJob": flink_session_job,
}


def errors_after(factory: Callable[[], Doc], mutate: Callable[[Doc], None]) -> list[str]:
    doc = copy.deepcopy(factory())
    mutate(doc)
    return check_crd(doc)


def assert_error(errors: list[str], *fragments: str) -> None:
    assert any(all(f in e for f in fragments) for e in errors), f"no error containing {fragments!r} in:\n" + "\n".join(
        errors
    )


# --------------------------------------------------------------------------------------------------
# Loading


def test_validators_cover_every_kind_and_are_cached() -> None:
    validators = load_crd_validators()
    assert set(validators) == CRD_KINDS
    again = load_crd_validators()
    assert all(validators[k] is again[k] for k in CRD_KINDS)


def test_schema_files_are_valid_2020_12_with_ids() -> None:
    crd_dir = files("generator") / "_data" / "schemas" / "output" / "crd"
    names = sorted(e.name for e in crd_dir.iterdir() if e.name.endswith(".json"))
    assert names == [
        "FlinkDeployment.json",
        "FlinkSessionJob.json",
        "PodMonitor.json",
        "PrometheusRule.json",
        "_defs.json",
    ]
    for name in names:
        schema = json.loads((crd_dir / name).read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"https://gen.schemas/output/crd/{name}"
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_example_passes(kind: str) -> None:
    assert check_crd(VALID[kind]()) == []


def test_message_format_names_kind_name_and_path() -> None:
    errors = errors_after(pod_monitor, lambda d: d["spec"]["podMetricsEndpoints"][0].update(port="Bad_Port"))
    assert errors and errors[0].startswith("PodMonitor/orders-flink: spec.podMetricsEndpoints[0].port: ")


def test_unknown_kind_is_reported() -> None:
    assert_error(check_crd({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}), "ConfigMap/x", "kind")


def test_parse_duration_ms() -> None:
    assert parse_duration_ms("1m30s") == 90_000
    assert parse_duration_ms("0") == 0
    assert parse_duration_ms("1h5ms") == 3_600_005
    assert parse_duration_ms("30 s") is None
    assert parse_duration_ms("") is None


# --------------------------------------------------------------------------------------------------
# PodMonitor


def _endpoint(doc: Doc) -> dict[str, Any]:
    endpoint: dict[str, Any] = doc["spec"]["podMetricsEndpoints"][0]
    return endpoint


def test_pod_monitor_target_port_rejected() -> None:
    errors = errors_after(pod_monitor, lambda d: _endpoint(d).update(targetPort=9249))
    assert_error(errors, "spec.podMetricsEndpoints[0].targetPort", "deprecated")


def test_pod_monitor_endpoint_without_port() -> None:
    errors = errors_after(pod_monitor, lambda d: _endpoint(d).pop("port"))
    assert_error(errors, "spec.podMetricsEndpoints[0].port", "port")


def test_pod_monitor_port_number_only_is_not_enough() -> None:
    def mutate(d: Doc) -> None:
        _endpoint(d).pop("port")
        _endpoint(d)["portNumber"] = 9249

    assert_error(errors_after(pod_monitor, mutate), "spec.podMetricsEndpoints[0].port")


def test_pod_monitor_unknown_key() -> None:
    errors = errors_after(pod_monitor, lambda d: _endpoint(d).update(intervall="30s"))
    assert_error(errors, "spec.podMetricsEndpoints[0].intervall", "unknown field")
    errors = errors_after(pod_monitor, lambda d: d["spec"].update(podMetricEndpoints=[]))
    assert_error(errors, "spec.podMetricEndpoints", "unknown field")


def test_pod_monitor_bad_interval() -> None:
    errors = errors_after(pod_monitor, lambda d: _endpoint(d).update(interval="30 seconds"))
    assert_error(errors, "spec.podMetricsEndpoints[0].interval", "duration")


def test_pod_monitor_scrape_timeout_greater_than_interval() -> None:
    errors = errors_after(pod_monitor, lambda d: _endpoint(d).update(interval="15s", scrapeTimeout="1m"))
    assert errors == [
        "PodMonitor/orders-flink: spec.podMetricsEndpoints[0].scrapeTimeout: 1m is greater than the "
        "scrape interval 15s (prometheus-operator rejects the resource)"
    ]


def test_pod_monitor_selector_required_and_non_empty() -> None:
    assert_error(errors_after(pod_monitor, lambda d: d["spec"].pop("selector")), "spec.selector", "required")
    assert_error(errors_after(pod_monitor, lambda d: d["spec"].update(selector={})), "spec.selector", "empty")


def test_pod_monitor_match_expression_values_follow_operator() -> None:
    def exists_with_values(d: Doc) -> None:
        d["spec"]["selector"]["matchExpressions"] = [{"key": "app", "operator": "Exists", "values": ["x"]}]

    assert_error(errors_after(pod_monitor, exists_with_values), "matchExpressions[0].values", "empty")


def test_pod_monitor_bad_scheme_and_relabel_action() -> None:
    errors = errors_after(pod_monitor, lambda d: _endpoint(d).update(scheme="ftp"))
    assert_error(errors, "spec.podMetricsEndpoints[0].scheme")
    errors = errors_after(pod_monitor, lambda d: _endpoint(d)["relabelings"][1].update(action="delete"))
    assert_error(errors, "spec.podMetricsEndpoints[0].relabelings[1].action")


def test_pod_monitor_metadata_name_and_labels() -> None:
    errors = errors_after(pod_monitor, lambda d: d["metadata"].update(name="Orders_Flink"))
    assert_error(errors, "metadata.name", "DNS-1123")
    errors = errors_after(pod_monitor, lambda d: d["metadata"]["labels"].update(release="a b"))
    assert_error(errors, "metadata.labels.release", "label value")


# --------------------------------------------------------------------------------------------------
# PrometheusRule


def _rule(doc: Doc, group: int = 1, rule: int = 0) -> dict[str, Any]:
    found: dict[str, Any] = doc["spec"]["groups"][group]["rules"][rule]
    return found


def test_prometheus_rule_both_record_and_alert() -> None:
    errors = errors_after(prometheus_rule, lambda d: _rule(d).update(record="job:x:sum"))
    assert_error(errors, "spec.groups[1].rules[0]", "exactly one of 'record' or 'alert'")


def test_prometheus_rule_neither_record_nor_alert() -> None:
    errors = errors_after(prometheus_rule, lambda d: _rule(d).pop("alert"))
    assert_error(errors, "spec.groups[1].rules[0]", "exactly one of 'record' or 'alert'")


def test_prometheus_rule_annotations_on_recording_rule() -> None:
    errors = errors_after(prometheus_rule, lambda d: _rule(d, 0).update(annotations={"summary": "x"}))
    assert_error(errors, "spec.groups[0].rules[0].annotations", "alerting rules")


def test_prometheus_rule_for_on_recording_rule() -> None:
    errors = errors_after(prometheus_rule, lambda d: _rule(d, 0).update({"for": "5m"}))
    assert_error(errors, "spec.groups[0].rules[0].for", "alerting rules")


def test_prometheus_rule_duplicate_group_names() -> None:
    errors = errors_after(prometheus_rule, lambda d: d["spec"]["groups"][1].update(name="flink.orders.recording"))
    assert_error(errors, "spec.groups[1].name", "duplicate group name")


def test_prometheus_rule_duplicate_alert_names_in_group() -> None:
    errors = errors_after(prometheus_rule, lambda d: _rule(d, 1, 1).update(alert="FlinkJobRestarting"))
    assert_error(errors, "spec.groups[1].rules[1].alert", "duplicate alert name")


def test_prometheus_rule_bad_for() -> None:
    errors = errors_after(prometheus_rule, lambda d: _rule(d).update({"for": "5 minutes"}))
    assert_error(errors, "spec.groups[1].rules[0].for", "duration")
    errors = errors_after(prometheus_rule, lambda d: _rule(d).update({"for": ""}))
    assert_error(errors, "spec.groups[1].rules[0].for", "empty")


def test_prometheus_rule_group_name_and_expr_required() -> None:
    errors = errors_after(prometheus_rule, lambda d: d["spec"]["groups"][0].update(name=""))
    assert_error(errors, "spec.groups[0].name")
    errors = errors_after(prometheus_rule, lambda d: _rule(d).pop("expr"))
    assert_error(errors, "spec.groups[1].rules[0].expr", "required")


def test_prometheus_rule_label_values_must_be_strings() -> None:
    errors = errors_after(prometheus_rule, lambda d: _rule(d)["labels"].update(priority=1))
    assert_error(errors, "spec.groups[1].rules[0].labels.priority")


# --------------------------------------------------------------------------------------------------
# FlinkDeployment


def test_flink_deployment_without_flink_version() -> None:
    errors = errors_after(flink_deployment, lambda d: d["spec"].pop("flinkVersion"))
    assert_error(errors, "spec.flinkVersion", "required")


def test_flink_deployment_flink_version_v1_12() -> None:
    errors = errors_after(flink_deployment, lambda d: d["spec"].update(flinkVersion="v1_12"))
    assert_error(errors, "spec.flinkVersion", "v1_13")


@pytest.mark.parametrize("name", ["a" * 46, "Orders", "1orders", "orders-"])
def test_flink_deployment_bad_names(name: str) -> None:
    errors = errors_after(flink_deployment, lambda d: d["metadata"].update(name=name))
    assert_error(errors, "metadata.name")


def test_flink_deployment_name_of_45_chars_is_fine() -> None:
    assert errors_after(flink_deployment, lambda d: d["metadata"].update(name="a" * 45)) == []


def test_flink_deployment_jm_replicas_without_ha() -> None:
    def mutate(d: Doc) -> None:
        d["spec"]["flinkConfiguration"].pop("high-availability.type")

    assert_error(errors_after(flink_deployment, mutate), "spec.jobManager.replicas", "high availability")

    def ha_none(d: Doc) -> None:
        d["spec"]["flinkConfiguration"]["high-availability.type"] = "NONE"

    assert_error(errors_after(flink_deployment, ha_none), "spec.jobManager.replicas", "high availability")


def test_flink_deployment_legacy_ha_key_counts() -> None:
    def mutate(d: Doc) -> None:
        conf = d["spec"]["flinkConfiguration"]
        conf.pop("high-availability.type")
        conf["high-availability"] = "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory"

    assert errors_after(flink_deployment, mutate) == []


@pytest.mark.parametrize("key", ["kubernetes.namespace", "kubernetes.cluster-id", "high-availability.cluster-id"])
def test_flink_deployment_forbidden_key(key: str) -> None:
    errors = errors_after(flink_deployment, lambda d: d["spec"]["flinkConfiguration"].update({key: "x"}))
    assert_error(errors, f'spec.flinkConfiguration["{key}"]', "must not be set")


def test_flink_deployment_last_state_without_checkpoint_dir() -> None:
    errors = errors_after(
        flink_deployment, lambda d: d["spec"]["flinkConfiguration"].pop("execution.checkpointing.dir")
    )
    assert_error(errors, "spec.job.upgradeMode", "checkpoint directory")


def test_flink_deployment_legacy_checkpoint_key_counts() -> None:
    def mutate(d: Doc) -> None:
        conf = d["spec"]["flinkConfiguration"]
        conf["state.checkpoints.dir"] = conf.pop("execution.checkpointing.dir")

    assert errors_after(flink_deployment, mutate) == []


def test_flink_deployment_savepoint_nonce_without_savepoint_dir() -> None:
    def mutate(d: Doc) -> None:
        d["spec"]["flinkConfiguration"].pop("execution.checkpointing.savepoint-dir")

    assert_error(errors_after(flink_deployment, mutate), "spec.job.savepointTriggerNonce", "savepoint directory")


def test_flink_deployment_memory_missing() -> None:
    errors = errors_after(flink_deployment, lambda d: d["spec"]["jobManager"]["resource"].pop("memory"))
    assert_error(errors, "spec.jobManager.resource.memory", "required")
    errors = errors_after(flink_deployment, lambda d: d["spec"]["taskManager"]["resource"].pop("memory"))
    assert_error(errors, "spec.taskManager.resource.memory", "required")


def test_flink_deployment_replicas_at_least_one() -> None:
    errors = errors_after(flink_deployment, lambda d: d["spec"]["taskManager"].update(replicas=0))
    assert_error(errors, "spec.taskManager.replicas")
    errors = errors_after(flink_deployment, lambda d: d["spec"]["jobManager"].update(replicas=0))
    assert_error(errors, "spec.jobManager.replicas")


def test_flink_deployment_job_and_config_types() -> None:
    errors = errors_after(flink_deployment, lambda d: d["spec"]["job"].update(parallelism=0))
    assert_error(errors, "spec.job.parallelism")
    errors = errors_after(flink_deployment, lambda d: d["spec"]["job"].update(upgradeMode="last_state"))
    assert_error(errors, "spec.job.upgradeMode")
    errors = errors_after(
        flink_deployment, lambda d: d["spec"]["flinkConfiguration"].update({"parallelism.default": 4})
    )
    assert_error(errors, 'spec.flinkConfiguration["parallelism.default"]', "strings")
    errors = errors_after(flink_deployment, lambda d: d["spec"].update(logConfiguration={"log4j.properties": ""}))
    assert_error(errors, 'spec.logConfiguration["log4j.properties"]', "unknown field")


def test_flink_deployment_pod_template_checks() -> None:
    def container(d: Doc) -> dict[str, Any]:
        found: dict[str, Any] = d["spec"]["podTemplate"]["spec"]["containers"][0]
        return found

    errors = errors_after(flink_deployment, lambda d: container(d).pop("name"))
    assert_error(errors, "spec.podTemplate.spec.containers[0].name", "required")
    errors = errors_after(flink_deployment, lambda d: container(d)["env"][0].update(value=1))
    assert_error(errors, "spec.podTemplate.spec.containers[0].env[0].value")
    errors = errors_after(flink_deployment, lambda d: d["spec"]["podTemplate"]["spec"].update(container=[]))
    assert_error(errors, "spec.podTemplate.spec.container", "unknown field")


def test_flink_deployment_session_cluster_without_job_is_valid() -> None:
    def mutate(d: Doc) -> None:
        d["spec"].pop("job")
        d["spec"]["flinkConfiguration"] = {"taskmanager.numberOfTaskSlots": "4"}
        d["spec"]["jobManager"]["replicas"] = 1

    assert errors_after(flink_deployment, mutate) == []


# --------------------------------------------------------------------------------------------------
# FlinkSessionJob


def test_flink_session_job_without_deployment_name() -> None:
    errors = errors_after(flink_session_job, lambda d: d["spec"].pop("deploymentName"))
    assert_error(errors, "spec.deploymentName", "required")


def test_flink_session_job_requires_jar_uri() -> None:
    errors = errors_after(flink_session_job, lambda d: d["spec"]["job"].pop("jarURI"))
    assert_error(errors, "spec.job.jarURI", "required")


def test_flink_session_job_forbidden_key() -> None:
    errors = errors_after(
        flink_session_job, lambda d: d["spec"]["flinkConfiguration"].update({"kubernetes.cluster-id": "x"})
    )
    assert_error(errors, 'spec.flinkConfiguration["kubernetes.cluster-id"]', "must not be set")
