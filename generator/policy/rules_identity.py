"""Rules on identity and access: TLS in transit, non-root containers, ServiceAccounts, NetworkPolicies.

The rules about Kubernetes objects judge the rendered documents by kind and field (ServiceAccount,
NetworkPolicy, pod specs), so they hold for every target. Checklist section "Identity, access, and
secrets" (docs/readiness.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from generator import targets
from generator.config.yamlload import dotted
from generator.model import keys
from generator.policy import documents
from generator.policy.facts import conf_path, ha_enabled
from generator.policy.model import Location, Note, Priority, Scope, Subject, Violation
from generator.policy.registry import rule
from generator.policy.vvp import container_note, on_vvp, tls_annotation_note

IDENTITY = "Identity, access, and secrets"

SSL_KEYS = ("security.ssl.internal.enabled", "security.ssl.rest.enabled")
SSL_HINT = f"set {' and '.join(SSL_KEYS)}: true with keystores and truststores from a secret"
VVP_TLS_ANNOTATION = "flink.security.ssl.enabled"
# the hint for a platform that provisions TLS from its own settings (only the Flink Kubernetes Operator does)
OPERATOR_TLS_HINT = (
    "set platform.flinkOperator.tls (the Secret with the keystore and truststore, and the Secret key of their "
    "password) and platform.flinkOperator.chart.tls"
)


# Ververica Platform: "Auto-provisioned SSL/TLS for Flink intra-cluster and external communication is not
# supported. SSL/TLS has to be configured manually." (Session Clusters,
# https://docs.ververica.com/vvp/user-guide/application-operations/session-clusters)
SESSION_TLS_DOCS = "https://docs.ververica.com/vvp/user-guide/application-operations/session-clusters"
SESSION_TLS_HINT = (
    f"configure TLS manually for the session cluster, in the namespace defaults (the SessionCluster's Flink "
    f"configuration): {' and '.join(SSL_KEYS)}: true with keystores and truststores mounted from a Kubernetes "
    "Secret and their passwords from Secret-backed environment variables; or run the job in application mode"
)


def _vvp_tls(subject: Subject) -> bool:
    if subject.model.session:
        return False  # the annotation provisions TLS for application-mode Deployments only
    annotations = subject.model.template_annotations
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
    f"are true, or (Ververica Platform, application mode only: session clusters need manual TLS) the "
    f"{VVP_TLS_ANNOTATION} annotation provisions both, or (Flink "
    "Kubernetes Operator) platform.flinkOperator.tls does",
    dev_tolerance="Plaintext may be acceptable only in isolated local development",
)
def tls(subject: Subject) -> Iterator[Violation | Note]:
    platform = targets.get(subject.target)
    if platform.vvp and _vvp_tls(subject):
        yield from tls_annotation_note(subject)
        return
    settings = platform.tls_settings
    if settings is not None and subject.value(settings):
        return
    missing = [k for k in SSL_KEYS if subject.conf.get(k) != "true"]
    if not missing:
        return
    annotations = subject.model.template_annotations
    if settings is not None:
        message = f"Flink RPC and the REST API/UI are plaintext: {dotted(settings)} is not set"
        origin = subject.effective.origin(settings)
        path = settings if origin is not None else conf_path(missing[0])  # switched off in a layer: point there
        yield Violation(message, path, subject.value(path), OPERATOR_TLS_HINT)
        return
    if VVP_TLS_ANNOTATION in annotations and not platform.vvp:
        yield Violation(
            f"the {VVP_TLS_ANNOTATION} annotation only works on Ververica Platform, not on target {subject.target}",
            (*keys.TEMPLATE_ANNOTATIONS, VVP_TLS_ANNOTATION),
            annotations[VVP_TLS_ANNOTATION],
            SSL_HINT,
        )
        return
    if len(missing) == len(SSL_KEYS):
        message = "Flink RPC and the REST API/UI are plaintext"
    else:
        message = "internal RPC is plaintext" if missing[0] == SSL_KEYS[0] else "the REST API/UI is plaintext"
    if platform.vvp and subject.model.session:
        yield Violation(
            f"{message}: Ververica Platform does not provision TLS for session clusters ({VVP_TLS_ANNOTATION} "
            f"has no effect there; {SESSION_TLS_DOCS})",
            conf_path(missing[0]),
            subject.conf.get(missing[0]),
            SESSION_TLS_HINT,
        )
        return
    if platform.vvp:
        hint = f"set the template annotation {VVP_TLS_ANNOTATION}: 'true' (spec.template.metadata.annotations)"
        if VVP_TLS_ANNOTATION in annotations:  # switched off explicitly: point at that
            path = (*keys.TEMPLATE_ANNOTATIONS, VVP_TLS_ANNOTATION)
            yield Violation(message, path, annotations[VVP_TLS_ANNOTATION], hint)
            return
    else:
        hint = SSL_HINT
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
def non_root(subject: Subject) -> Iterator[Violation | Note]:
    context_path = (*keys.PODS, "securityContext")
    hint = f"set {dotted(context_path)}.runAsNonRoot: true and runAsUser to a non-zero user"
    pods = documents.all_pods(subject.documents)
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
        checked = [("the pods", subject.model.pods.get("securityContext") or {}, {})]
    for who, pod_context, container_context in checked:
        why = _runs_as_root(pod_context, container_context)
        if not why and container_context and _runs_as_root(pod_context, {}) and on_vvp(subject):
            yield container_note("the non-root setting")  # the pod's own settings would not make it non-root
        if why:
            key = "runAsUser" if why.startswith("runAsUser") else "runAsNonRoot"
            path = (*context_path, key)
            yield Violation(f"{who} may run as root: {why}", path, subject.value(path), hint)


@rule(
    "SEC-003",
    item="Dedicated ServiceAccounts (Namespace RBAC)",
    section=IDENTITY,
    priority=Priority.REQUIRED,
    checks="every Flink pod names a ServiceAccount that is not 'default' and that gen renders; the API token is "
    "mounted only where the pods need the Kubernetes API (Kubernetes HA)",
    dev_tolerance="Broad permissions may be acceptable",
)
def service_accounts(subject: Subject) -> Iterator[Violation]:
    rendered = {
        str(d.get("metadata", {}).get("name")) for d in documents.of_kind(subject.namespace_documents, "ServiceAccount")
    }
    for pod in documents.all_pods(subject.documents):
        who = pod.component or "pod"
        account = pod.service_account
        path = (*keys.SERVICE_ACCOUNTS, pod.component) if pod.component else None
        configured = path is not None and path in subject.effective.provenance  # named in a layer file
        where = subject.where(path) if configured and path is not None else subject.rendered_location()
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
                subject.rendered_location(),
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
            f"no NetworkPolicy in namespace {subject.model.kubernetes_namespace}", None, None, hint, location
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
