"""The typed, frozen view of one resolved deployment (or namespace) that renderers, checks and
``gen memory`` read: the derived facts are computed here, once, in one way.

:func:`of` returns the :class:`Deployment` of an effective configuration (built on first use and
kept with it). Every value still carries its provenance: :meth:`Deployment.origin` and
:meth:`Deployment.problem` locate any key path with the one blame rule of
:mod:`generator.config.paths`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.config import paths
from generator.config.merge import Origin, nearest_origin
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem

FLINK_CONF: Path_ = ("spec", "template", "spec", "flinkConfiguration")
TEMPLATE_SPEC: Path_ = ("spec", "template", "spec")
HA_TYPE = "high-availability.type"
HA_STORAGE_DIR = "high-availability.storageDir"
SLOTS = "taskmanager.numberOfTaskSlots"
KUBERNETES_HA = ("kubernetes", "org.apache.flink.kubernetes.highavailability.kuberneteshaservicesfactory")
DEFAULT_METRICS_PORT = "9249"


@dataclass(frozen=True)
class HighAvailability:
    """Flink's high-availability setting as the deployment's configuration says it."""

    type: str  # lower case, stripped; "" when unset
    storage_dir: str | None

    @property
    def enabled(self) -> bool:
        return self.type not in ("", "none")

    @property
    def kubernetes(self) -> bool:
        """Kubernetes HA: leader election and HA metadata in ConfigMaps, so the pods need the API."""
        return self.type in KUBERNETES_HA


def slots_of(conf: Mapping[str, str]) -> int:
    """Task slots per TaskManager (Flink's default 1; a value that is not a count reads as 1)."""
    text = conf.get(SLOTS, "1")
    return int(text) if text.isdigit() else 1


def ha_of(conf: Mapping[str, str]) -> HighAvailability:
    return HighAvailability(conf.get(HA_TYPE, "").strip().lower(), conf.get(HA_STORAGE_DIR))


@dataclass(frozen=True)
class Deployment:
    """One deployment (or, with ``name`` empty, a namespace's defaults) in one environment."""

    effective: Effective
    env: str
    namespace: str
    name: str
    profile: str
    target: str
    kubernetes_namespace: str
    flink_version: str
    conf: Mapping[str, str]  # canonical Flink option -> text
    ha: HighAvailability
    slots: int
    parallelism: int | None
    task_managers: int
    running: bool  # spec.state is RUNNING (a suspended or cancelled job runs no pods)
    session_cluster: str | None
    deployment_target: str | None
    tolerance: str
    metrics_port: int

    @property
    def session(self) -> bool:
        return bool(self.session_cluster)

    @property
    def capacity(self) -> int:
        """Slots the deployment's TaskManagers offer."""
        return self.task_managers * self.slots

    def get(self, path: Path_, default: Any = None) -> Any:
        return self.effective.get(path, default)

    def origin(self, path: Path_) -> Origin | None:
        return nearest_origin(self.effective.provenance, path)

    def problem(self, path: Path_, message: str, hint: str = "", fallback: str = "") -> Problem:
        return paths.problem(self.effective.provenance, path, message, hint, fallback)


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _build(eff: Effective) -> Deployment:
    conf = eff.flink_conf
    spec = eff.get(TEMPLATE_SPEC) or {}
    parallelism = spec.get("parallelism") if isinstance(spec, Mapping) else None
    port = conf.get("metrics.reporter.prom.port", DEFAULT_METRICS_PORT)
    return Deployment(
        effective=eff,
        env=eff.env,
        namespace=eff.namespace,
        name=eff.deployment,
        profile=eff.profile,
        target=eff.target,
        kubernetes_namespace=eff.kubernetes_namespace,
        flink_version=eff.flink_version,
        conf=conf,
        ha=ha_of(conf),
        slots=slots_of(conf),
        parallelism=parallelism if isinstance(parallelism, int) and not isinstance(parallelism, bool) else None,
        task_managers=_int(eff.get((*TEMPLATE_SPEC, "numberOfTaskManagers"), 1), 1),
        running=eff.get(("spec", "state"), "RUNNING") == "RUNNING",
        session_cluster=eff.get(("spec", "sessionClusterName")) or None,
        deployment_target=eff.get(("spec", "deploymentTargetName")) or None,
        tolerance=str(eff.get(("platform", "tolerance"), "")),
        metrics_port=int(port.split(",")[0].split("-")[0]),
    )


def of(eff: Effective) -> Deployment:
    """The model of ``eff``, built once and kept with it."""
    found: Deployment | None = eff.__dict__.get("_model")
    if found is None:
        found = _build(eff)
        object.__setattr__(eff, "_model", found)
    return found
