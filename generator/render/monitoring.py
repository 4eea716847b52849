"""How Prometheus finds the Flink pods and their alert rules: PodMonitor, PrometheusRule and the RBAC
that lets Prometheus discover the pods of the Flink namespace.

Facts (prometheus-operator documentation, https://prometheus-operator.dev/): prometheus-operator
selects PodMonitors and PrometheusRules by label (kube-prometheus-stack: ``release: <Helm
release>``) in the namespaces it watches; a PodMonitor endpoint names a *declared* container port
(``port:``; ``targetPort`` is deprecated); pod labels listed in ``podTargetLabels`` are copied onto
every series (``flink-deployment`` becomes ``flink_deployment``), which is what the alert rules of
``generator.render.alerts`` select on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.errors import Problem
from generator.flink import options
from generator.model import keys
from generator.render import alerts, pods, shares
from generator.render.alert_settings import AlertSettings
from generator.render.engine import render_template
from generator.render.located import problem_at
from generator.render.network import Scraper
from generator.validate.crd_schemas import parse_duration_ms

DEFAULT_PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
DEFAULT_SCRAPE_INTERVAL = "30s"
#: pod labels copied onto every scraped series (the alert rules' label contract)
POD_TARGET_LABELS = (pods.POD_LABEL_DEPLOYMENT, pods.POD_LABEL_COMPONENT)
#: labels every Flink pod gen renders carries, whatever its deployment
FLINK_POD_LABELS = {"app.kubernetes.io/name": "flink", "app.kubernetes.io/managed-by": "gen"}
DISCOVERY_ROLE = "prometheus-pod-discovery"


@dataclass(frozen=True)
class Monitoring:
    namespace: str  # where Prometheus runs
    service_account: str
    pod_labels: tuple[tuple[str, str], ...]
    selector_labels: tuple[tuple[str, str], ...]
    resource_namespace: str  # where the PodMonitor and the PrometheusRule live
    flink_namespace: str
    scrape_interval: str
    scrape_timeout: str | None

    def scraper(self) -> Scraper:
        return Scraper(self.namespace, self.pod_labels)

    def object_name(self, base: str) -> str:
        """Unique in the resource namespace, which several Flink namespaces may share."""
        return base if self.resource_namespace == self.flink_namespace else f"{self.flink_namespace}-{base}"


def _require(eff: Effective, key: str, value: Any, hint: str, problems: list[Problem]) -> None:
    if not value:
        problems.append(problem_at(eff, (*keys.MONITORING, key), "is not set", hint))


def settings(eff: Effective, problems: list[Problem]) -> Monitoring:
    """The monitoring settings of a namespace (missing required keys become problems)."""
    facts = model.of(eff)
    configured = facts.monitoring
    _require(eff, "namespace", configured.namespace, "the namespace of the Prometheus pods, e.g. monitoring", problems)
    _require(
        eff,
        "prometheusServiceAccount",
        configured.prometheus_service_account,
        "Prometheus' ServiceAccount (kube-prometheus-stack: <release>-kube-prometheus-stack-prometheus); gen "
        "grants it list/watch on the Flink pods, without which no target is ever discovered",
        problems,
    )
    _require(
        eff,
        "selectorLabels",
        configured.selector_labels,
        "the labels your Prometheus selects PodMonitors and PrometheusRules by; kube-prometheus-stack: "
        "{release: <its Helm release name>}",
        problems,
    )
    interval = configured.scrape_interval or DEFAULT_SCRAPE_INTERVAL
    timeout = configured.scrape_timeout
    interval_ms, timeout_ms = parse_duration_ms(interval), parse_duration_ms(timeout) if timeout else None
    if interval_ms is not None and timeout_ms is not None and timeout_ms > interval_ms:
        problems.append(
            problem_at(
                eff,
                (*keys.MONITORING, "scrapeTimeout"),
                f"{timeout} is longer than the scrape interval {interval} (prometheus-operator rejects the PodMonitor)",
                "make it at most the scrape interval",
            )
        )
    labels = configured.prometheus_pod_labels or DEFAULT_PROMETHEUS_POD_LABELS
    flink_namespace = facts.kubernetes_namespace
    return Monitoring(
        namespace=configured.namespace or "",
        service_account=configured.prometheus_service_account or "",
        pod_labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        selector_labels=tuple(sorted((str(k), str(v)) for k, v in configured.selector_labels.items())),
        resource_namespace=configured.resource_namespace or flink_namespace,
        flink_namespace=flink_namespace,
        scrape_interval=interval,
        scrape_timeout=timeout,
    )


def alert_spec_groups(
    ns_eff: Effective, deployments: Sequence[Effective], problems: list[Problem]
) -> list[dict[str, Any]]:
    """The PrometheusRule's groups: one per running deployment (by its Flink major version's metric
    names) and the namespace-wide Kubernetes alerts."""
    try:
        alert_settings = alerts.alert_settings_from_mapping(model.of(ns_eff).alerts)
    except ValueError as exc:
        problems.extend(_alert_problems(ns_eff, str(exc)))
        return []
    namespace = model.of(ns_eff).kubernetes_namespace
    deployment_groups: list[dict[str, Any]] = []
    majors: set[int] = set()
    for eff in deployments:
        facts = model.of(eff)
        if not facts.running:
            continue  # a suspended or cancelled job has no JobManager to watch
        major = options.parse_version(facts.flink_version)[0]
        majors.add(major)
        deployment_groups.append(
            shares.share("alert group", eff.deployment, partial(_alert_group, namespace, eff, alert_settings, major))
        )
    # the namespace-wide group, by the metric names of the newest Flink major version that runs there
    pod_group = alerts.alert_groups(namespace, [], alert_settings, max(majors, default=1))[-1]
    return [*sorted(deployment_groups, key=lambda g: str(g["name"])), pod_group]


def _alert_group(namespace: str, eff: Effective, settings: AlertSettings, major: int) -> dict[str, Any]:
    """The PrometheusRule's group of one running deployment (kept for the next render)."""
    facts = model.of(eff)
    target = alerts.alert_target(facts.name, namespace, facts.task_managers, facts.conf)
    return alerts.alert_groups(namespace, [target], settings, major)[0]


def _alert_problems(eff: Effective, text: str) -> list[Problem]:
    """``invalid alert settings: oom_for: must be ...; x: ...`` as one problem per setting, each at
    its own line (the settings' fields are the snake_case spelling of the layer's keys)."""
    configured = model.of(eff).alerts
    found: list[Problem] = []
    for part in text.removeprefix("invalid alert settings: ").split("; "):
        field, sep, message = part.partition(": ")
        key = alerts.camel_case(field)
        message = re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", lambda m: alerts.camel_case(m.group(0)), message)
        if sep and configured.get(key) is not None:
            found.append(problem_at(eff, (*keys.ALERTS, key), message))
        else:
            found.append(problem_at(eff, keys.ALERTS, part))
    return found


def _labels(mon: Monitoring) -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": "gen", "app.kubernetes.io/part-of": "flink", **dict(mon.selector_labels)}


def pod_monitor(mon: Monitoring) -> dict[str, Any]:
    endpoint: dict[str, Any] = {
        "port": pods.METRICS_PORT_NAME,
        "path": "/metrics",
        "scheme": "http",
        "interval": mon.scrape_interval,
    }
    if mon.scrape_timeout:
        endpoint["scrapeTimeout"] = mon.scrape_timeout
    return render_template(
        "k8s/PodMonitor.yaml.j2",
        name=mon.object_name("flink"),
        namespace=mon.resource_namespace,
        labels=_labels(mon),
        match_labels=FLINK_POD_LABELS,
        match_expressions=[
            {"key": pods.POD_LABEL_DEPLOYMENT, "operator": "Exists"},
            {"key": pods.POD_LABEL_COMPONENT, "operator": "In", "values": list(pods.COMPONENTS)},
        ],
        flink_namespace=mon.flink_namespace,
        target_labels=list(POD_TARGET_LABELS),
        endpoints=[endpoint],
    )


def prometheus_rule(mon: Monitoring, groups: list[dict[str, Any]]) -> dict[str, Any]:
    return render_template(
        "k8s/PrometheusRule.yaml.j2",
        name=mon.object_name("flink-alerts"),
        namespace=mon.resource_namespace,
        labels=_labels(mon),
        groups=groups,
    )


def discovery_rbac(mon: Monitoring, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Prometheus needs to list and watch the pods of the Flink namespace (without it the
    PodMonitor's targets never appear: a lesson of a staging review); namespaced, nothing cluster-wide."""
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    subject = {"kind": "ServiceAccount", "name": mon.service_account, "namespace": mon.namespace}
    common = {"name": DISCOVERY_ROLE, "namespace": mon.flink_namespace, "labels": labels}
    return [
        render_template("k8s/Role.yaml.j2", **common, rules=rules),
        render_template("k8s/RoleBinding.yaml.j2", **common, role=DISCOVERY_ROLE, subjects=[subject]),
    ]
