"""Cross-document consistency of a rendered namespace: pods, ServiceAccounts, RBAC, NetworkPolicies,
PodMonitor and PrometheusRule must agree, for every environment of the example.

Every expectation is computed from the rendered documents (pod templates, Flink configuration,
policies) with the test's own reading of Flink and Kubernetes semantics, never from gen's helpers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest

from tests.kubernetes_support import (
    ENVS,
    K8S_NAMESPACE,
    Endpoint,
    Pod,
    allowed,
    first_port,
    objects,
    pods,
    render_docs,
    selects,
)

PROMETHEUS = Endpoint("monitoring", {"app.kubernetes.io/name": "prometheus"})
VVP = Endpoint("vvp", {"app.kubernetes.io/name": "vvp"})
KUBE_DNS = Endpoint("kube-system", {"k8s-app": "kube-dns"})


TARGETS = ("vvp", "flink-operator")
CASES = [(env, target) for target in TARGETS for env in ENVS]
IDS = [f"{target}-{env}" for env, target in CASES]


@cache
def rendered(env: str, target: str) -> dict[str, dict[str, Any]]:
    return render_docs(env, target=target)


def policies(env: str, target: str) -> list[dict[str, Any]]:
    return objects(rendered(env, target), "NetworkPolicy")


def by_component(env: str, target: str) -> dict[tuple[str, str], Pod]:
    found = {(p.deployment, p.component): p for p in pods(rendered(env, target))}
    assert len(found) == 6, "three deployments, two components each"
    return found


# -- what Flink listens on (read from the rendered Flink configuration) ---------------------------------------
def _conf_port(conf: Mapping[str, str], *keys: str) -> int:
    for key in keys:
        if key in conf:
            return first_port(conf[key])
    raise AssertionError(f"none of {keys} is pinned in the rendered Flink configuration")


def jobmanager_ports(conf: Mapping[str, str]) -> dict[str, int]:
    ha = conf.get("high-availability.type", "NONE").upper() != "NONE"
    rpc = ("high-availability.jobmanager.port",) if ha else ("jobmanager.rpc.port",)
    return {
        "rpc": _conf_port(conf, *rpc),
        "blob": _conf_port(conf, "blob.server.port"),
        "rest": _conf_port(conf, "rest.bind-port", "rest.port"),
        "query": _conf_port(conf, "metrics.internal.query-service.port"),
        "metrics": _conf_port(conf, "metrics.reporter.prom.port"),
    }


def taskmanager_ports(conf: Mapping[str, str]) -> dict[str, int]:
    return {
        "rpc": _conf_port(conf, "taskmanager.rpc.port"),
        "data": _conf_port(conf, "taskmanager.data.bind-port", "taskmanager.data.port"),
        "query": _conf_port(conf, "metrics.internal.query-service.port"),
        "metrics": _conf_port(conf, "metrics.reporter.prom.port"),
    }


# -- PodMonitor ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_pod_monitor_selects_every_flink_pod_on_its_named_metrics_port(env: str, target: str) -> None:
    (monitor,) = objects(rendered(env, target), "PodMonitor")
    spec = monitor["spec"]
    assert K8S_NAMESPACE in spec["namespaceSelector"]["matchNames"]
    (endpoint,) = spec["podMetricsEndpoints"]
    assert "targetPort" not in endpoint, "targetPort is deprecated: scrape the named port"
    for pod in by_component(env, target).values():
        assert selects(spec["selector"], pod.labels), f"{pod.deployment}/{pod.component} is not scraped"
        (container,) = pod.spec["containers"]
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        assert endpoint["port"] in ports, f"{pod.deployment}/{pod.component} declares no port {endpoint['port']}"
        assert ports[endpoint["port"]] == int(pod.flink_conf["metrics.reporter.prom.port"])
        # the reporter the port belongs to is really configured
        factory = pod.flink_conf["metrics.reporter.prom.factory.class"]
        assert factory == "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
        # podTargetLabels give the series the labels the alert rules select on
        for label in ("flink-deployment", "component"):
            assert label in spec["podTargetLabels"] and label in pod.labels


@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_monitoring_objects_carry_the_prometheus_selector_label(env: str, target: str) -> None:
    for kind in ("PodMonitor", "PrometheusRule"):
        (doc,) = objects(rendered(env, target), kind)
        assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert doc["metadata"]["namespace"] == K8S_NAMESPACE


@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_alert_rules_select_the_labels_the_pod_monitor_produces(env: str, target: str) -> None:
    (monitor,) = objects(rendered(env, target), "PodMonitor")
    (rule,) = objects(rendered(env, target), "PrometheusRule")
    # prometheus-operator turns a pod label into a series label by replacing invalid characters with _
    series_labels = {re.sub(r"[^a-zA-Z0-9_]", "_", label) for label in monitor["spec"]["podTargetLabels"]}
    deployments = {pod.deployment for pod in by_component(env, target).values()}
    for group in rule["spec"]["groups"]:
        for alert in group["rules"]:
            used = set(re.findall(r"([a-z_]+)=\"", alert["expr"])) - {"namespace", "reason", "container"}
            assert used <= series_labels, f"{alert['alert']} selects on {used - series_labels}"
            value = re.search(r'flink_deployment="([^"]+)"', alert["expr"])
            if value:
                assert value.group(1) in deployments
            assert f'namespace="{K8S_NAMESPACE}"' in alert["expr"]


@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_prometheus_may_discover_the_pods(env: str, target: str) -> None:
    docs = rendered(env, target)
    bindings = [b for b in objects(docs, "RoleBinding") if b["subjects"][0]["namespace"] == "monitoring"]
    (binding,) = bindings
    (role,) = [r for r in objects(docs, "Role") if r["metadata"]["name"] == binding["roleRef"]["name"]]
    (rule,) = role["rules"]
    assert rule["resources"] == ["pods"] and {"list", "watch"} <= set(rule["verbs"])
    assert binding["subjects"][0]["name"] == "kube-prometheus-stack-prometheus"


# -- ServiceAccounts and RBAC --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_every_service_account_a_pod_names_is_rendered_and_none_is_default(env: str, target: str) -> None:
    accounts = {sa["metadata"]["name"]: sa for sa in objects(rendered(env, target), "ServiceAccount")}
    for pod in by_component(env, target).values():
        name = pod.spec.get("serviceAccountName")
        assert name and name != "default", f"{pod.deployment}/{pod.component} runs as the default account"
        assert name in accounts
        if pod.spec["automountServiceAccountToken"]:
            assert accounts[name]["automountServiceAccountToken"] is True


@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_pods_that_mount_a_token_can_do_what_kubernetes_ha_needs_and_no_more(env: str, target: str) -> None:
    docs = rendered(env, target)
    roles = {r["metadata"]["name"]: r for r in objects(docs, "Role")}
    grants: dict[str, list[dict[str, Any]]] = {}
    for binding in objects(docs, "RoleBinding"):
        for subject in binding["subjects"]:
            if subject["namespace"] == K8S_NAMESPACE:
                grants.setdefault(subject["name"], []).extend(roles[binding["roleRef"]["name"]]["rules"])
    assert not objects(docs, "ClusterRole") and not objects(docs, "ClusterRoleBinding")
    for pod in by_component(env, target).values():
        assert pod.flink_conf["high-availability.type"] == "kubernetes"
        assert pod.spec["automountServiceAccountToken"] is True
        rules = grants[pod.spec["serviceAccountName"]]
        verbs = {
            r: {v for rule in rules if r in rule["resources"] for v in rule["verbs"]}
            for rule in rules
            for r in rule["resources"]
        }
        native = target == "flink-operator" and pod.component == "jobmanager"
        # native mode: the JobManager creates its TaskManager pods, owned by its Deployment
        expected = {"configmaps", "pods", "deployments", "deployments/finalizers"} if native else {"configmaps"}
        assert set(verbs) == expected
        if pod.component == "jobmanager":
            assert {"create", "update", "delete", "watch"} <= verbs["configmaps"]  # leader election, HA metadata
        else:
            assert verbs["configmaps"] == {"get", "list", "watch"}  # TaskManagers only follow the leader
        if native:
            assert {"create", "delete", "watch"} <= verbs["pods"]
            assert verbs["deployments"] == {"get", "list", "watch"}


# -- NetworkPolicies ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_every_port_flink_listens_on_is_admitted_between_jobmanager_and_taskmanager(env: str, target: str) -> None:
    pols, found = policies(env, target), by_component(env, target)
    for deployment in {d for d, _ in found}:
        jm, tm = found[(deployment, "jobmanager")], found[(deployment, "taskmanager")]
        jm_ports, tm_ports = jobmanager_ports(jm.flink_conf), taskmanager_ports(tm.flink_conf)
        paths = [
            (tm, jm, jm_ports["rpc"]),  # registration, heartbeats
            (tm, jm, jm_ports["blob"]),  # job artifacts
            (jm, jm, jm_ports["rpc"]),  # a standby JobManager serves REST through the leader
            (jm, jm, jm_ports["query"]),
            (jm, tm, tm_ports["rpc"]),  # task deployment
            (jm, tm, tm_ports["query"]),  # metric fetcher of the web UI
            (tm, tm, tm_ports["data"]),  # shuffle
        ]
        for source, receiver, port in paths:
            assert allowed(pols, source.endpoint, receiver.endpoint, port), (
                f"{deployment}: {source.component} -> {receiver.component}:{port} is blocked"
            )
        for pod, ports in ((jm, jm_ports), (tm, tm_ports)):
            assert allowed(pols, PROMETHEUS, pod.endpoint, ports["metrics"])
        assert allowed(pols, VVP, jm.endpoint, jm_ports["rest"])
        operator = Endpoint("flink-operator", {"app.kubernetes.io/name": "flink-kubernetes-operator"})
        # the Flink operator polls the REST API of the JobManagers it manages
        assert allowed(pols, operator, jm.endpoint, jm_ports["rest"]) == (target == "flink-operator")


@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_nothing_else_is_admitted(env: str, target: str) -> None:
    pols, found = policies(env, target), by_component(env, target)
    a_jm, a_tm = found[("fraud-scoring", "jobmanager")], found[("fraud-scoring", "taskmanager")]
    _b_jm, b_tm = found[("events-ingest", "jobmanager")], found[("events-ingest", "taskmanager")]
    rpc = jobmanager_ports(a_jm.flink_conf)["rpc"]
    assert not allowed(pols, b_tm.endpoint, a_jm.endpoint, rpc), "another deployment's TaskManager"
    assert not allowed(pols, a_tm.endpoint, b_tm.endpoint, taskmanager_ports(b_tm.flink_conf)["data"])
    assert not allowed(pols, a_tm.endpoint, a_jm.endpoint, 22)
    assert not allowed(pols, a_tm.endpoint, a_jm.endpoint, jobmanager_ports(a_jm.flink_conf)["rest"])
    assert not allowed(pols, Endpoint("other", {"app.kubernetes.io/name": "prometheus"}), a_tm.endpoint, 9249)
    assert not allowed(pols, Endpoint("monitoring", {"app": "grafana"}), a_tm.endpoint, 9249)
    assert not allowed(pols, PROMETHEUS, a_jm.endpoint, 8081)
    assert not allowed(pols, Endpoint("default", {}), a_jm.endpoint, 8081)
    assert not allowed(pols, a_tm.endpoint, Endpoint(ip="8.8.8.8"), 443)
    assert not allowed(pols, a_tm.endpoint, Endpoint("kube-system", {"k8s-app": "kube-dns"}), 80)
    # the feature store is declared by fraud-scoring only
    assert allowed(pols, a_tm.endpoint, Endpoint(ip="10.50.3.7"), 5432)
    assert not allowed(pols, b_tm.endpoint, Endpoint(ip="10.50.3.7"), 5432)


@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_declared_egress_and_dns_are_admitted(env: str, target: str) -> None:
    pols = policies(env, target)
    net = {"dev": "10.10", "staging": "10.20", "prod": "10.30"}[env]
    for pod in by_component(env, target).values():
        assert allowed(pols, pod.endpoint, KUBE_DNS, 53, "UDP")
        assert allowed(pols, pod.endpoint, KUBE_DNS, 53, "TCP")
        assert allowed(pols, pod.endpoint, Endpoint(ip=f"{net}.8.10"), 443), "object store"
        assert allowed(pols, pod.endpoint, Endpoint(ip="10.40.3.1"), 9093), "Kafka"
        assert not allowed(pols, pod.endpoint, Endpoint(ip="10.40.3.1"), 9092)
        # Kubernetes HA: leader election and HA ConfigMaps through the API server
        assert allowed(pols, pod.endpoint, Endpoint(ip="172.20.0.1"), 443)
        assert allowed(pols, pod.endpoint, Endpoint(ip=f"{net}.0.5"), 6443)


@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_default_deny_covers_every_pod_in_both_directions(env: str, target: str) -> None:
    deny = [p for p in policies(env, target) if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")]
    assert any(set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"} and not p["spec"].get("egress") for p in deny)
    stranger = Endpoint(K8S_NAMESPACE, {"app": "debug-shell"})
    assert not allowed(policies(env, target), stranger, Endpoint(ip="1.1.1.1"), 443)
    assert not allowed(policies(env, target), Endpoint("default", {}), stranger, 8080)


def _allows_all_egress(rule: Mapping[str, Any]) -> bool:
    if not rule.get("to") or not rule.get("ports"):
        return True
    return any("ipBlock" in peer and peer["ipBlock"]["cidr"].endswith("/0") for peer in rule["to"])


@pytest.mark.parametrize(("env", "target"), CASES, ids=IDS)
def test_no_policy_allows_all_egress(env: str, target: str) -> None:
    for policy in policies(env, target):
        for rule in policy["spec"].get("egress") or []:
            assert not _allows_all_egress(rule), f"{policy['metadata']['name']} allows all egress: {rule}"
        for rule in policy["spec"].get("ingress") or []:
            assert rule.get("from") and rule.get("ports"), f"{policy['metadata']['name']} allows all ingress"
