"""The alert rules gen renders for every environment of the example, run through the real promtool:

- ``promtool check rules`` passes on the ``spec`` of each rendered PrometheusRule;
- ``promtool test rules`` proves, for every alert of the rendered rules, a series that makes it fire
  with the expected labels and annotations (named job and namespace, the environment's severity) and a
  healthy series that keeps it silent.

The unit-test documents come from the alert rules' own test generator (``tests/test_alerts.py``),
pointed at the rendered namespace, deployments and the environment's settings instead of its
fixtures; the series labels it writes (``namespace``, ``flink_deployment``, ``component``) are checked
here against what the rendered PodMonitor makes of the rendered pods.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

import tests.integration.test_alerts as alert_tests
from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Resolver
from generator.render.alert_rules import ALERT_NAMES
from generator.render.alerts import AlertTarget, alert_settings_from_mapping, alert_target
from generator.validate import promtool
from tests.kubernetes_support import ENVS, K8S_NAMESPACE, NAMESPACE, objects, pods, render_docs

EXPECTED_SEVERITY = {"dev": "warning", "staging": "warning", "prod": "critical"}


@pytest.fixture(scope="module", autouse=True)
def _promtool_installed() -> None:
    if promtool.find_promtool() is None:
        pytest.fail(f"promtool is required by these tests and was not found; {promtool.INSTALL_HINT}")


@cache
def rendered(env: str) -> dict[str, dict[str, Any]]:
    return render_docs(env)


def rule_groups(env: str) -> list[dict[str, Any]]:
    (rule,) = objects(rendered(env), "PrometheusRule")
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def targets(env: str) -> tuple[AlertTarget, ...]:
    """The running deployments of the rendered namespace, as the alert rules' test generator sees them."""
    found = []
    for doc in objects(rendered(env)) + [d for p, d in rendered(env).items() if "/vvp/deployment-" in p]:
        if doc["kind"] == "Deployment" and doc["spec"]["state"] == "RUNNING":
            spec = doc["spec"]["template"]["spec"]
            conf = {k: str(v) for k, v in (spec.get("flinkConfiguration") or {}).items()}
            found.append(alert_target(doc["metadata"]["name"], K8S_NAMESPACE, spec["numberOfTaskManagers"], conf))
    return tuple(sorted(found, key=lambda t: t.deployment))


def settings(env: str) -> Any:
    repo = ConfigRepo(example_config_dir())
    eff = Resolver(repo).namespace(env, NAMESPACE)
    return alert_settings_from_mapping(eff.get(("platform", "alerts")) or {})


def point_generator_at(patch: pytest.MonkeyPatch, env: str, deployments: tuple[AlertTarget, ...]) -> None:
    """Aim the alert rules' test generator at the rendered namespace and deployments."""
    patch.setattr(alert_tests, "NS", K8S_NAMESPACE)
    patch.setattr(alert_tests, "TARGETS", deployments)
    # its namespace-wide cases (OOM kill, eviction, restarts, throttling) hurt the pods of a deployment
    # called "orders": give those pods their healthy kube-state-metrics and cAdvisor series too
    original = alert_tests.baseline

    def baseline(targets: Any, s: Any, major: int, n: int) -> dict[str, str]:
        series = original(targets, s, major, n)
        orders = original((AlertTarget("orders", K8S_NAMESPACE, 2),), s, major, n)
        series.update({k: v for k, v in orders.items() if "flink_deployment=" not in k})
        return series

    patch.setattr(alert_tests, "baseline", baseline)


@pytest.mark.parametrize("env", ENVS)
def test_promtool_check_rules(env: str) -> None:
    promtool.check_rules(rule_groups(env))


@pytest.mark.parametrize("env", ENVS)
def test_every_alert_fires_on_bad_series_and_stays_silent_on_healthy_ones(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups, s = rule_groups(env), settings(env)
    assert len(targets(env)) == 3
    point_generator_at(monkeypatch, env, targets(env))
    defined = {r["alert"] for g in groups for r in g["rules"]}
    assert defined == set(ALERT_NAMES)
    cases = alert_tests.all_cases(s, 1)
    assert {c.alertname for c in cases} == defined, "every alert has a firing case"
    promtool.test_rules(groups, alert_tests.unit_test_document(groups, s, 1))


@pytest.mark.parametrize("env", ENVS)
def test_prod_pages_and_dev_only_warns(env: str) -> None:
    severities = {r["labels"]["severity"] for g in rule_groups(env) for r in g["rules"]}
    assert EXPECTED_SEVERITY[env] in severities
    assert ("critical" in severities) == (env == "prod")
    for group in rule_groups(env):
        for rule in group["rules"]:
            text = rule["annotations"]["summary"] + rule["annotations"]["description"]
            assert "{{ $labels.namespace }}" in text, rule["alert"]
            if rule["labels"].get("flink_deployment"):
                assert "{{ $labels.flink_deployment }}" in text or "{{ $labels.job_name }}" in text


@pytest.mark.parametrize("env", ENVS)
def test_the_series_labels_the_tests_feed_are_those_the_pod_monitor_produces(env: str) -> None:
    (monitor,) = objects(rendered(env), "PodMonitor")
    to_series = {label: re.sub(r"[^a-zA-Z0-9_]", "_", label) for label in monitor["spec"]["podTargetLabels"]}
    for pod in pods(rendered(env)):
        series = {"namespace": pod.namespace, **{to_series[k]: pod.labels[k] for k in to_series}}
        fed = alert_tests.Dep(K8S_NAMESPACE, pod.deployment)
        fed_labels = fed.jm() if pod.component == "jobmanager" else fed.tm(1)
        assert {k: fed_labels[k] for k in series} == series


def test_a_broken_expectation_fails() -> None:
    """promtool test rules is a real check: a wrong expected severity fails it."""
    env = "prod"
    groups, s = rule_groups(env), settings(env)
    with pytest.MonkeyPatch.context() as patch:
        point_generator_at(patch, env, targets(env)[:1])
        doc = alert_tests.unit_test_document(groups, s, 1)
    doc["tests"] = [t for t in doc["tests"] if "restarting" in t["name"]][:1]
    firing = next(c for c in doc["tests"][0]["alert_rule_test"] if c["exp_alerts"])
    firing["exp_alerts"][0]["exp_labels"]["severity"] = "warning"
    with pytest.raises(promtool.PromtoolError, match="FAILED"):
        promtool.test_rules(groups, doc)
