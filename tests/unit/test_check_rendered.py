"""Rules about rendered objects, on documents the renderers never produce (they refuse such input).

Each test takes the real subjects of the shipped prod configuration (documents rendered by the
real renderers), breaks one object the way a staging review found it broken, and checks
the rule reports it, graded by the environment's tolerance.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.policy import documents
from generator.policy.engine import CheckOptions, evaluate, subjects
from generator.policy.model import Severity, Subject
from generator.policy.registry import all_rules

TODAY = datetime.date(2026, 6, 1)
Docs = list[dict[str, Any]]


def _subjects(config: Path, env: str = "prod") -> list[Subject]:
    repo = ConfigRepo(config)
    return subjects(repo, Resolver(repo), CheckOptions(env, TODAY, deployment="fraud-scoring"))


@pytest.fixture
def prod(config: Path) -> list[Subject]:
    return _subjects(config)


def namespace_subject(found: list[Subject]) -> Subject:
    return next(s for s in found if not s.deployment)


def deployment_subject(found: list[Subject]) -> Subject:
    return next(s for s in found if s.deployment == "fraud-scoring")


def run(rule_id: str, subject: Subject) -> list[tuple[Severity, str]]:
    result = evaluate(all_rules()[rule_id], subject)
    return [(f.severity, f.message) for f in result.findings]


def with_namespace_docs(subject: Subject, change: Callable[[Docs], Docs]) -> Subject:
    docs = change([copy.deepcopy(dict(d)) for d in subject.namespace_documents])
    if subject.deployment:
        return dataclasses.replace(subject, namespace_documents=tuple(docs))
    return dataclasses.replace(subject, documents=tuple(docs), namespace_documents=tuple(docs))


def with_docs(subject: Subject, change: Callable[[Docs], Docs]) -> Subject:
    return dataclasses.replace(subject, documents=tuple(change([copy.deepcopy(dict(d)) for d in subject.documents])))


def without(kind: str) -> Callable[[Docs], Docs]:
    return lambda docs: [d for d in docs if d.get("kind") != kind]


def test_shipped_objects_pass(prod: list[Subject]) -> None:
    for subject in prod:
        for rule in all_rules().values():
            if rule.scope.value in (subject.scope.value, "any"):
                assert run(rule.id, subject) == [], (rule.id, subject.name)


# -- NetworkPolicies ------------------------------------------------------------------------------------------------
def test_missing_network_policies(prod: list[Subject]) -> None:
    subject = with_namespace_docs(namespace_subject(prod), without("NetworkPolicy"))
    assert run("NET-001", subject) == [(Severity.FAILURE, "no NetworkPolicy in namespace flink-analytics")]
    dev = dataclasses.replace(subject, tolerance="development")
    assert [s for s, _ in run("NET-001", dev)] == [Severity.WARNING]  # "open namespace networking" in dev


def test_default_deny_must_cover_egress_and_nothing_may_admit_everything(prod: list[Subject]) -> None:
    def break_policies(docs: Docs) -> Docs:
        policies = [d for d in docs if d.get("kind") == "NetworkPolicy"]
        deny_all = [p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("egress")]
        assert deny_all
        for policy in deny_all:
            policy["spec"]["policyTypes"] = ["Ingress"]  # the deny-all no longer covers egress
        next(p for p in policies if p["spec"].get("egress"))["spec"]["egress"].append({})  # admits all egress
        return docs

    found = run("NET-001", with_namespace_docs(namespace_subject(prod), break_policies))
    messages = [m for _, m in found]
    assert "no default-deny egress NetworkPolicy" in messages
    assert any("admits all egress traffic" in m for m in messages)


# -- PrometheusRule, quotas -----------------------------------------------------------------------------------------
def test_missing_alert_rules(prod: list[Subject]) -> None:
    subject = with_namespace_docs(namespace_subject(prod), without("PrometheusRule"))
    assert [m for _, m in run("OBS-002", subject)] == ["no PrometheusRule with alerts is rendered for this namespace"]
    assert [s for s, _ in run("OBS-002", dataclasses.replace(subject, tolerance="development"))] == [
        Severity.FAILURE  # alerting has no development tolerance
    ]


def test_missing_quota_and_limit_range(prod: list[Subject]) -> None:
    subject = with_namespace_docs(namespace_subject(prod), without("ResourceQuota"))
    messages = [m for _, m in run("RES-003", subject)]
    assert len(messages) == 1 and messages[0].startswith("no ResourceQuota")
    subject = with_namespace_docs(namespace_subject(prod), without("LimitRange"))
    messages = [m for _, m in run("RES-003", subject)]
    assert len(messages) == 1 and messages[0].startswith("no LimitRange")


# -- ServiceAccounts ------------------------------------------------------------------------------------------------
def _set_pod_field(component: str, key: str, value: Any) -> Callable[[Docs], Docs]:
    def change(docs: Docs) -> Docs:
        for doc in docs:
            for pod in documents.pods(doc):
                if pod.component == component:
                    assert isinstance(pod.spec, dict)
                    pod.spec[key] = value
        return docs

    return change


def test_default_service_account(prod: list[Subject]) -> None:
    subject = with_docs(deployment_subject(prod), _set_pod_field("taskmanager", "serviceAccountName", "default"))
    found = run("SEC-003", subject)
    assert len(found) == 1 and "taskmanager runs as the namespace's default ServiceAccount" in found[0][1]
    dev = dataclasses.replace(subject, tolerance="development")
    assert [s for s, _ in run("SEC-003", dev)] == [Severity.WARNING]


def test_service_account_that_is_not_rendered(prod: list[Subject]) -> None:
    subject = with_namespace_docs(deployment_subject(prod), without("ServiceAccount"))
    messages = [m for _, m in run("SEC-003", subject)]
    assert len(messages) == 2
    assert all("which is not among the rendered objects" in m for m in messages)


def test_token_mounted_without_need(prod: list[Subject]) -> None:
    subject = deployment_subject(prod)
    conf = dict(subject.effective.data["spec"]["template"]["spec"]["flinkConfiguration"])
    conf["high-availability.type"] = "NONE"
    data = copy.deepcopy(subject.effective.data)
    data["spec"]["template"]["spec"]["flinkConfiguration"] = conf
    no_ha = dataclasses.replace(subject, effective=dataclasses.replace(subject.effective, data=data))
    assert not [m for _, m in run("SEC-003", subject) if "token" in m]  # HA needs the API: mounted on purpose
    assert len([m for _, m in run("SEC-003", no_ha) if "mounts a ServiceAccount token" in m]) == 2


# -- pods: non-root, PodMonitor, container limits -------------------------------------------------------------------
def test_container_run_as_root_overrides_the_pod(prod: list[Subject]) -> None:
    def root_container(docs: Docs) -> Docs:
        for doc in docs:
            for pod in documents.pods(doc):
                if pod.component == "jobmanager":
                    container = pod.spec["containers"][0]
                    container["securityContext"] = {**container.get("securityContext", {}), "runAsUser": 0}
        return docs

    found = run("SEC-002", with_docs(deployment_subject(prod), root_container))
    assert len(found) == 1 and "runAsUser is 0" in found[0][1] and "jobmanager" in found[0][1]


def _monitors(change: Callable[[dict[str, Any]], None]) -> Callable[[Docs], Docs]:
    def apply(docs: Docs) -> Docs:
        for doc in docs:
            if doc.get("kind") == "PodMonitor":
                change(doc)
        return docs

    return apply


def test_pod_monitor_that_selects_other_pods(prod: list[Subject]) -> None:
    def other_labels(doc: dict[str, Any]) -> None:
        doc["spec"]["selector"] = {"matchLabels": {"app.kubernetes.io/name": "not-flink"}}

    found = run("OBS-001", with_namespace_docs(deployment_subject(prod), _monitors(other_labels)))
    assert found and all("no rendered PodMonitor selects" in m for _, m in found)


def test_pod_monitor_with_deprecated_target_port(prod: list[Subject]) -> None:
    """A staging incident: the PodMonitor used the deprecated targetPort and Prometheus never scraped Flink."""

    def target_port(doc: dict[str, Any]) -> None:
        doc["spec"]["podMetricsEndpoints"] = [{"targetPort": 9249}]

    messages = [m for _, m in run("OBS-001", with_namespace_docs(deployment_subject(prod), _monitors(target_port)))]
    assert any("deprecated targetPort" in m for m in messages)
    assert any("serves the reporter port 9249" in m for m in messages)


def test_prometheus_reporter_missing(prod: list[Subject]) -> None:
    subject = deployment_subject(prod)
    data = copy.deepcopy(subject.effective.data)
    conf = data["spec"]["template"]["spec"]["flinkConfiguration"]
    for key in [k for k in conf if k.startswith("metrics.reporter.")]:
        del conf[key]
    subject = dataclasses.replace(subject, effective=dataclasses.replace(subject.effective, data=data))
    assert [m for _, m in run("OBS-001", subject)] == [
        "Flink's Prometheus reporter is not configured: Prometheus would scrape nothing from Flink itself"
    ]


def test_container_memory_limit_below_process_size(prod: list[Subject]) -> None:
    subject = with_docs(
        deployment_subject(prod),
        _set_pod_field("taskmanager", "containers", [{"name": "flink", "resources": {"limits": {"memory": "8Gi"}}}]),
    )
    found = run("MEM-003", subject)
    assert found == [
        (
            Severity.WARNING,
            "taskmanager container flink has a memory limit of 8Gi, below the Flink process size 16.000gb: "
            "OOM kills without heap pressure",
        )
    ]


def test_rendered_images_are_judged_too(prod: list[Subject]) -> None:
    def operator_image(docs: Docs) -> Docs:
        return [
            *docs,
            {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "spec": {"image": "flink"}},
        ]

    subject = with_docs(deployment_subject(prod), operator_image)
    assert [m for _, m in run("IMG-001", subject)] == [
        "image flink comes from docker.io, not an approved registry (registry.acme.internal/mirror)"
    ]
    assert [m for _, m in run("IMG-002", subject)] == ["image flink has no tag: a restart can pull different code"]


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("16Gi", 16 << 30), ("17179869184", 17179869184), ("16G", 16 * 10**9), ("1.5Gi", 3 << 29), ("4x", None)],
)
def test_kubernetes_quantities(quantity: str, expected: int | None) -> None:
    assert documents.quantity_bytes(quantity) == expected


def test_pods_are_found_in_every_shape() -> None:
    operator: Mapping[str, Any] = {
        "kind": "FlinkDeployment",
        "spec": {
            "serviceAccount": "flink",
            "podTemplate": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "main"}]}},
            "taskManager": {"podTemplate": {"spec": {"containers": [{"name": "tm"}]}}},
        },
    }
    found = documents.pods(operator)
    assert [(p.component, p.service_account, dict(p.labels)) for p in found] == [
        ("", "flink", {"a": "b"}),
        ("taskmanager", "flink", {}),
    ]
