"""The Kubernetes objects around the jobs: what the configuration decides, and every way a user can get
it wrong (a located problem, exit 2, no traceback, nothing written)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.render.kubernetes import check_kustomization, cpu_quantity, memory_quantity
from tests.conftest import edit, run_cli, tree_digest
from tests.kubernetes_support import K8S_NAMESPACE, NAMESPACE, objects, render_docs, single_profile_config

LOCATED = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<message>.*)$", re.M)


def render(config: Path, out: Path, *args: str) -> Any:
    return run_cli("render", "--config", str(config), "--out", str(out), "--namespace", NAMESPACE, *args)


def one(docs: dict[str, dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in objects(docs, kind) if d["metadata"]["name"] == name]
    return doc


# -- quotas --------------------------------------------------------------------------------------------------------
def test_quota_is_the_running_deployments_plus_headroom_and_one_spare_pod(tmp_path: Path) -> None:
    config = single_profile_config(tmp_path / "config", "stateful-heavy")
    docs = render_docs("prod", config)
    # fraud-scoring: 1 JobManager (1 CPU, 2g, CPU limit factor 1.5: Ververica Platform runs one, whatever
    # kubernetes.jobmanager.replicas says) and 4 TaskManagers (4 CPU, 16g, 1.5)
    requests_cpu, requests_mem = 1 * 1 + 4 * 4, 1 * 2 + 4 * 16
    limits_cpu = 1 * 1.5 + 4 * 6
    hard = one(docs, "ResourceQuota", "flink")["spec"]["hard"]
    assert hard["requests.cpu"] == "21250m"  # 17 + max(25% = 4.25, largest pod 4)
    assert requests_cpu + max(requests_cpu * 0.25, 4) == 21.25
    assert hard["requests.memory"] == "84480Mi"  # 66 + max(16.5, 16) = 82.5Gi
    assert requests_mem + max(requests_mem * 0.25, 16) == 82.5
    assert hard["limits.cpu"] == "31875m"  # 25.5 + max(6.375, 6)
    assert limits_cpu + max(limits_cpu * 0.25, 6) == 31.875
    assert hard["pods"] == "7"  # 5 + max(2, 1)
    limit_range = one(docs, "LimitRange", "flink")["spec"]["limits"][0]
    assert limit_range["max"] == {"cpu": "6", "memory": "16Gi"}  # the largest container's limits
    assert limit_range["default"] == limit_range["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}


def test_quota_counts_the_jobmanagers_each_platform_runs(tmp_path: Path) -> None:
    """The Flink operator runs kubernetes.jobmanager.replicas JobManagers (2 here); VVP runs one."""
    config = single_profile_config(tmp_path / "config", "stateful-heavy")
    vvp = one(render_docs("prod", config), "ResourceQuota", "flink")["spec"]["hard"]
    operator = one(render_docs("prod", config, target="flink-operator"), "ResourceQuota", "flink")["spec"]["hard"]
    assert int(operator["pods"]) == int(vvp["pods"]) + 1


def test_limit_factors_are_explicit_in_every_shipped_profile() -> None:
    from generator.config.layers import example_config_dir

    for profile in (example_config_dir() / "profiles").glob("*.yaml"):
        conf = yaml.safe_load(profile.read_text())["spec"]["template"]["spec"]["flinkConfiguration"]
        for component in ("jobmanager", "taskmanager"):
            for resource in ("cpu", "memory"):
                assert f"kubernetes.{component}.{resource}.limit-factor" in conf, profile.name


def test_a_suspended_deployment_reserves_no_quota_and_raises_no_alerts(config: Path) -> None:
    before = render_docs("prod", config)
    edit(config / "deployments/analytics/events-ingest.yaml", "spec:\n", "spec:\n  state: SUSPENDED\n")
    after = render_docs("prod", config)
    quota = {d: one(docs, "ResourceQuota", "flink")["spec"]["hard"] for d, docs in (("b", before), ("a", after))}
    assert int(quota["a"]["pods"]) < int(quota["b"]["pods"])
    groups = {g["name"] for g in one(after, "PrometheusRule", "flink-alerts")["spec"]["groups"]}
    assert not any("events-ingest" in g for g in groups)
    # its NetworkPolicies stay, so resuming it needs no other change
    assert one(after, "NetworkPolicy", "events-ingest-taskmanager")


def test_quantities() -> None:
    assert [cpu_quantity(m) for m in (100, 1000, 2500, 72000)] == ["100m", "1", "2500m", "72"]
    assert memory_quantity(128 << 20) == "128Mi"
    assert memory_quantity(45 << 30) == "45Gi"
    assert memory_quantity(1536 << 20) == "1536Mi"
    assert memory_quantity(1000) == "1000"


# -- accounts, RBAC, monitoring placement -----------------------------------------------------------------------
def test_without_kubernetes_ha_no_pod_gets_a_token_or_a_role(config: Path) -> None:
    edit(config / "baseline.yaml", "high-availability.type: kubernetes", "high-availability.type: NONE")
    edit(config / "baseline.yaml", "kubernetes.jobmanager.replicas: 2", "kubernetes.jobmanager.replicas: 1")
    for profile in ("small", "stateful-heavy", "high-throughput"):
        edit(
            config / f"profiles/{profile}.yaml",
            "kubernetes.jobmanager.replicas: 2",
            "kubernetes.jobmanager.replicas: 1",
        )
    docs = render_docs("prod", config)
    assert all(sa["automountServiceAccountToken"] is False for sa in objects(docs, "ServiceAccount"))
    assert [r["metadata"]["name"] for r in objects(docs, "Role")] == ["prometheus-pod-discovery"]
    for policy in objects(docs, "NetworkPolicy"):
        for rule in policy["spec"].get("egress") or []:
            assert all(peer.get("ipBlock", {}).get("cidr") != "172.20.0.1/32" for peer in rule["to"])


def test_service_accounts_carry_the_workload_identity_annotations(config: Path) -> None:
    edit(
        config / "namespaces/analytics.yaml",
        "  kubernetes:\n",
        "  kubernetes:\n    serviceAccounts:\n      annotations:\n"
        "        eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/flink-analytics\n",
    )
    docs = render_docs("prod", config)
    for account in objects(docs, "ServiceAccount"):
        assert account["metadata"]["annotations"] == {
            "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/flink-analytics"
        }


def test_monitoring_objects_can_live_where_prometheus_looks(config: Path) -> None:
    edit(
        config / "environments/prod.yaml",
        "    namespace: monitoring\n",
        "    namespace: monitoring\n    resourceNamespace: monitoring\n",
    )
    docs = render_docs("prod", config)
    (monitor,) = objects(docs, "PodMonitor")
    assert monitor["metadata"]["namespace"] == "monitoring"
    assert monitor["metadata"]["name"] == f"{K8S_NAMESPACE}-flink"  # unique among the namespaces it serves
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [K8S_NAMESPACE]}
    (rule,) = objects(docs, "PrometheusRule")
    assert rule["metadata"]["namespace"] == "monitoring"
    # discovery RBAC stays with the pods
    assert one(docs, "Role", "prometheus-pod-discovery")["metadata"]["namespace"] == K8S_NAMESPACE


def test_development_may_allow_any_destination_on_a_port(config: Path) -> None:
    edit(config / "environments/dev.yaml", "cidrs: [10.10.8.0/24]", "cidrs: [0.0.0.0/0]")
    docs = render_docs("dev", config)
    egress = one(docs, "NetworkPolicy", "fraud-scoring-egress")["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}]} in egress


def test_kustomization_check() -> None:
    good = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["a.yaml"]}
    assert check_kustomization(good) == []
    assert check_kustomization({**good, "resources": ["a.yaml", "a.yaml"]})
    assert check_kustomization({**good, "resources": ["../b.yaml"]})
    assert check_kustomization({**good, "namespace": "x"})
    assert check_kustomization({**good, "kind": "Component"})


# -- bad input ------------------------------------------------------------------------------------------------------
BAD: list[tuple[str, str, str, str, str, str, str]] = [
    # id, file, old, new, file of the problem, key, message fragment
    (
        "monitoring-not-configured",
        "environments/prod.yaml",
        "    selectorLabels:\n      release: kube-prometheus-stack\n",
        "",
        "environments/prod.yaml",
        "platform.monitoring.selectorLabels",
        "is not set",
    ),
    (
        "random-blob-port",
        "baseline.yaml",
        "blob.server.port: 6124",
        "blob.server.port: 0",
        "baseline.yaml",
        "spec.template.spec.flinkConfiguration.blob.server.port",
        "random port",
    ),
    (
        "ha-port-not-pinned",
        "baseline.yaml",
        "        high-availability.jobmanager.port: 6123\n",
        "",
        "baseline.yaml",
        "spec.template.spec.flinkConfiguration.high-availability.jobmanager.port",
        "not set, so Flink picks a random port",
    ),
    (
        "metrics-port-range",
        "baseline.yaml",
        "metrics.reporter.prom.port: 9249",
        "metrics.reporter.prom.port: 9249-9250",
        "baseline.yaml",
        "spec.template.spec.flinkConfiguration.metrics.reporter.prom.port",
        "is not a single port",
    ),
    (
        "reporter-removed",
        "profiles/stateful-heavy.yaml",
        "        state.backend.type: rocksdb\n",
        "        state.backend.type: rocksdb\n        metrics.reporter.prom.factory.class: null\n",
        "deployments/analytics/fraud-scoring.yaml",
        "spec.template.spec.flinkConfiguration.metrics.reporter.prom.factory.class",
        "the Prometheus reporter is not configured",
    ),
    (
        "reporter-not-started",
        "profiles/stateful-heavy.yaml",
        "        state.backend.type: rocksdb\n",
        "        state.backend.type: rocksdb\n        metrics.reporters: jmx\n",
        "profiles/stateful-heavy.yaml",
        "spec.template.spec.flinkConfiguration.metrics.reporters",
        "does not start the Prometheus reporter",
    ),
    (
        "egress-anywhere-in-prod",
        "environments/prod.yaml",
        "cidrs: [10.30.8.0/24]",
        "cidrs: [0.0.0.0/0]",
        "environments/prod.yaml",
        "platform.kubernetes.networkPolicy.objectStore.cidrs[0]",
        "allows egress to every address, which production does not tolerate",
    ),
    (
        "cidr-with-host-bits",
        "namespaces/analytics.yaml",
        "cidrs: [10.40.0.0/20]",
        "cidrs: [10.40.1.0/20]",
        "namespaces/analytics.yaml",
        "platform.kubernetes.networkPolicy.egress[0].cidrs[0]",
        "is not a network",
    ),
    (
        "bad-port-range",
        "namespaces/analytics.yaml",
        "ports: [9093]",
        "ports: [9094-9092]",
        "namespaces/analytics.yaml",
        "platform.kubernetes.networkPolicy.egress[0].ports[0]",
        "not a port range",
    ),
    (
        "ha-without-api-server",
        "environments/prod.yaml",
        "    apiServer:\n      cidrs: [172.20.0.1/32, 10.30.0.0/28]\n      ports: [443, 6443]\n",
        "",
        "baseline.yaml",
        "spec.template.spec.flinkConfiguration.high-availability.type",
        "Kubernetes HA needs the Kubernetes API",
    ),
    (
        "object-store-not-declared",
        "environments/prod.yaml",
        "      objectStore:\n        description: S3 through the interface endpoint (PrivateLink) of the prod VPC\n"
        "        cidrs: [10.30.8.0/24]\n        ports: [443]\n",
        "",
        "baseline.yaml",
        "spec.template.spec.flinkConfiguration.high-availability.storageDir",
        "is on an object store, but no egress to it is declared",
    ),
    (
        "default-service-account",
        "namespaces/analytics.yaml",
        "  kubernetes:\n",
        "  kubernetes:\n    serviceAccounts:\n      taskmanager: default\n",
        "namespaces/analytics.yaml",
        "platform.kubernetes.serviceAccounts.taskmanager",
        "must not run as the namespace's default ServiceAccount",
    ),
    (
        "namespace-wide-setting-in-a-deployment",
        "deployments/analytics/fraud-scoring.yaml",
        "platform:\n",
        "platform:\n  monitoring:\n    namespace: prometheus\n",
        "deployments/analytics/fraud-scoring.yaml",
        "platform.monitoring",
        "differs from the namespace's value",
    ),
    (
        "alert-hold-longer-than-window",
        "environments/prod.yaml",
        "  alerts:\n",
        "  alerts:\n    oomFor: 30m\n",
        "environments/prod.yaml",
        "platform.alerts.oomFor",
        "must be shorter than oomWindow",
    ),
    (
        "scrape-timeout-above-interval",
        "environments/prod.yaml",
        "    namespace: monitoring\n",
        "    namespace: monitoring\n    scrapeInterval: 15s\n    scrapeTimeout: 20s\n",
        "environments/prod.yaml",
        "platform.monitoring.scrapeTimeout",
        "longer than the scrape interval",
    ),
    (
        "queryable-state",
        "baseline.yaml",
        "        rest.port: 8081\n",
        "        rest.port: 8081\n        queryable-state.enable: true\n",
        "baseline.yaml",
        "spec.template.spec.flinkConfiguration.queryable-state.enable",
        "queryable state",
    ),
    (
        "typo-in-network-policy",
        "namespaces/analytics.yaml",
        "    networkPolicy:\n",
        "    networkPolicies:\n",
        "namespaces/analytics.yaml",
        "platform.kubernetes.networkPolicies",
        "unknown key (hint: did you mean 'networkPolicy'?)",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_located_and_nothing_is_written(case: tuple[str, ...], config: Path, tmp_path: Path) -> None:
    _id, file, old, new, where, key, fragment = case
    out = tmp_path / "out"
    assert render(config, out).code == 0
    before = tree_digest(out)
    edit(config / file, old, new)
    result = render(config, out)
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    found = [m for m in LOCATED.finditer(result.stderr) if m.group("key") == key]
    assert found, result.stderr
    assert found[0].group("file").endswith(where), result.stderr
    assert fragment in found[0].group("message"), result.stderr
    if new.strip() and fragment != "unknown key":
        # located on the line that says it, when a line says it
        marker = new.strip().splitlines()[-1].strip()
        if ".egress[" in key:
            marker = "egress:"  # an item of a list merged by name: at the list of the layer that wrote it
        lines = (config / file).read_text().splitlines()
        expected = next((i for i, text in enumerate(lines, 1) if marker in text), None)
        if expected is not None and found[0].group("file").endswith(file):
            assert int(found[0].group("line")) == expected, result.stderr
    assert tree_digest(out) == before


def test_no_rest_client_is_a_problem(config: Path, tmp_path: Path) -> None:
    text = (config / "environments/prod.yaml").read_text()
    start = text.index("      restClients:\n")
    end = text.index("      objectStore:\n")
    (config / "environments/prod.yaml").write_text(text[:start] + text[end:])
    result = render(config, tmp_path / "out", "--env", "prod")
    assert result.code == 2
    assert "platform.kubernetes.networkPolicy.restClients: no REST client is declared" in result.stderr


def test_a_footprint_adds_scales_and_compares_every_field_in_order() -> None:
    import dataclasses

    from generator.render.footprint import Footprint

    a, b = Footprint(*range(1, 8)), Footprint(*range(10, 80, 10))
    assert a.astuple() == dataclasses.astuple(a) == (1, 2, 3, 4, 5, 6, 7)
    assert (a + b).astuple() == (11, 22, 33, 44, 55, 66, 77)
    assert a.scaled(3) == Footprint(3, 6, 9, 12, 15, 18, 21)
    assert Footprint(9, 0, 9, 0, 9, 0, 9).most(a) == Footprint(9, 2, 9, 4, 9, 6, 9)
