"""The target protocol and the registry of targets: the platforms gen renders for, behind one interface.

A target is one package under ``generator/targets/`` with an object implementing :class:`Target`,
and one line in :data:`_BUILTIN` (or a :func:`register` call). Everything that differs between
platforms lives in its target; the renderers of the Kubernetes objects around the jobs (RBAC,
NetworkPolicies, monitoring, quotas) ask the target the few questions they need (:meth:`Target.api_components`,
:meth:`Target.rest_clients`, :meth:`Target.jobmanager_pods`) instead of comparing target names.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from generator.errors import UsageError

if TYPE_CHECKING:
    from generator.config.resolve import Effective
    from generator.config.yamlload import Path_
    from generator.render.context import Doc, EnvContext, NamespaceContext, Peer


@runtime_checkable
class Target(Protocol):
    """One platform. ``platform`` groups targets that share one installation per environment (both
    Ververica Platform targets share its Helm values); ``vvp`` says the jobs run on Ververica Platform
    (its annotations and ``${secret_values.*}`` work); ``tls_settings`` is the configuration path
    through which the platform itself provisions TLS for the Flink pods (None: Flink's own
    ``security.ssl.*`` options or, on Ververica Platform, its annotation)."""

    @property
    def name(self) -> str: ...

    @property
    def platform(self) -> str: ...

    @property
    def vvp(self) -> bool: ...

    @property
    def tls_settings(self) -> tuple[str, ...] | None: ...

    def deployment_docs(self, eff: Effective) -> list[Doc]:
        """The documents of one deployment (a VVP Deployment, a FlinkDeployment, ...)."""
        ...

    def namespace_docs(self, ctx: NamespaceContext) -> list[Doc]:
        """The target's own documents of a namespace (DeploymentTarget, session clusters, ...)."""
        ...

    def environment_docs(self, ctx: EnvContext) -> list[Doc]:
        """The target's documents of an environment (the platform chart's Helm values)."""
        ...

    def api_components(self, eff: Effective) -> frozenset[str]:
        """Flink components whose pods call the Kubernetes API on this platform, besides what
        Kubernetes HA needs (e.g. the JobManager creating TaskManager pods in native mode)."""
        ...

    def rest_clients(self, eff: Effective) -> tuple[Peer, ...]:
        """Platform components that call the JobManager's REST API (e.g. the operator)."""
        ...

    def jobmanager_pods(self, eff: Effective) -> int:
        """The JobManager pods the platform runs for one deployment (what quotas must hold)."""
        ...

    @property
    def input_fields(self) -> Mapping[Path_, Path_]:
        """Where a field of the target's own resource comes from: a path in the rendered resource
        (``spec.taskManager.replicas``) -> the input key it is written from
        (``spec.template.spec.numberOfTaskManagers``). A path below a mapped path maps to the same
        path below the input key. Empty when the resource has the input's shape (VVP)."""
        ...


def input_path(target: Target, path: Path_) -> tuple[Path_, Path_] | None:
    """The input key a field of ``target``'s resource is written from, by the longest mapped prefix
    of ``path``, with the prefix that matched; None when the target maps no prefix of it."""
    fields = target.input_fields
    for end in range(len(path), 0, -1):
        found = fields.get(path[:end])
        if found is not None:
            return (*found, *path[end:]), path[:end]
    return None


# name -> "module:attribute" of the target object, imported on first use so `gen --help` stays fast
_BUILTIN: dict[str, str] = {
    "vvp": "generator.targets.vvp:TARGET",
    "vvp-operator": "generator.targets.vvp_operator:TARGET",
    "flink-operator": "generator.targets.flink_operator:TARGET",
}
_refs: dict[str, str] = dict(_BUILTIN)
_loaded: dict[str, Target] = {}


def register(name: str, target: Target | str) -> None:
    """Add a target: an object, or ``"module:attribute"`` naming one."""
    _loaded.pop(name, None)
    if isinstance(target, str):
        _refs[name] = target
    else:
        _refs[name] = f"<object {name}>"
        _loaded[name] = target


def unregister(name: str) -> None:
    """Remove a target (for tests that register throw-away targets)."""
    _loaded.pop(name, None)
    if name in _BUILTIN:
        _refs[name] = _BUILTIN[name]
    else:
        _refs.pop(name, None)


def names() -> tuple[str, ...]:
    return tuple(_refs)


def sharing(platform: str) -> tuple[str, ...]:
    """Names of the targets of one platform, in registration order (the built-in ones first): the
    first of them writes what they share, such as the platform chart's values of an environment."""
    return tuple(name for name in names() if get(name).platform == platform)


def get(name: str) -> Target:
    target = _loaded.get(name)
    if target is not None:
        return target
    ref = _refs.get(name)
    if ref is None:
        raise UsageError(f"unknown target '{name}'", hint=f"available: {', '.join(names())}")
    module, _, attr = ref.partition(":")
    found = getattr(importlib.import_module(module), attr)
    if not isinstance(found, Target):
        raise TypeError(f"{ref} does not implement generator.targets.Target")
    _loaded[name] = found
    return found
