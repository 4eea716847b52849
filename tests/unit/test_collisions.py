"""Rendered objects never collide: two gen namespaces on one Kubernetes namespace are refused at
the lines that map them, and no two documents of a run may be one Kubernetes object or VVP resource,
whatever the cause. Nothing is written."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.render import kubernetes
from generator.render.context import Doc, NamespaceContext
from generator.targets.vvp import resources as vvp_resources
from tests.conftest import edit
from tests.unit.located import assert_problem, line_of, problem_lines, refused, rendered

K8S_NS = "platform.kubernetesNamespace"


@pytest.fixture
def out(config: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    rendered(config, folder)
    return folder


def add_payments(config: Path, kubernetes_namespace: str | None) -> Path:
    """A second namespace, payments, with one deployment; its kubernetesNamespace as given (None: the
    line is left out, the default is the namespace's name)."""
    text = (config / "namespaces/analytics.yaml").read_text()
    old = "  kubernetesNamespace: flink-analytics\n"
    new = f"  kubernetesNamespace: {kubernetes_namespace}\n" if kubernetes_namespace is not None else ""
    assert old in text
    path = config / "namespaces/payments.yaml"
    path.write_text(text.replace(old, new).replace("team: analytics", "team: payments"))
    (config / "deployments/payments").mkdir()
    shutil.copy(config / "deployments/analytics/events-ingest.yaml", config / "deployments/payments/ledger.yaml")
    return path


def test_two_namespaces_with_one_kubernetes_namespace_are_refused_at_both_lines(config: Path, out: Path) -> None:
    payments = add_payments(config, "flink-analytics")
    result = refused(config, out)
    for file in ("namespaces/analytics.yaml", "namespaces/payments.yaml"):
        line = line_of(config / file, "kubernetesNamespace:")
        found = assert_problem(
            result, file, line, 3, K8S_NS, "namespaces analytics and payments render into the same Kubernetes namespace"
        )
        assert "'flink-analytics' (environments dev, prod and staging)" in found
        assert "analytics: set at " in found and "payments: set at " in found and str(payments.name) in found
        assert "(hint: give each namespace its own platform.kubernetesNamespace)" in found
    assert len(problem_lines(result.stderr)) == 2


def test_a_namespace_named_like_another_ones_kubernetes_namespace_is_blamed_on_its_file(
    config: Path, out: Path
) -> None:
    add_payments(config, None)  # payments renders into Kubernetes namespace "payments", its name
    edit(config / "namespaces/analytics.yaml", "kubernetesNamespace: flink-analytics", "kubernetesNamespace: payments")
    result = refused(config, out)
    found = assert_problem(result, "namespaces/payments.yaml", 1, 1, K8S_NS, "same Kubernetes namespace 'payments'")
    assert "payments: its name, the default" in found
    line = line_of(config / "namespaces/analytics.yaml", "kubernetesNamespace: payments")
    assert_problem(result, "namespaces/analytics.yaml", line, 3, K8S_NS, "same Kubernetes namespace 'payments'")


def test_a_render_of_one_namespace_sees_the_collision_too(config: Path, out: Path) -> None:
    add_payments(config, "flink-analytics")
    for selection in (["-n", "payments"], ["-n", "analytics", "-e", "dev"], ["-d", "ledger"]):
        result = refused(config, out, *selection)
        line = line_of(config / "namespaces/analytics.yaml", "kubernetesNamespace:")
        assert_problem(result, "namespaces/analytics.yaml", line, 3, K8S_NS, "render into the same Kubernetes")


def test_a_collision_in_one_environment_only_names_that_environment(config: Path, out: Path) -> None:
    add_payments(config, "\"{{ 'flink-analytics' if env == 'prod' else 'flink-payments' }}\"")
    result = refused(config, out)
    line = line_of(config / "namespaces/payments.yaml", "kubernetesNamespace:")
    found = assert_problem(result, "namespaces/payments.yaml", line, 3, K8S_NS, "'flink-analytics' (environment prod)")
    assert "environments" not in found
    rendered(config, out.parent / "dev", "-e", "dev")  # dev has no collision


def test_one_value_shared_by_every_namespace_is_reported_once_where_it_is_set(config: Path, out: Path) -> None:
    add_payments(config, None)
    edit(config / "environments/staging.yaml", "platform:\n", "platform:\n  kubernetesNamespace: flink\n")
    edit(config / "namespaces/analytics.yaml", "  kubernetesNamespace: flink-analytics\n", "")
    result = refused(config, out)
    line = line_of(config / "environments/staging.yaml", "kubernetesNamespace: flink")
    message = "same Kubernetes namespace 'flink' (environment staging)"
    found = assert_problem(result, "environments/staging.yaml", line, 3, K8S_NS, message)
    assert f"analytics: {config / 'namespaces/analytics.yaml'} takes it from " in found
    assert f"payments: {config / 'namespaces/payments.yaml'} takes it from " in found
    assert len(problem_lines(result.stderr)) == 1


def test_a_set_mapping_every_namespace_onto_one_is_refused(config: Path, out: Path) -> None:
    add_payments(config, "flink-payments")
    result = refused(config, out, "--set", "platform.kubernetesNamespace=flink-all")
    assert_problem(result, "<command line>", 1, 1, K8S_NS, "namespaces analytics and payments render into the same")


# -- the safety net over every rendered object ---------------------------------------------------------
def test_a_service_account_named_like_a_fixed_role_is_refused_by_the_safety_net(config: Path, out: Path) -> None:
    result = refused(config, out, "--set", "platform.kubernetes.serviceAccounts.jobmanager=prometheus-pod-discovery")
    for kind in ("Role", "RoleBinding"):
        found = assert_problem(
            result,
            "namespaces/analytics.yaml",
            1,
            1,
            "",
            f"{kind} 'prometheus-pod-discovery' (API group rbac.authorization.k8s.io) in Kubernetes namespace "
            "'flink-analytics' (environment ",
        )
        assert "is rendered twice, by namespace analytics (" in found


def _adding(extra: Callable[[NamespaceContext, list[Doc]], list[Doc]]) -> Callable[[NamespaceContext], list[Doc]]:
    original = kubernetes.namespace_docs

    def namespace_docs(ctx: NamespaceContext) -> list[Doc]:
        docs = original(ctx)
        return docs + extra(ctx, docs)

    return namespace_docs


def _copy(doc: Doc, file: str, **metadata: Any) -> Doc:
    content = copy.deepcopy(doc.content)
    content["metadata"].update(metadata)
    return Doc(content, file=file)


def test_one_object_in_two_files_names_both_owners(config: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def quota_twice(ctx: NamespaceContext, docs: list[Doc]) -> list[Doc]:
        quota = next(d for d in docs if d.content["kind"] == "ResourceQuota")
        return [_copy(quota, "resourcequota-copy.yaml")]

    monkeypatch.setattr(kubernetes, "namespace_docs", _adding(quota_twice))
    result = refused(config, out, "-e", "prod")
    message = "ResourceQuota 'flink' in Kubernetes namespace"
    found = assert_problem(result, "namespaces/analytics.yaml", 1, 1, "", message)
    assert "(prod/analytics/resourcequota-copy.yaml, prod/analytics/resourcequota-flink.yaml)" in found


def test_a_namespace_object_named_like_a_deployments_names_both_files(
    config: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deployment_twice(ctx: NamespaceContext, docs: list[Doc]) -> list[Doc]:
        application = ctx.documents["fraud-scoring"][0]
        return [_copy(application, "flinkdeployment-session.yaml")]

    monkeypatch.setattr(kubernetes, "namespace_docs", _adding(deployment_twice))
    result = refused(config, out, "-e", "prod", "-t", "flink-operator")
    message = "FlinkDeployment 'fraud-scoring' (API group flink.apache.org) in Kubernetes namespace 'flink-analytics'"
    for file in ("deployments/analytics/fraud-scoring.yaml", "namespaces/analytics.yaml"):
        found = assert_problem(result, file, 1, 1, "", message)
        assert "by deployment analytics/fraud-scoring (prod/analytics/flinkdeployment-fraud-scoring.yaml)" in found
        assert "by namespace analytics (prod/analytics/flinkdeployment-session.yaml)" in found


def test_two_vvp_resources_in_one_vvp_namespace_are_refused(
    config: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = vvp_resources.namespace_docs

    def namespace_docs(ctx: NamespaceContext) -> list[Doc]:
        docs = original(ctx)
        target = next(d for d in docs if d.content["kind"] == "DeploymentTarget")
        return [*docs, _copy(target, "vvp/deploymenttarget-again.yaml")]

    monkeypatch.setattr(vvp_resources, "namespace_docs", namespace_docs)
    result = refused(config, out, "-e", "dev")
    message = "DeploymentTarget 'analytics' in VVP namespace 'analytics'"
    assert_problem(result, "namespaces/analytics.yaml", 1, 1, "", message)


def test_two_documents_for_one_file_are_still_refused(config: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def same_file(ctx: NamespaceContext, docs: list[Doc]) -> list[Doc]:
        quota = next(d for d in docs if d.content["kind"] == "ResourceQuota")
        return [_copy(quota, "resourcequota-flink.yaml", name="other")]

    monkeypatch.setattr(kubernetes, "namespace_docs", _adding(same_file))
    result = refused(config, out, "-e", "prod")
    error = "error: two documents would be written to the same file: prod/analytics/resourcequota-flink.yaml"
    assert error in result.stderr


def test_the_same_names_in_other_environments_or_namespaces_are_no_collision(config: Path, tmp_path: Path) -> None:
    add_payments(config, "flink-payments")
    shutil.copy(config / "deployments/analytics/fraud-scoring.yaml", config / "deployments/payments/fraud-scoring.yaml")
    for target in ("vvp", "flink-operator", "vvp-operator"):
        rendered(config, tmp_path / target, "-t", target)
