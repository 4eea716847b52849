"""No two rendered objects are one object: what a run renders is checked before anything is written.

Two documents that name the same Kubernetes object (API group, kind, Kubernetes namespace, name) in
one environment, or the same Ververica Platform resource (VVP namespace, kind, name), would silently
overwrite each other when applied: whichever is applied last wins. Two checks refuse it:

- :func:`namespace_problems`: the common cause, two gen namespaces mapped onto one Kubernetes
  namespace (``platform.kubernetesNamespace``). Every namespace of the configuration is compared, not
  only the selected ones, so a render of one namespace sees it too. Located at the line that sets
  the value in each namespace (its namespace file when the value is the default, its name).
- :func:`object_problems`: the safety net over every document of the run, whatever the cause (two
  deployments whose names render the same object name, a session cluster named like a deployment of
  a namespace sharing its Kubernetes namespace, ...). Located at the files of both owners.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator import kinds
from generator.config.layers import ConfigRepo
from generator.config.merge import nearest_origin
from generator.config.resolve import Effective, Resolver
from generator.errors import GenError, Problem
from generator.output import Owner

KUBERNETES_NAMESPACE = ("platform", "kubernetesNamespace")

__all__ = ["Placed", "namespace_problems", "object_problems", "placed"]


@dataclass(frozen=True)
class Placed:
    """Where a rendered object lands: its identity, its file and who rendered it."""

    key: tuple[str, str, str, str, str, str]  # env, realm (Kubernetes | VVP), API group, kind, namespace, name
    path: str
    owner: Owner


def placed(content: Mapping[str, Any], kind: kinds.Kind, env: str, path: str, owner: Owner) -> Placed | None:
    """The identity of a rendered object; None for files that are not objects (Helm values, ...).

    The kustomization lists exactly the Kubernetes objects; the other objects are VVP resources."""
    if kind.kind is None:
        return None
    metadata = content.get("metadata") or {}
    api_version = str(content.get("apiVersion", ""))
    group = api_version.rpartition("/")[0] if kind.listed else ""
    realm = "Kubernetes" if kind.listed else "VVP"
    namespace, name = str(metadata.get("namespace", "")), str(metadata.get("name", ""))
    return Placed((env, realm, group, str(content.get("kind")), namespace, name), path, owner)


# -- two gen namespaces, one Kubernetes namespace --------------------------------------------------------
def _where(repo: ConfigRepo, eff: Effective) -> tuple[str, int, int, str]:
    """(file, line, col, how) of a namespace's Kubernetes namespace: the line that sets it, or the
    namespace file when it is the default (the namespace's own name)."""
    origin = nearest_origin(eff.provenance, KUBERNETES_NAMESPACE)
    file = repo.layer("namespace", eff.namespace).doc.file
    if origin is None:
        return file, 1, 1, f"its name, the default ({file} sets none)"
    if origin.file == file:
        return origin.file, origin.line, origin.col, f"set at {origin.where()}"
    return origin.file, origin.line, origin.col, f"{file} takes it from {origin.where()}"


def _names(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def namespace_problems(repo: ConfigRepo, resolver: Resolver, envs: Iterable[str]) -> list[Problem]:
    """Every pair of gen namespaces that render into one Kubernetes namespace, in any of ``envs``.

    A namespace whose defaults cannot be resolved is left out here: its own problems are reported
    when it is rendered."""
    found: dict[tuple[tuple[str, ...], str, tuple[tuple[str, int, int, str], ...]], list[str]] = {}
    for env in envs:
        by_target: dict[str, list[Effective]] = {}
        for namespace in repo.names("namespace"):
            try:
                eff = resolver.namespace(env, namespace)
            except GenError:
                continue
            by_target.setdefault(eff.kubernetes_namespace, []).append(eff)
        for target, effs in by_target.items():
            if len(effs) > 1:
                members = tuple(e.namespace for e in effs)
                found.setdefault((members, target, tuple(_where(repo, e) for e in effs)), []).append(env)
    problems: list[Problem] = []
    for (members, target, wheres), envs_found in found.items():
        sources = ", ".join(f"{ns}: {where[3]}" for ns, where in zip(members, wheres, strict=True))
        message = (
            f"namespaces {_names(list(members))} render into the same Kubernetes namespace '{target}' "
            f"(environment{'s' if len(envs_found) > 1 else ''} {_names(envs_found)}), where their ResourceQuota, "
            f"LimitRange, PodMonitor, PrometheusRule, NetworkPolicies and Roles would overwrite each other ({sources})"
        )
        hint = "give each namespace its own platform.kubernetesNamespace"
        for file, line, col, _ in dict.fromkeys(wheres):
            problems.append(Problem(file, line, col, ".".join(KUBERNETES_NAMESPACE), message, hint))
    return problems


# -- the safety net over every rendered object -----------------------------------------------------------
def _owner_file(repo: ConfigRepo, owner: Owner) -> str:
    if owner.deployment:
        return repo.layer("deployment", owner.deployment, owner.namespace).doc.file
    if owner.namespace:
        return repo.layer("namespace", owner.namespace).doc.file
    return repo.layer("environment", owner.env).doc.file


def _owner_text(owner: Owner) -> str:
    if owner.deployment:
        return f"deployment {owner.namespace}/{owner.deployment}"
    if owner.namespace:
        return f"namespace {owner.namespace}"
    return f"environment {owner.env}"


def object_problems(repo: ConfigRepo, objects: Iterable[Placed]) -> list[Problem]:
    """A problem at both owners of every two rendered documents that are one object."""
    first: dict[tuple[str, ...], Placed] = {}
    problems: list[Problem] = []
    for item in sorted(objects, key=lambda p: p.path):
        seen = first.setdefault(item.key, item)
        if seen is item:
            continue
        env, realm, group, kind, namespace, name = item.key
        what = f"{kind} '{name}'" + (f" (API group {group})" if group else "")
        if seen.owner == item.owner:
            by = f"by {_owner_text(item.owner)} ({seen.path}" + (f", {item.path})" if item.path != seen.path else ")")
        else:
            by = f"by {_owner_text(seen.owner)} ({seen.path}) and by {_owner_text(item.owner)} ({item.path})"
        message = (
            f"{what} in {realm} namespace '{namespace}' (environment {env}) is rendered twice, {by}: "
            "one would overwrite the other"
        )
        hint = "rename one of them, or give their namespaces different platform.kubernetesNamespace values"
        for owner in dict.fromkeys((seen.owner, item.owner)):
            problems.append(Problem(_owner_file(repo, owner), 1, 1, "", message, hint))
    return problems
