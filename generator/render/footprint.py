"""The footprint of a namespace's running deployments, for its ResourceQuota and LimitRange: each
JobManager and TaskManager pod (the Flink container, the sidecars and init containers of the user's
pod template) times the pods its platform runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from typing import Any

from generator import model, units
from generator.config.resolve import Effective
from generator.errors import Problem
from generator.model import keys
from generator.render import pods, shares
from generator.render import target as targets
from generator.render.context import NamespaceContext


def deployment_target(ctx: NamespaceContext, eff: Effective) -> str:
    """The deployment's target; a --target on the command line overrides every deployment's."""
    return ctx.target if ctx.target != ctx.effective.target else eff.target


@dataclass(frozen=True)
class Footprint:
    """Requests and limits, CPU in millicores, memory and ephemeral storage in bytes."""

    cpu_request: int = 0
    memory_request: int = 0
    cpu_limit: int = 0
    memory_limit: int = 0
    pods: int = 0
    storage_request: int = 0
    storage_limit: int = 0

    def __add__(self, other: Footprint) -> Footprint:
        return Footprint(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        # the fields in order (dataclasses.astuple deep-copies each value: a tenth of a quota's cost)
        return (
            self.cpu_request,
            self.memory_request,
            self.cpu_limit,
            self.memory_limit,
            self.pods,
            self.storage_request,
            self.storage_limit,
        )

    def scaled(self, count: int) -> Footprint:
        return Footprint(*(value * count for value in self.astuple()))

    def most(self, other: Footprint) -> Footprint:
        return Footprint(*(max(a, b) for a, b in zip(self.astuple(), other.astuple(), strict=True)))


_ceil = pods._ceil
cpu_quantity = pods.cpu_quantity
memory_quantity = pods.memory_quantity


def container(eff: Effective, component: str, problems: list[Problem]) -> Footprint:
    """One JobManager or TaskManager container: the requests are the resources, the limits the
    requests times Flink's kubernetes.<component>.{cpu,memory}.limit-factor (on VVP, gen writes
    these limits into the pod templates, so the platform applies them)."""
    size = pods.container_size(eff, component, problems)
    return Footprint(
        cpu_request=size.cpu_request,
        memory_request=size.memory_request,
        cpu_limit=size.cpu_limit,
        memory_limit=size.memory_limit,
        pods=1,
        storage_request=size.ephemeral_storage,
        storage_limit=size.ephemeral_storage,
    )


@dataclass(frozen=True)
class Defaults:
    """What the LimitRange gives a container that declares nothing (init containers, sidecars)."""

    cpu: int
    memory: int
    storage: int  # 0: no default


def _declared(container: Mapping[str, Any], defaults: Defaults, where: Callable[[str, str], None]) -> Footprint:
    """An extra container (a sidecar or an init container) as the LimitRange completes it."""
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}

    def amount(kind: str, section: str, fallback: Mapping[str, Any], default: int) -> int:
        source = requests if section == "requests" else limits
        value = source.get(kind, fallback.get(kind))
        if value is None:
            return default
        try:
            if kind == "cpu":
                return _ceil(Decimal(str(units.parse_cpu(str(value)))) * 1000)
            return pods.quantity_bytes(value)
        except (ValueError, units.UnitError):
            where(f"{section}.{kind}", f"{value!r} is not a Kubernetes quantity")
            return default

    return Footprint(
        cpu_request=amount("cpu", "requests", limits, defaults.cpu),
        memory_request=amount("memory", "requests", limits, defaults.memory),
        cpu_limit=amount("cpu", "limits", {}, defaults.cpu),
        memory_limit=amount("memory", "limits", {}, defaults.memory),
        storage_request=amount("ephemeral-storage", "requests", limits, defaults.storage),
        storage_limit=amount("ephemeral-storage", "limits", {}, defaults.storage),
    )


def pod(eff: Effective, component: str, defaults: Defaults, problems: list[Problem]) -> Footprint:
    """One JobManager or TaskManager pod: the Flink container, the sidecars of the user's pod
    template (containers with an image of their own), and its init containers (Kubernetes reserves
    the larger of the init containers and the sum of the others)."""
    m = model.of(eff)
    total = container(eff, component, problems)
    if not total.storage_request:  # a Flink container without ephemeral storage gets the LimitRange's default
        total = replace(total, storage_request=defaults.storage, storage_limit=defaults.storage)
    spec = m.pod_templates.get(component, {}).get("spec") or {}

    def located(field: str, index: int) -> Callable[[str, str], None]:
        def where(key: str, message: str) -> None:
            path = (*keys.POD_TEMPLATES[component], "spec", field, index, "resources", *key.split(".", 1))
            problems.append(m.problem(path, message, "write a quantity such as 500m (CPU) or 256Mi"))

        return where

    for index, extra in enumerate(spec.get("containers") or []):
        if isinstance(extra, Mapping) and extra.get("image"):
            total = total + _declared(extra, defaults, located("containers", index))
    init = Footprint()
    for index, extra in enumerate(spec.get("initContainers") or []):
        if isinstance(extra, Mapping):
            init = init.most(_declared(extra, defaults, located("initContainers", index)))
    return replace(total.most(init), pods=1)


def replicas(eff: Effective, component: str, target: str | None = None) -> int:
    """The pods of ``component`` that run for one deployment: the JobManager pods are what its platform
    runs (:meth:`Target.jobmanager_pods`), not what a Flink option asks for."""
    facts = model.of(eff)
    if component == "jobmanager":
        return targets.get(target or facts.target).jobmanager_pods(eff)
    return facts.task_managers


@dataclass(frozen=True)
class Sizing:
    total: Footprint  # every pod of every running deployment
    largest: Footprint  # per resource, the largest single Flink pod


def sizing(
    deployments: Sequence[Effective],
    problems: list[Problem],
    ctx: NamespaceContext | None = None,
    defaults: Defaults | None = None,
) -> Sizing:
    defaults = defaults or Defaults(0, 0, 0)
    total, largest = Footprint(), Footprint()
    for eff in deployments:
        if not model.of(eff).running:
            continue  # a suspended or cancelled deployment runs no pods
        target = deployment_target(ctx, eff) if ctx is not None else None
        # kept for the next render with the defaults it was computed with (they depend on every deployment)
        tag = f"pods {defaults.cpu} {defaults.memory} {defaults.storage} {target}"
        for one, count in shares.share(tag, eff.deployment, partial(_pods, eff, target, defaults, problems)):
            total = total + one.scaled(count)
            largest = largest.most(one)
    return Sizing(total, largest)


def _pods(
    eff: Effective, target: str | None, defaults: Defaults, problems: list[Problem]
) -> tuple[tuple[Footprint, int], ...]:
    """Each component's pod of one running deployment and how many of it run."""
    return tuple(
        (pod(eff, component, defaults, problems), replicas(eff, component, target)) for component in pods.COMPONENTS
    )
