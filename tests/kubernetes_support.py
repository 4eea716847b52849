"""Helpers of the Kubernetes-object tests: render a namespace, find its pods, evaluate NetworkPolicies.

The NetworkPolicy evaluator follows the Kubernetes semantics (networking.k8s.io/v1): a pod is isolated
for a direction when a policy of its namespace selects it with that policy type; traffic is allowed
when the sender's egress and the receiver's ingress both allow it (each by any rule of any policy that
selects the pod); a rule without peers or ports matches every peer or every port; ``namespaceSelector``
without ``podSelector`` matches every pod of the selected namespaces; ``podSelector`` alone matches pods
of the policy's own namespace. It is written from the API documentation, not from gen's code.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Resolver
from generator.data import copy_example
from generator.render.plan import Selection, render

ENVS = ("dev", "staging", "prod")
PROFILES = ("small", "stateful-heavy", "high-throughput")
NAMESPACE = "analytics"  # gen namespace of the example
K8S_NAMESPACE = "flink-analytics"


def render_docs(
    env: str,
    config: Path | None = None,
    *,
    target: str | None = None,
    profile: str | None = None,
    sets: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """Output path -> parsed document of one environment's namespace folder."""
    repo = ConfigRepo(config or example_config_dir())
    files = render(repo, Resolver(repo, sets), Selection(env=env, namespace=NAMESPACE, profile=profile, target=target))
    return {f.path: yaml.safe_load(f.content) for f in files}


def is_kubernetes_object(path: str) -> bool:
    return "/vvp/" not in path and not path.endswith("kustomization.yaml")


def objects(docs: Mapping[str, dict[str, Any]], kind: str | None = None) -> list[dict[str, Any]]:
    return [d for p, d in sorted(docs.items()) if is_kubernetes_object(p) and (kind is None or d["kind"] == kind)]


@dataclass(frozen=True)
class Pod:
    """A pod as the rendered pod templates describe it."""

    deployment: str
    component: str
    namespace: str
    labels: Mapping[str, str]
    spec: Mapping[str, Any]
    flink_conf: Mapping[str, str]

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.namespace, dict(self.labels))


def _pod_templates(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """Every PodTemplateSpec (a map with metadata and spec.containers) inside a document."""
    if isinstance(value, Mapping):
        spec = value.get("spec")
        if "metadata" in value and isinstance(spec, Mapping) and "containers" in spec:
            yield path, value
            return
        for key, sub in value.items():
            yield from _pod_templates(sub, (*path, str(key)))
    elif isinstance(value, list):
        for sub in value:
            yield from _pod_templates(sub, path)


def _flink_conf(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        if "flinkConfiguration" in value and isinstance(value["flinkConfiguration"], Mapping):
            return {str(k): str(v) for k, v in value["flinkConfiguration"].items()}
        for sub in value.values():
            found = _flink_conf(sub)
            if found:
                return found
    return {}


def pods(docs: Mapping[str, dict[str, Any]]) -> list[Pod]:
    """The JobManager and TaskManager pods of every rendered deployment document."""
    found: list[Pod] = []
    for _path, doc in sorted(docs.items()):
        if doc.get("kind") not in ("Deployment", "FlinkDeployment", "VvpDeployment"):
            continue
        conf = _flink_conf(doc.get("spec"))
        for _where, template in _pod_templates(doc.get("spec")):
            labels = template["metadata"]["labels"]
            found.append(
                Pod(
                    labels["flink-deployment"],
                    labels["component"],
                    K8S_NAMESPACE,
                    labels,
                    template["spec"],
                    conf,
                )
            )
    return found


# -- NetworkPolicy evaluation ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels) or an address outside the cluster (ip)."""

    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: str | None = None

    @property
    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace} if self.namespace else {}


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if other.ip is None:
            return False  # pod IPs are not modelled: gen never selects pods by address
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.ip)
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(e) for e in block.get("except", []))
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector"), other.labels)


def _port_matches(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        if "port" not in p:
            return True
        start = p["port"]
        assert isinstance(start, int), "named ports are not used by gen"
        if start <= port <= p.get("endPort", start):
            return True
    return False


def _direction_allows(
    policies: Sequence[Mapping[str, Any]], pod: Endpoint, other: Endpoint, port: int, protocol: str, ingress: bool
) -> bool:
    if pod.namespace is None:
        return True  # outside the cluster: no NetworkPolicy applies
    kind, rules_key, peers_key = ("Ingress", "ingress", "from") if ingress else ("Egress", "egress", "to")
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and kind in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(rules_key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(_peer_matches(peer, pod.namespace, other) for peer in peers)
            if peer_ok and _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def allowed(
    policies: Sequence[Mapping[str, Any]], source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    """Would a connection from ``source`` to ``target:port`` pass every NetworkPolicy?"""
    return _direction_allows(policies, source, target, port, protocol, ingress=False) and _direction_allows(
        policies, target, source, port, protocol, ingress=True
    )


def first_port(text: str) -> int:
    return int(text.split(",")[0].split("-")[0])


def single_profile_config(dest: Path, profile: str) -> Path:
    """A copy of the example whose namespace holds only the deployments of ``profile``."""

    copy_example(dest)
    for file in (dest / "deployments").rglob("*.yaml"):
        if yaml.safe_load(file.read_text()).get("profile") != profile:
            file.unlink()
    return dest
