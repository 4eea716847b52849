"""Values of the flink-kubernetes-operator Helm chart, one file per environment."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.validate.flink_operator_values import check_values, parse_flink_conf
from tests.conftest import edit, run_cli
from tests.unit.test_flink_operator import docs

VALUES = "helm/flink-kubernetes-operator-values.yaml"


def values(config: Path | None = None, env: str = "prod", *sets: str) -> dict[str, Any]:
    return docs(config, env, *sets)[f"{env}/{VALUES}"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_values_per_environment(env: str) -> None:
    found = values(None, env)
    assert check_values(found) == []
    assert found["watchNamespaces"] == ["flink-analytics"]
    registry = "docker.io/apache" if env == "dev" else "registry.acme.internal/mirror/apache"
    assert found["image"] == {
        "repository": f"{registry}/flink-kubernetes-operator",
        "tag": "1.15.0",
        "pullPolicy": "IfNotPresent",
    }
    # the JobManager account the FlinkDeployments name; gen renders it and its Role per namespace
    assert found["jobServiceAccount"] == {"create": False, "name": "flink-jobmanager"}
    assert found["rbac"]["jobRole"]["create"] is False and found["rbac"]["jobRoleBinding"]["create"] is False
    assert found["podSecurityContext"]["runAsNonRoot"] is True
    for key in ("operatorSecurityContext", "webhookSecurityContext"):
        assert found[key]["allowPrivilegeEscalation"] is False and found[key]["capabilities"] == {"drop": ["ALL"]}
    conf, bad = parse_flink_conf(found["defaultConfiguration"]["flink-conf.yaml"])
    assert bad == []
    assert found["metrics"] == {"port": 9999}
    assert conf["kubernetes.operator.metrics.reporter.prom.port"] == "9999"
    assert conf["kubernetes.operator.metrics.reporter.prom.factory.class"].endswith("PrometheusReporterFactory")
    # the platform baseline, as every FlinkDeployment also carries it
    assert conf["restart-strategy.type"] == "failure-rate"
    assert conf["high-availability.type"] == "kubernetes"
    assert conf["metrics.reporter.prom.port"] == "9249"
    # never a namespace's storage paths, never a key the operator owns
    assert not any("s3://" in v for v in conf.values())
    assert "kubernetes.jobmanager.replicas" not in conf


def test_the_baseline_in_the_defaults_is_what_every_deployment_renders() -> None:
    rendered = docs(None, "prod")
    conf, _ = parse_flink_conf(rendered[f"prod/{VALUES}"]["defaultConfiguration"]["flink-conf.yaml"])
    for path, doc in rendered.items():
        if doc.get("kind") != "FlinkDeployment":
            continue
        deployment_conf = doc["spec"]["flinkConfiguration"]
        shared = {k: v for k, v in conf.items() if not k.startswith("kubernetes.operator.")}
        # a profile may override the baseline (slots, state backend): what it does not override matches
        overridden = {"taskmanager.numberOfTaskSlots", "state.backend.type", "execution.checkpointing.incremental"}
        for key, value in shared.items():
            if key not in overridden and not key.startswith("kubernetes."):
                assert deployment_conf.get(key) == value, (path, key)


def test_metrics_port_digest_pull_secrets_and_operator_keys(config: Path) -> None:
    digest = "sha256:" + "0f" * 32
    edit(
        config / "baseline.yaml",
        "    chart:\n",
        "    chart:\n      metricsPort: 9998\n      webhook: false\n"
        "      imagePullSecrets:\n        - name: mirror-pull\n"
        "      defaultConfiguration:\n        kubernetes.operator.reconcile.interval: 30 s\n"
        "        kubernetes.operator.leader-election.enabled: false\n",
    )
    edit(config / "baseline.yaml", "        tag: 1.15.0\n", f"        tag: 1.15.0\n        digest: {digest}\n")
    found = values(config, "prod")
    assert check_values(found) == []
    assert found["image"]["digest"] == digest
    assert found["metrics"] == {"port": 9998}
    assert found["webhook"] == {"create": False}
    assert found["imagePullSecrets"] == [{"name": "mirror-pull"}]
    conf, _ = parse_flink_conf(found["defaultConfiguration"]["flink-conf.yaml"])
    assert conf["kubernetes.operator.metrics.reporter.prom.port"] == "9998"
    assert conf["kubernetes.operator.reconcile.interval"] == "30 s"
    assert conf["kubernetes.operator.leader-election.enabled"] == "false"


def test_the_reporter_is_ours(config: Path) -> None:
    baseline = config / "baseline.yaml"
    edit(
        baseline,
        "    chart:\n",
        "    chart:\n      defaultConfiguration:\n        kubernetes.operator.metrics.reporter.prom.port: 9000\n",
    )
    result = run_cli("render", "--config", str(config), "-t", "flink-operator", "-e", "prod", "-o", str(config / "o"))
    assert result.code == 2
    line = next(i for i, t in enumerate(baseline.read_text().splitlines(), 1) if "reporter.prom.port" in t)
    assert f"{baseline}:{line}:" in result.stderr and "metricsPort" in result.stderr


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _second_namespace(config: Path, extra: str = "") -> Path:
    path = config / "namespaces/payments.yaml"
    path.write_text(
        "platform:\n  kubernetesNamespace: flink-payments\n"
        '  storage:\n    baseUri: "s3://acme-flink-{{ env }}/{{ namespace }}"\n'
        f"{extra}"
        'spec:\n  deploymentTargetName: "{{ namespace }}"\n'
    )
    return path


def test_every_namespace_on_the_target_is_watched(config: Path) -> None:
    _second_namespace(config)
    found = values(config, "prod")
    assert found["watchNamespaces"] == ["flink-analytics", "flink-payments"]
    assert check_values(found) == []


def test_namespaces_must_agree_on_the_chart(config: Path) -> None:
    path = _second_namespace(config, "  flinkOperator:\n    chart:\n      metricsPort: 9998\n")
    result = run_cli("render", "--config", str(config), "-t", "flink-operator", "-e", "prod", "-o", str(config / "o"))
    assert result.code == 2
    assert (
        f"{path}:{_line(path, 'metricsPort')}:" in result.stderr and "installed once per environment" in result.stderr
    )


def test_namespaces_must_agree_on_the_job_account(config: Path) -> None:
    path = _second_namespace(config, "  kubernetes:\n    serviceAccounts:\n      jobmanager: payments-jm\n")
    result = run_cli("render", "--config", str(config), "-t", "flink-operator", "-e", "prod", "-o", str(config / "o"))
    assert result.code == 2
    assert (
        f"{path}:{_line(path, 'payments-jm')}:" in result.stderr and "one job account per environment" in result.stderr
    )


def test_chart_settings_in_a_deployment_file_are_an_error(config: Path) -> None:
    path = config / "deployments/analytics/events-ingest.yaml"
    edit(path, "metadata:\n", "platform:\n  flinkOperator:\n    chart:\n      metricsPort: 9990\nmetadata:\n")
    result = run_cli("render", "--config", str(config), "-t", "flink-operator", "-e", "prod", "-o", str(config / "o"))
    assert result.code == 2
    assert f"{path}:{_line(path, 'metricsPort')}:" in result.stderr
    assert "cannot change it" in result.stderr


def test_no_values_without_a_namespace_on_the_target() -> None:
    assert not any(p.endswith(VALUES) for p in docs(None, "prod", target="vvp"))


# -- the strict schema -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    return values(None, "prod")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda v: v.update(replicaCount=2), "Additional properties are not allowed ('replicaCount'"),
        (lambda v: v.update(watchNamespaces=[]), "should be non-empty"),
        (lambda v: v["image"].update(tag="latest"), "should not be valid under {'const': 'latest'}"),
        (lambda v: v["image"].pop("tag"), "is not valid under any of the given schemas"),
        (lambda v: v["podSecurityContext"].update(runAsNonRoot=False), "True was expected"),
        (lambda v: v["jobServiceAccount"].update(nme="x"), "Additional properties are not allowed ('nme'"),
        (lambda v: v["metrics"].update(port=9000), "metrics.port exposes 9000"),
        (
            lambda v: v["defaultConfiguration"].update({"flink-conf.yaml": "just text\n"}),
            "is not 'key: value'",
        ),
    ],
)
def test_the_values_schema_rejects(good: dict[str, Any], change: Any, message: str) -> None:
    broken = copy.deepcopy(good)
    change(broken)
    found = check_values(broken)
    assert any(message in line for line in found), found


def test_the_values_file_is_plain_yaml_helm_reads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", "-t", "flink-operator", "-e", "dev", "-o", str(out)).code == 0
    text = (out / "dev" / VALUES).read_text()
    loaded = yaml.safe_load(text)
    assert loaded["defaultConfiguration"]["flink-conf.yaml"].startswith("# rendered by gen")
    assert "flink-conf.yaml: |" in text  # a literal block, as the chart documents it
