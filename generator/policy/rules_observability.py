"""Rules on observability: Flink's Prometheus reporter, the PodMonitors that scrape it, alert rules.

The rules judge the rendered PodMonitor and PrometheusRule objects by kind and field, so they hold
for every target. Checklist section "Observability and alerting" (docs/readiness.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from generator.policy import documents
from generator.policy.documents import Pod
from generator.policy.facts import conf_path
from generator.policy.model import Location, Note, Priority, Scope, Subject, Violation
from generator.policy.registry import rule
from generator.policy.vvp import container_note, on_vvp

OBSERVABILITY = "Observability and alerting"

_REPORTER = re.compile(r"^metrics\.reporter\.([^.]+)\.factory\.class$")
PROMETHEUS_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"


def _reporter_ports(subject: Subject) -> dict[str, int | None]:
    ports: dict[str, int | None] = {}
    for key, value in subject.conf.items():
        match = _REPORTER.match(key)
        if match and value.strip() == PROMETHEUS_FACTORY:
            text = subject.conf.get(f"metrics.reporter.{match.group(1)}.port", "9249")
            first = text.split(",")[0].split("-")[0]
            ports[match.group(1)] = int(first) if first.isdigit() else None
    return ports


def _monitor_covers(monitor: Mapping[str, Any], namespace: str, labels: Mapping[str, str]) -> bool:
    spec = monitor.get("spec", {})
    selector = spec.get("selector", {}) or {}
    wanted = selector.get("matchLabels", {}) or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        return False
    ns_selector = spec.get("namespaceSelector") or {}
    if ns_selector.get("any") is True:
        return True
    names = ns_selector.get("matchNames")
    if names:
        return namespace in names
    return bool(monitor.get("metadata", {}).get("namespace", namespace) == namespace)


@rule(
    "OBS-001",
    item="Metrics collection",
    section=OBSERVABILITY,
    priority=Priority.REQUIRED,
    checks="the Prometheus reporter is configured, and a rendered PodMonitor selects the deployment's pods and "
    "scrapes a named container port that serves the reporter port",
)
def metrics(subject: Subject) -> Iterator[Violation | Note]:
    ports = _reporter_ports(subject)
    if ports and on_vvp(subject):
        yield container_note("the named metrics port the PodMonitor scrapes")
    if not ports:
        yield Violation(
            "Flink's Prometheus reporter is not configured: Prometheus would scrape nothing from Flink itself",
            conf_path("metrics.reporter.prom.factory.class"),
            None,
            f"set metrics.reporter.prom.factory.class: {PROMETHEUS_FACTORY} and metrics.reporter.prom.port: 9249",
        )
        return
    namespace = subject.model.kubernetes_namespace
    monitors = documents.of_kind(subject.namespace_documents, "PodMonitor")
    pods: list[Pod | None] = [*documents.all_pods(subject.documents)] or [None]
    for pod in pods:
        labels = pod.labels if pod is not None else {}
        covering = [m for m in monitors if _monitor_covers(m, namespace, labels)]
        who = f"{pod.component or 'pod'} pods" if pod is not None else "pods"
        if not covering:
            yield Violation(
                f"no rendered PodMonitor selects the {who} of this deployment",
                None,
                None,
                "render a PodMonitor whose selector matches the pod labels, in a namespace Prometheus watches",
                subject.rendered_location(),
            )
            continue
        if pod is not None:
            yield from _scraped_port(subject, pod, covering, ports)


def _scraped_port(
    subject: Subject, pod: Pod, covering: list[Mapping[str, Any]], ports: dict[str, int | None]
) -> Iterator[Violation]:
    who = f"{pod.component or 'pod'} pods"
    named = {
        str(p.get("name")): p.get("containerPort")
        for c in pod.containers
        for p in c.get("ports", []) or []
        if isinstance(p, Mapping) and p.get("name")
    }
    endpoints = [e for m in covering for e in m.get("spec", {}).get("podMetricsEndpoints", []) or []]
    if any("targetPort" in e for e in endpoints):
        yield Violation(
            "a PodMonitor endpoint uses the deprecated targetPort",
            None,
            None,
            "scrape the named container port with port: <name>",
            subject.rendered_location(),
        )
    if not any(named.get(str(e.get("port"))) in ports.values() for e in endpoints if e.get("port")):
        yield Violation(
            f"no PodMonitor endpoint scrapes a named port of the {who} that serves the reporter port "
            f"{', '.join(str(p) for p in ports.values())}",
            None,
            sorted(named),
            "declare a named container port equal to metrics.reporter.prom.port and scrape it by name",
            subject.rendered_location(),
        )


@rule(
    "OBS-002",
    item="Alerting",
    section=OBSERVABILITY,
    priority=Priority.REQUIRED,
    scope=Scope.NAMESPACE,
    checks="a rendered PrometheusRule holds alert rules for the namespace's Flink jobs",
)
def alerting(subject: Subject) -> Iterator[Violation]:
    alerts = [
        r
        for d in documents.of_kind(subject.documents, "PrometheusRule")
        for g in d.get("spec", {}).get("groups", []) or []
        for r in g.get("rules", []) or []
        if isinstance(r, Mapping) and r.get("alert")
    ]
    if not alerts:
        yield Violation(
            "no PrometheusRule with alerts is rendered for this namespace",
            None,
            None,
            "render the PrometheusRule (checkpoint failures, backpressure, restarts, lag, OOM kills)",
            Location(subject.home_file),
        )
