"""Rules on what runs around the job: TLS, pod security, accounts, network, images, metrics, quotas, sizing.

Rules about Kubernetes objects judge the rendered documents by kind and field (ServiceAccount,
NetworkPolicy, PodMonitor, PrometheusRule, ResourceQuota, LimitRange, pod specs), so they hold for
every target. Seed 000 sections "Identity, access, and secrets", "Observability and alerting",
"Resource sizing and memory"; seed 002 "Security and Access", "Image and Environment Policy",
"Troubleshooting".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from generator.policy import documents
from generator.policy.documents import Pod
from generator.policy.facts import ARTIFACT, conf_path, ha_enabled, large_state, slots
from generator.policy.model import Location, Priority, Scope, Subject, Violation
from generator.policy.registry import rule

IDENTITY = "Identity, access, and secrets"
OBSERVABILITY = "Observability and alerting"
SIZING = "Resource sizing and memory"

SSL_KEYS = ("security.ssl.internal.enabled", "security.ssl.rest.enabled")
VVP_TLS_ANNOTATION = "flink.security.ssl.enabled"
VVP_TARGETS = ("vvp", "vvp-operator")
OPERATOR_TLS = ("platform", "flinkOperator", "tls")
OPERATOR_TLS_HINT = (
    "set platform.flinkOperator.tls (the Secret with the keystore and truststore, and the Secret key of their "
    "password) and platform.flinkOperator.chart.tls"
)
ANNOTATIONS = ("spec", "template", "metadata", "annotations")
POD_OPTIONS = ("spec", "template", "spec", "kubernetes", "pods")


def _rendered(subject: Subject) -> Location:
    return Location.rendered(subject.rendered_file) if subject.rendered_file else Location(subject.home_file)


def _pods(subject: Subject) -> list[Pod]:
    return documents.all_pods(subject.documents)


# -- identity and access -------------------------------------------------------------------------
def _vvp_tls(subject: Subject) -> bool:
    if subject.target not in VVP_TARGETS:
        return False
    annotations = subject.value(ANNOTATIONS) or {}
    if str(annotations.get(VVP_TLS_ANNOTATION, "")).lower() == "true":
        return True
    return any(
        str(m.get(VVP_TLS_ANNOTATION, "")).lower() == "true"
        for doc in subject.documents
        for m in documents.walk_maps(doc)
    )


@rule(
    "SEC-001",
    item="Encryption in transit",
    section=IDENTITY,
    priority=Priority.REQUIRED,
    checks="TLS for Flink's internal RPC and for REST/UI: security.ssl.internal.enabled and security.ssl.rest.enabled "
    f"are true, or (Ververica Platform) the {VVP_TLS_ANNOTATION} annotation provisions both, or (Flink "
    "Kubernetes Operator) platform.flinkOperator.tls does",
    dev_tolerance="Plaintext may be acceptable only in isolated local development",
)
def tls(subject: Subject) -> Iterator[Violation]:
    if _vvp_tls(subject):
        return
    operator = subject.target == "flink-operator"
    if operator and subject.value(OPERATOR_TLS):
        return
    missing = [k for k in SSL_KEYS if subject.conf.get(k) != "true"]
    if not missing:
        return
    annotations = subject.value(ANNOTATIONS) or {}
    if operator:
        message = "Flink RPC and the REST API/UI are plaintext: platform.flinkOperator.tls is not set"
        origin = subject.effective.origin(OPERATOR_TLS)
        path = OPERATOR_TLS if origin is not None else conf_path(missing[0])  # switched off in a layer: point there
        yield Violation(message, path, subject.value(path), OPERATOR_TLS_HINT)
        return
    if VVP_TLS_ANNOTATION in annotations and subject.target not in VVP_TARGETS:
        yield Violation(
            f"the {VVP_TLS_ANNOTATION} annotation only works on Ververica Platform, not on target {subject.target}",
            (*ANNOTATIONS, VVP_TLS_ANNOTATION),
            annotations[VVP_TLS_ANNOTATION],
            f"set {' and '.join(SSL_KEYS)}: true with keystores and truststores from a secret",
        )
        return
    if len(missing) == len(SSL_KEYS):
        message = "Flink RPC and the REST API/UI are plaintext"
    else:
        message = "internal RPC is plaintext" if missing[0] == SSL_KEYS[0] else "the REST API/UI is plaintext"
    if subject.target in VVP_TARGETS:
        hint = f"set the template annotation {VVP_TLS_ANNOTATION}: 'true' (spec.template.metadata.annotations)"
        if VVP_TLS_ANNOTATION in annotations:  # switched off explicitly: point at that
            path = (*ANNOTATIONS, VVP_TLS_ANNOTATION)
            yield Violation(message, path, annotations[VVP_TLS_ANNOTATION], hint)
            return
    else:
        hint = f"set {' and '.join(SSL_KEYS)}: true with keystores and truststores from a secret"
    yield Violation(message, conf_path(missing[0]), subject.conf.get(missing[0]), hint)


def _runs_as_root(pod_context: Mapping[str, Any], container_context: Mapping[str, Any]) -> str:
    """Why a container may run as root ("" when it cannot): container settings override the pod's."""

    def setting(key: str) -> Any:
        return container_context[key] if key in container_context else pod_context.get(key)

    if setting("runAsUser") == 0:
        return "runAsUser is 0"
    if setting("runAsNonRoot") is not True:
        return "runAsNonRoot is not true"
    return ""


@rule(
    "SEC-002",
    item="Non-root execution",
    section=IDENTITY,
    priority=Priority.RECOMMENDED,
    checks="every Flink container runs as non-root (runAsNonRoot: true, never runAsUser: 0; container settings "
    "override the pod's) in the rendered pod specs",
    dev_tolerance="Not always enforced",
)
def non_root(subject: Subject) -> Iterator[Violation]:
    context_path = (*POD_OPTIONS, "securityContext")
    hint = f"set {'.'.join(context_path)}.runAsNonRoot: true and runAsUser to a non-zero user"
    pods = _pods(subject)
    checked: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = [
        (
            f"{pod.component or 'pod'} container {c.get('name', '?')} ({pod.path})",
            pod.spec.get("securityContext") or {},
            c.get("securityContext") or {},
        )
        for pod in pods
        for c in pod.containers
    ]
    if not pods:  # a target that renders no pod specs: judge the configured pod options
        checked = [("the pods", subject.value(context_path) or {}, {})]
    for who, pod_context, container_context in checked:
        why = _runs_as_root(pod_context, container_context)
        if why:
            key = "runAsUser" if why.startswith("runAsUser") else "runAsNonRoot"
            path = (*context_path, key)
            yield Violation(f"{who} may run as root: {why}", path, subject.value(path), hint)


@rule(
    "SEC-003",
    item="Dedicated ServiceAccounts (Namespace RBAC)",
    section=IDENTITY,
    priority=Priority.REQUIRED,
    source="seed 002, seed 000",
    checks="every Flink pod names a ServiceAccount that is not 'default' and that gen renders; the API token is "
    "mounted only where the pods need the Kubernetes API (Kubernetes HA)",
    dev_tolerance="Broad permissions may be acceptable",
)
def service_accounts(subject: Subject) -> Iterator[Violation]:
    rendered = {
        str(d.get("metadata", {}).get("name")) for d in documents.of_kind(subject.namespace_documents, "ServiceAccount")
    }
    for pod in _pods(subject):
        who = pod.component or "pod"
        account = pod.service_account
        path = ("platform", "kubernetes", "serviceAccounts", pod.component) if pod.component else None
        configured = path is not None and path in subject.effective.provenance  # named in a layer file
        where = subject.where(path) if configured and path is not None else _rendered(subject)
        if account in ("", "default"):
            yield Violation(
                f"the {who} runs as the namespace's default ServiceAccount ({pod.path})",
                path,
                account or None,
                "give JobManager and TaskManager pods dedicated ServiceAccounts (platform.kubernetes.serviceAccounts)",
                where,
            )
        elif account not in rendered:
            yield Violation(
                f"the {who} names ServiceAccount '{account}', which is not among the rendered objects",
                path,
                account,
                "render the ServiceAccount with the namespace's objects, or name an account gen renders",
                where,
            )
        mounted = pod.spec.get("automountServiceAccountToken", True)
        if mounted is not False and not ha_enabled(subject):
            yield Violation(
                f"the {who} mounts a ServiceAccount token although it does not call the Kubernetes API",
                None,
                mounted,
                "set automountServiceAccountToken: false where HA does not need the API",
                _rendered(subject),
            )


def _selects_all(policy: Mapping[str, Any]) -> bool:
    selector = policy.get("spec", {}).get("podSelector")
    return isinstance(selector, Mapping) and not selector.get("matchLabels") and not selector.get("matchExpressions")


def _types(policy: Mapping[str, Any]) -> list[str]:
    spec = policy.get("spec", {})
    declared = spec.get("policyTypes")
    if isinstance(declared, list):
        return [str(t) for t in declared]
    return ["Ingress", *(["Egress"] if "egress" in spec else [])]


@rule(
    "NET-001",
    item="Kubernetes NetworkPolicies",
    section=IDENTITY,
    priority=Priority.RECOMMENDED,
    scope=Scope.NAMESPACE,
    checks="the namespace has a default-deny NetworkPolicy for ingress and egress (empty podSelector, no rules) and no "
    "policy rule that admits all traffic",
    dev_tolerance="Open namespace networking may be acceptable",
)
def network_policies(subject: Subject) -> Iterator[Violation]:
    policies = documents.of_kind(subject.documents, "NetworkPolicy")
    location = Location(subject.home_file)
    hint = "render a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules"
    if not policies:
        yield Violation(
            f"no NetworkPolicy in namespace {subject.effective.kubernetes_namespace}", None, None, hint, location
        )
        return
    for direction, field in (("Ingress", "ingress"), ("Egress", "egress")):
        if not any(_selects_all(p) and direction in _types(p) and not p.get("spec", {}).get(field) for p in policies):
            yield Violation(f"no default-deny {direction.lower()} NetworkPolicy", None, None, hint, location)
    for policy in policies:
        for field in ("ingress", "egress"):
            for index, item in enumerate(policy.get("spec", {}).get(field) or []):
                if isinstance(item, Mapping) and not item:
                    name = policy.get("metadata", {}).get("name", "?")
                    yield Violation(
                        f"NetworkPolicy {name} admits all {field} traffic (rule {index} is empty)",
                        None,
                        {},
                        "allow only the required peers and ports",
                        location,
                    )


# -- images -----------------------------------------------------------------------------------------
def _images(subject: Subject, field: str = "flinkImageRegistry") -> list[tuple[str, Location]]:
    """Every image a deployment runs: the artifact's Flink image (located at its ``field``) and any
    image in its rendered documents."""
    registry = subject.value((*ARTIFACT, "flinkImageRegistry"))
    repository = subject.value((*ARTIFACT, "flinkImageRepository"))
    tag = subject.value((*ARTIFACT, "flinkImageTag"))
    found: list[tuple[str, Location]] = []
    if repository:
        image = f"{registry}/{repository}" if registry else str(repository)
        found.append((f"{image}:{tag}" if tag else image, subject.where((*ARTIFACT, field))))
    for doc in subject.documents:
        spec = doc.get("spec")
        if isinstance(spec, Mapping) and isinstance(spec.get("image"), str):
            found.append((spec["image"], _rendered(subject)))
        for pod in documents.pods(doc):
            for container in [*pod.containers, *pod.spec.get("initContainers", [])]:
                if isinstance(container, Mapping) and isinstance(container.get("image"), str):
                    found.append((container["image"], _rendered(subject)))
    return found


def _registry_of(image: str) -> str:
    name = image.split("@")[0]
    last = name.rsplit("/", 1)
    if len(last) == 2 and ":" in last[1]:
        name = f"{last[0]}/{last[1].split(':')[0]}"
    first = name.split("/", 1)[0]
    if "/" not in name or ("." not in first and ":" not in first and first != "localhost"):
        return "docker.io"  # an image without a registry host comes from Docker Hub
    return name.rsplit("/", 1)[0]


@rule(
    "IMG-001",
    item="Approved container registry",
    section="Networking and connectivity (container registry access)",
    priority=Priority.REQUIRED,
    source="seed 002, seed 000",
    checks="every image comes from a registry listed in platform.policy.approvedRegistries",
    dev_tolerance="seed 002: public or vendor registries serve staging and evaluation; an approved internal registry "
    "is the production policy",
)
def approved_registry(subject: Subject) -> Iterator[Violation]:
    approved = subject.settings.approved_registries
    images = _images(subject)
    if not approved:
        yield Violation(
            "no approved registries are declared: the image source cannot be judged",
            ("platform", "policy", "approvedRegistries"),
            None,
            "list the internal registry in platform.policy.approvedRegistries (baseline or namespace defaults)",
        )
        return
    for image, location in images:
        registry = _registry_of(image)
        if not any(registry == a or registry.startswith(a + "/") for a in approved):
            yield Violation(
                f"image {image} comes from {registry}, not an approved registry ({', '.join(approved)})",
                (*ARTIFACT, "flinkImageRegistry"),
                registry,
                "mirror the image into the approved registry and set flinkImageRegistry to it",
                location,
            )


_FLOATING = {"latest", "stable", "edge", "nightly", "main", "master", "dev", "current", "release"}


def _tag(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


@rule(
    "IMG-002",
    item="Pinned image tag",
    section="Governance and compliance (artifact versioning)",
    priority=Priority.REQUIRED,
    source="seed 002, seed 000",
    checks="every image has a fixed tag or a digest (no missing tag, no latest/stable/nightly/...-SNAPSHOT)",
)
def pinned_tag(subject: Subject) -> Iterator[Violation]:
    for image, location in _images(subject, "flinkImageTag"):
        tag = _tag(image)
        if tag is None:
            continue
        if not tag or tag.lower() in _FLOATING or "snapshot" in tag.lower():
            yield Violation(
                f"image {image} has {'no tag' if not tag else 'the floating tag ' + tag}: a restart can pull "
                "different code",
                (*ARTIFACT, "flinkImageTag"),
                tag or None,
                "pin a released tag such as 1.20.0-stream1-scala_2.12-java11, or a digest",
                location,
            )


# -- observability ---------------------------------------------------------------------------------
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
    source="seed 000, seed 002",
    checks="the Prometheus reporter is configured, and a rendered PodMonitor selects the deployment's pods and "
    "scrapes a named container port that serves the reporter port",
)
def metrics(subject: Subject) -> Iterator[Violation]:
    ports = _reporter_ports(subject)
    if not ports:
        yield Violation(
            "Flink's Prometheus reporter is not configured: Prometheus would scrape nothing from Flink itself",
            conf_path("metrics.reporter.prom.factory.class"),
            None,
            f"set metrics.reporter.prom.factory.class: {PROMETHEUS_FACTORY} and metrics.reporter.prom.port: 9249",
        )
        return
    namespace = subject.effective.kubernetes_namespace
    monitors = documents.of_kind(subject.namespace_documents, "PodMonitor")
    pods: list[Pod | None] = [*_pods(subject)] or [None]
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
                _rendered(subject),
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
            _rendered(subject),
        )
    if not any(named.get(str(e.get("port"))) in ports.values() for e in endpoints if e.get("port")):
        yield Violation(
            f"no PodMonitor endpoint scrapes a named port of the {who} that serves the reporter port "
            f"{', '.join(str(p) for p in ports.values())}",
            None,
            sorted(named),
            "declare a named container port equal to metrics.reporter.prom.port and scrape it by name",
            _rendered(subject),
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


# -- resources ---------------------------------------------------------------------------------------
@rule(
    "RES-001",
    item="CPU requests and limits",
    section=SIZING,
    priority=Priority.RECOMMENDED,
    checks="CPU limits are set deliberately for JobManager and TaskManager: kubernetes.<component>.cpu.limit-factor "
    "is set, or the rendered containers carry an explicit CPU limit",
)
def cpu_limits(subject: Subject) -> Iterator[Violation]:
    pods = _pods(subject)
    for component in documents.COMPONENTS:
        key = f"kubernetes.{component}.cpu.limit-factor"
        if key in subject.conf:
            continue
        limited = any(
            (c.get("resources") or {}).get("limits", {}).get("cpu") is not None
            for pod in pods
            if pod.component in (component, "")
            for c in pod.containers
        )
        if not limited:
            yield Violation(
                f"the {component} CPU limit is whatever the platform defaults to (usually limit = request)",
                conf_path(key),
                None,
                f"set {key} in the profile after measuring throttling (1.0 pins limit to request)",
            )


@rule(
    "RES-002",
    item="Slots per TaskManager",
    section=SIZING,
    priority=Priority.RECOMMENDED,
    checks="large-state profiles run 1 slot per TaskManager, others at most platform.policy.maxSlotsPerTaskManager "
    "(default 4), unless the deployment carries an exception for taskmanager.numberOfTaskSlots",
)
def slot_layout(subject: Subject) -> Iterator[Violation]:
    path = conf_path("taskmanager.numberOfTaskSlots")
    if path in subject.active_exceptions:
        return
    count = slots(subject)
    if large_state(subject) and count != 1:
        yield Violation(
            f"{count} slots per TaskManager for a large-state profile: slots share managed memory and RocksDB "
            "instances contend",
            path,
            subject.conf.get("taskmanager.numberOfTaskSlots"),
            "use 1 slot per TaskManager and scale numberOfTaskManagers, or add an exception with a benchmark",
        )
    elif not large_state(subject) and count > subject.settings.max_slots:
        yield Violation(
            f"{count} slots per TaskManager (more than {subject.settings.max_slots}) without measured reasons",
            path,
            subject.conf.get("taskmanager.numberOfTaskSlots"),
            "use 2 to 4 slots per TaskManager, or add an exception with a benchmark",
        )


@rule(
    "RES-003",
    item="Namespace quotas and limits",
    section=SIZING,
    priority=Priority.RECOMMENDED,
    scope=Scope.NAMESPACE,
    checks="the namespace has a ResourceQuota with hard limits and a LimitRange",
)
def quotas(subject: Subject) -> Iterator[Violation]:
    location = Location(subject.home_file)
    quota = [q for q in documents.of_kind(subject.documents, "ResourceQuota") if q.get("spec", {}).get("hard")]
    if not quota:
        yield Violation(
            "no ResourceQuota: one runaway deployment can take the cluster's capacity",
            None,
            None,
            "render a ResourceQuota sized from the namespace's deployments",
            location,
        )
    if not documents.of_kind(subject.documents, "LimitRange"):
        yield Violation(
            "no LimitRange: containers without requests or limits are admitted",
            None,
            None,
            "render a LimitRange with default requests and limits",
            location,
        )
