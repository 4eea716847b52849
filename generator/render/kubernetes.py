"""The Kubernetes objects around the Flink pods of one namespace, for every target.

Per Kubernetes namespace and environment: ServiceAccounts (never the default account), a
least-privilege Role and RoleBinding for the accounts whose pods call the Kubernetes API (Kubernetes
HA, native mode), NetworkPolicies (``generator.render.network``), PodMonitor, PrometheusRule and the
Prometheus discovery RBAC (``generator.render.monitoring``), a ResourceQuota and a LimitRange sized from
the namespace's running deployments, and a ``kustomization.yaml`` listing every Kubernetes object of
the output folder.

All input problems of the namespace are collected and raised together; nothing is rendered from a
configuration with problems.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from generator import kinds, model, units
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import InputError, Problem
from generator.model import keys
from generator.render import monitoring, network, pods, shares
from generator.render import target as targets
from generator.render.context import Doc, NamespaceContext
from generator.render.engine import render_template
from generator.render.footprint import (
    Defaults,
    Footprint,
    cpu_quantity,
    deployment_target,
    memory_quantity,
    sizing,
)
from generator.render.located import problem_at, problem_in_layers

LABELS = {"app.kubernetes.io/managed-by": "gen", "app.kubernetes.io/part-of": "flink"}
DEFAULT_HEADROOM = 0.25
DEFAULT_CONTAINER = {"cpu": 0.1, "memory": "128m"}
DEFAULT_EPHEMERAL_STORAGE = "1Gi"  # a container that declares none, once the quota counts ephemeral storage
KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"
# settings that describe the namespace, not a deployment: a profile or deployment must not change them
NAMESPACE_WIDE: tuple[Path_, ...] = (
    keys.MONITORING,
    keys.ALERTS,
    keys.KUBERNETES_NAMESPACE,
    keys.DNS,
    keys.QUOTA,
    (*keys.SERVICE_ACCOUNTS, "annotations"),
)


def _labels(**extra: str) -> dict[str, str]:
    return {**LABELS, **extra}


# -- which pods call the Kubernetes API ----------------------------------------------------------------
def api_components(eff: Effective, target: str) -> frozenset[str]:
    """Components whose pods call the Kubernetes API: both with Kubernetes HA (leader election and HA
    metadata in ConfigMaps), and what the platform adds (a native-mode JobManager creates its TaskManagers)."""
    platform = targets.get(target).api_components(eff)
    return frozenset(c for c in pods.COMPONENTS if pods.needs_kubernetes_api(eff) or c in platform)


# -- ServiceAccounts and RBAC ----------------------------------------------------------------------------
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "get", "list", "patch", "update", "watch"]


@dataclass
class Account:
    """One ServiceAccount and what the pods that run as it do with the Kubernetes API."""

    name: str
    components: set[str] = field(default_factory=set)
    ha_leader: bool = False  # JobManager with Kubernetes HA: leader election, HA metadata (ConfigMaps)
    ha_follower: bool = False  # TaskManager with Kubernetes HA: watches the leader ConfigMaps
    native: bool = False  # native-mode JobManager: creates, watches and deletes TaskManager pods

    @property
    def needs_api(self) -> bool:
        return self.ha_leader or self.ha_follower or self.native

    def rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        if self.ha_leader:
            rules.append({"apiGroups": [""], "resources": ["configmaps"], "verbs": _WRITE})
        elif self.ha_follower:
            rules.append({"apiGroups": [""], "resources": ["configmaps"], "verbs": _READ})
        if self.native:
            # TaskManager pods are owned by the JobManager Deployment: read it, and set it as owner
            # (blockOwnerDeletion needs update on its finalizers where OwnerReferencesPermissionEnforcement runs)
            rules.append({"apiGroups": [""], "resources": ["pods"], "verbs": _WRITE})
            rules.append({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": _READ})
            rules.append({"apiGroups": ["apps"], "resources": ["deployments/finalizers"], "verbs": ["update"]})
        return rules


def accounts(ctx: NamespaceContext) -> list[Account]:
    found: dict[str, Account] = {}
    for component in pods.COMPONENTS:  # the namespace's defaults exist even before its first deployment
        name = pods.service_account(ctx.effective, component)
        found.setdefault(name, Account(name)).components.add(component)
    for eff in ctx.deployments:
        target = deployment_target(ctx, eff)
        calls_api = api_components(eff, target)
        platform_api = targets.get(target).api_components(eff)
        for component in pods.COMPONENTS:
            name = pods.service_account(eff, component)
            account = found.setdefault(name, Account(name))
            account.components.add(component)
            if component not in calls_api:
                continue
            if pods.needs_kubernetes_api(eff):
                if component == "jobmanager":
                    account.ha_leader = True
                else:
                    account.ha_follower = True
            if component == "jobmanager" and component in platform_api:
                account.native = True
    return [found[name] for name in sorted(found)]


def _account_problems(ctx: NamespaceContext) -> list[Problem]:
    found: list[Problem] = []
    for eff in (ctx.effective, *ctx.deployments):
        for component in pods.COMPONENTS:
            if pods.service_account(eff, component) == "default":
                found.append(
                    problem_at(
                        eff,
                        (*keys.SERVICE_ACCOUNTS, component),
                        "Flink pods must not run as the namespace's default ServiceAccount",
                        f"name a dedicated account, e.g. flink-{component}",
                    )
                )
    return found


def account_docs(ctx: NamespaceContext, namespace: str) -> list[dict[str, Any]]:
    annotations = model.of(ctx.effective).kubernetes.service_account_annotations
    docs: list[dict[str, Any]] = []
    for account in accounts(ctx):
        labels = _labels()
        docs.append(
            render_template(
                "k8s/ServiceAccount.yaml.j2",
                name=account.name,
                namespace=namespace,
                labels=labels,
                annotations=dict(annotations),
                automount=account.needs_api,
            )
        )
        if account.needs_api:
            common = {"name": account.name, "namespace": namespace, "labels": labels}
            subject = {"kind": "ServiceAccount", "name": account.name, "namespace": namespace}
            docs.append(render_template("k8s/Role.yaml.j2", **common, rules=account.rules()))
            docs.append(render_template("k8s/RoleBinding.yaml.j2", **common, role=account.name, subjects=[subject]))
    return docs


# -- NetworkPolicies ---------------------------------------------------------------------------------------
def _policy(
    name: str,
    namespace: str,
    selector: Mapping[str, Any],
    ingress: list[dict[str, Any]] | None,
    egress: list[dict[str, Any]] | None,
    labels: dict[str, str],
) -> dict[str, Any]:
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    return render_template(
        "k8s/NetworkPolicy.yaml.j2",
        name=name,
        namespace=namespace,
        labels=labels,
        pod_selector=dict(selector),
        policy_types=types,
        ingress=ingress,
        egress=egress,
    )


def network_docs(
    namespace: str, nets: Sequence[network.DeploymentNetwork], dns: dict[str, Any], mon: monitoring.Monitoring
) -> list[dict[str, Any]]:
    """The namespace's NetworkPolicies: deny all but DNS, then each deployment's
    (:func:`deployment_policies`, kept per deployment for the next render)."""
    docs = [
        _policy("default-deny-all", namespace, {}, [], [], _labels()),
        _policy("allow-dns", namespace, {}, None, [dns], _labels()),
    ]
    scraper = mon.scraper()
    for net in nets:
        docs.extend(shares.share("policies", net.name, partial(deployment_policies, namespace, net, scraper)))
    return docs


def deployment_policies(
    namespace: str, net: network.DeploymentNetwork, scraper: network.Scraper
) -> list[dict[str, Any]]:
    """The NetworkPolicies of one deployment's pods: one per component, and one for its egress."""
    docs = []
    labels = _labels(**{pods.POD_LABEL_DEPLOYMENT: net.name})
    for component, rules in network.RULES.items():
        ingress, egress = rules(net, scraper)
        selector = network.component_selector(net.name, component)
        docs.append(_policy(f"{net.name}-{component}", namespace, selector, ingress, egress, labels))
    external = network.egress_rules(net)
    if external:
        selector = {"matchLabels": {pods.POD_LABEL_DEPLOYMENT: net.name}}
        docs.append(_policy(f"{net.name}-egress", namespace, selector, None, external, labels))
    return docs


# -- ResourceQuota and LimitRange --------------------------------------------------------------------------
_ceil = pods._ceil


def quota_docs(ctx: NamespaceContext, namespace: str, problems: list[Problem]) -> list[dict[str, Any]]:
    platform = model.of(ctx.effective).kubernetes
    headroom = Decimal(str(DEFAULT_HEADROOM if platform.quota_headroom is None else platform.quota_headroom))
    defaults = {**DEFAULT_CONTAINER, **platform.quota_container_defaults}
    default_cpu = _ceil(Decimal(str(units.parse_cpu(defaults["cpu"]))) * 1000)
    default_memory = units.parse_memory(defaults["memory"])
    storage = str(defaults.get("ephemeralStorage") or DEFAULT_EPHEMERAL_STORAGE)
    default_storage = pods.storage_bytes(storage)
    counts_storage = any(
        model.of(eff).resources[c].ephemeral_storage for eff in ctx.deployments for c in pods.COMPONENTS
    ) or bool(platform.quota_container_defaults.get("ephemeralStorage"))
    size = sizing(
        ctx.deployments, problems, ctx, Defaults(default_cpu, default_memory, default_storage if counts_storage else 0)
    )
    total, largest = size.total, size.largest

    def hard(value: int, one: int) -> int:
        # the running deployments, plus headroom, plus at least one more of the largest pod: a pod being
        # replaced (failover, rolling restart) counts until it has terminated
        return value + max(_ceil(value * headroom), one)

    spec_hard = {
        "limits.cpu": cpu_quantity(hard(total.cpu_limit, largest.cpu_limit)),
        "limits.memory": memory_quantity(hard(total.memory_limit, largest.memory_limit)),
        "pods": str(hard(total.pods, 1)),
        "requests.cpu": cpu_quantity(hard(total.cpu_request, largest.cpu_request)),
        "requests.memory": memory_quantity(hard(total.memory_request, largest.memory_request)),
    }
    limit_max = {
        "cpu": cpu_quantity(max(largest.cpu_limit, default_cpu)),
        "memory": memory_quantity(max(largest.memory_limit, default_memory)),
    }
    default = {"cpu": cpu_quantity(default_cpu), "memory": memory_quantity(default_memory)}
    if counts_storage:
        # a quota on ephemeral storage makes every container declare it: the LimitRange gives the default
        spec_hard["limits.ephemeral-storage"] = memory_quantity(hard(total.storage_limit, largest.storage_limit))
        spec_hard["requests.ephemeral-storage"] = memory_quantity(hard(total.storage_request, largest.storage_request))
        limit_max["ephemeral-storage"] = memory_quantity(max(largest.storage_limit, default_storage))
        default["ephemeral-storage"] = memory_quantity(default_storage)
    return [
        render_template(
            "k8s/ResourceQuota.yaml.j2",
            name="flink",
            namespace=namespace,
            labels=_labels(),
            hard=dict(sorted(spec_hard.items())),
        ),
        render_template(
            "k8s/LimitRange.yaml.j2",
            name="flink",
            namespace=namespace,
            labels=_labels(),
            limits=[{"type": "Container", "default": default, "defaultRequest": default, "max": limit_max}],
        ),
    ]


# -- the namespace renderer ----------------------------------------------------------------------------------
def _namespace_wide_problems(ctx: NamespaceContext) -> list[Problem]:
    found: list[Problem] = []
    for eff in ctx.deployments:
        for path in NAMESPACE_WIDE:
            if eff.get(path) != ctx.effective.get(path):
                found.append(
                    problem_in_layers(
                        eff,
                        path,
                        ("profile", "deployment", "command line"),
                        f"differs from the namespace's value: it configures objects every deployment of namespace "
                        f"{ctx.namespace} shares",
                        f"set it in namespaces/{ctx.namespace}.yaml or environments/{ctx.env}.yaml, "
                        "not in a profile or a deployment",
                    )
                )
    return found


def _deployment_network(ctx: NamespaceContext, eff: Effective, problems: list[Problem]) -> network.DeploymentNetwork:
    target = deployment_target(ctx, eff)
    return network.deployment_network(eff, target, api_components(eff, target), problems)


def namespace_docs(ctx: NamespaceContext) -> list[Doc]:
    """Every Kubernetes object around the Flink pods of ``ctx``'s namespace."""
    problems = _namespace_wide_problems(ctx) + _account_problems(ctx)
    namespace = model.of(ctx.effective).kubernetes_namespace
    mon = monitoring.settings(ctx.effective, problems)
    nets = [
        shares.share("network", eff.deployment, partial(_deployment_network, ctx, eff, problems))
        for eff in sorted(ctx.deployments, key=lambda e: e.deployment)
    ]
    dns = network.dns_rule(ctx.effective, problems)
    groups = monitoring.alert_spec_groups(ctx.effective, ctx.deployments, problems)
    quotas = quota_docs(ctx, namespace, problems)
    if problems:
        raise InputError(problems)
    docs = [
        *account_docs(ctx, namespace),
        *network_docs(namespace, nets, dns, mon),
        *quotas,
        monitoring.pod_monitor(mon),
        monitoring.prometheus_rule(mon, groups),
        *monitoring.discovery_rbac(mon, _labels()),
    ]
    return [Doc(doc) for doc in docs]


# -- kustomization.yaml --------------------------------------------------------------------------------------
def is_kubernetes_object(doc: Doc) -> bool:
    """Documents the namespace's kustomization lists (their output kind says so)."""
    return kinds.of(doc.content, doc.kind_key).listed


def check_kustomization(content: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    if content.get("apiVersion") != KUSTOMIZE_API or content.get("kind") != "Kustomization":
        found.append(f"kustomization.yaml: expected apiVersion {KUSTOMIZE_API}, kind Kustomization")
    if set(content) - {"apiVersion", "kind", "resources"}:
        found.append(
            f"kustomization.yaml: unexpected keys {sorted(set(content) - {'apiVersion', 'kind', 'resources'})}"
        )
    resources = content.get("resources")
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        return [*found, "kustomization.yaml: resources must be a list of file names"]
    if len(set(resources)) != len(resources):
        found.append("kustomization.yaml: a resource is listed twice")
    for resource in resources:
        if resource.startswith("/") or ".." in resource.split("/") or not resource.endswith(".yaml"):
            found.append(f"kustomization.yaml: {resource!r} is not a YAML file inside the folder")
    return found


def kustomization(ctx: NamespaceContext, namespace_docs: Sequence[Doc]) -> list[Doc]:
    """``kustomization.yaml`` listing every Kubernetes object written to the namespace's folder: the
    namespace's documents and those of all its deployments (whatever the selection)."""
    deployment_docs = [doc for docs in ctx.documents.values() for doc in docs]
    files = {
        doc.file or kinds.of(doc.content, doc.kind_key).file_name(doc.content)
        for doc in (*namespace_docs, *deployment_docs)
        if is_kubernetes_object(doc)
    }
    content = render_template("k8s/kustomization.yaml.j2", api_version=KUSTOMIZE_API, resources=sorted(files))
    return [Doc(content, kind_key="kustomization")]


__all__ = [
    "Footprint",
    "api_components",
    "check_kustomization",
    "cpu_quantity",
    "kustomization",
    "memory_quantity",
    "namespace_docs",
    "sizing",
]
