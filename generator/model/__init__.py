"""The typed, frozen view of one resolved deployment (or namespace) that renderers, checks and
``gen memory`` read: the derived facts are computed here, once, in one way.

:func:`of` returns the :class:`Deployment` of an effective configuration (built on first use and
kept with it). Renderers and checks read values through it — facts (``ha``, ``slots``,
``capacity``, ``running`` ...) and typed sections (``artifact``, ``resources``, ``kubernetes``,
``monitoring``, ``operator``, ``vvp``) — and name key paths only to locate a problem, with the
constants of :mod:`generator.model.keys` and the blame rule of :mod:`generator.config.paths`
(:meth:`Deployment.origin`, :meth:`Deployment.problem`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.config import paths
from generator.config.merge import Origin, nearest_origin
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem
from generator.model import keys
from generator.model.sections import (
    COMPONENTS,
    Artifact,
    ComponentResources,
    FlinkOperator,
    Kubernetes,
    Monitoring,
    Vvp,
    component_resources,
)

HA_TYPE = "high-availability.type"
HA_STORAGE_DIR = "high-availability.storageDir"
SLOTS = "taskmanager.numberOfTaskSlots"
KUBERNETES_HA = ("kubernetes", "org.apache.flink.kubernetes.highavailability.kuberneteshaservicesfactory")
DEFAULT_METRICS_PORT = "9249"
JOBMANAGER_REPLICAS = "kubernetes.jobmanager.replicas"

__all__ = [
    "COMPONENTS",
    "Artifact",
    "ComponentResources",
    "Deployment",
    "FlinkOperator",
    "HighAvailability",
    "Kubernetes",
    "Monitoring",
    "Vvp",
    "ha_of",
    "keys",
    "of",
    "slots_of",
]


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


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else ()


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
    tolerance: str
    # the job
    flink_version: str
    conf: Mapping[str, str]  # canonical Flink option -> text
    ha: HighAvailability
    slots: int
    parallelism: int | None
    task_managers: int
    state: str | None  # spec.state as written
    session_cluster: str | None
    deployment_target: str | None
    upgrade_strategy: str | None
    restore_strategy: str | None
    allow_non_restored_state: Any
    metrics_port: int
    artifact: Artifact
    resources: Mapping[str, ComponentResources]  # component -> its resources
    labels: Mapping[str, Any]  # metadata.labels
    template_annotations: Mapping[str, Any]
    pods: Mapping[str, Any]  # spec.template.spec.kubernetes.pods, the user's pod options
    # component -> spec.template.spec.kubernetes.{jobManager,taskManager}PodTemplate (pods are merged into it)
    pod_templates: Mapping[str, Mapping[str, Any]]
    loggers: Mapping[str, Any]  # spec.template.spec.logging.log4jLoggers
    # the platform around it
    kubernetes: Kubernetes
    monitoring: Monitoring
    alerts: Mapping[str, Any]
    operator: FlinkOperator
    vvp: Vvp
    policy: Mapping[str, Any]
    bounds: Mapping[str, Any] = field(default_factory=dict)  # a profile's bounds: dotted key path -> {min, max}
    waivers: Sequence[Any] = ()  # the waivers: entries as written
    exceptions: Sequence[Any] = ()  # the exceptions: entries as written
    annotations: Mapping[str, Any] = field(default_factory=dict)  # metadata.annotations
    number_of_task_managers: int | None = None  # as written; None when unset (task_managers reads 1)
    logging_template: str | None = None  # spec.template.spec.logging.log4j2ConfigurationTemplate
    display_name: str | None = None  # metadata.displayName
    spec: Mapping[str, Any] = field(default_factory=dict)  # spec as written, for targets that pass its fields through
    template_spec: Mapping[str, Any] = field(default_factory=dict)  # spec.template.spec as written, likewise

    @property
    def running(self) -> bool:
        """spec.state is RUNNING (the default): a suspended or cancelled job runs no pods."""
        return (self.state or "RUNNING") == "RUNNING"

    @property
    def session(self) -> bool:
        return bool(self.session_cluster)

    @property
    def capacity(self) -> int:
        """Slots the deployment's TaskManagers offer."""
        return self.task_managers * self.slots

    def service_account(self, component: str, default: str) -> str:
        return self.kubernetes.service_accounts.get(component) or default

    def get(self, path: Path_, default: Any = None) -> Any:
        """A value by key path, for keys the model has no field for (prefer the fields)."""
        return self.effective.get(path, default)

    def origin(self, path: Path_) -> Origin | None:
        return nearest_origin(self.effective.provenance, path)

    def problem(self, path: Path_, message: str, hint: str = "", fallback: str = "") -> Problem:
        return paths.problem(self.effective.provenance, path, message, hint, fallback)

    @property
    def jobmanager_replicas(self) -> int:
        """JobManager pods (Flink's default 1; a value that is not a count reads as 1)."""
        text = self.conf.get(JOBMANAGER_REPLICAS, "1")
        return int(text) if text.isdigit() else 1


def _build(eff: Effective) -> Deployment:
    conf = eff.flink_conf
    port = conf.get("metrics.reporter.prom.port", DEFAULT_METRICS_PORT)
    state = eff.get(keys.STATE)
    return Deployment(
        effective=eff,
        env=eff.env,
        namespace=eff.namespace,
        name=eff.deployment,
        profile=eff.profile,
        target=eff.target,
        kubernetes_namespace=eff.kubernetes_namespace,
        tolerance=str(eff.get(keys.TOLERANCE, "")),
        flink_version=eff.flink_version,
        conf=conf,
        ha=ha_of(conf),
        slots=slots_of(conf),
        parallelism=_int(eff.get((*keys.TEMPLATE_SPEC, "parallelism"))),
        task_managers=_int(eff.get((*keys.TEMPLATE_SPEC, "numberOfTaskManagers"))) or 1,
        state=None if state is None else str(state),
        session_cluster=eff.get(keys.SESSION_CLUSTER) or None,
        deployment_target=eff.get(keys.DEPLOYMENT_TARGET) or None,
        upgrade_strategy=eff.get(keys.UPGRADE_STRATEGY),
        restore_strategy=eff.get(keys.RESTORE_STRATEGY),
        allow_non_restored_state=eff.get(keys.ALLOW_NON_RESTORED_STATE),
        metrics_port=int(port.split(",")[0].split("-")[0]),
        artifact=Artifact.of(eff),
        resources=component_resources(eff),
        labels=_map(eff.get((*keys.METADATA, "labels"))),
        template_annotations=_map(eff.get(keys.TEMPLATE_ANNOTATIONS)),
        pods=_map(eff.get(keys.PODS)),
        pod_templates={c: _map(eff.get(path)) for c, path in keys.POD_TEMPLATES.items() if eff.get(path)},
        loggers=_map(eff.get(keys.LOGGERS)),
        kubernetes=Kubernetes.of(eff),
        monitoring=Monitoring.of(eff),
        alerts=_map(eff.get(keys.ALERTS)),
        operator=FlinkOperator.of(eff),
        vvp=Vvp.of(eff),
        policy=_map(eff.get(keys.POLICY)),
        bounds=_map(eff.get(keys.BOUNDS)),
        waivers=_list(eff.get(keys.WAIVERS)),
        exceptions=_list(eff.get(keys.EXCEPTIONS)),
        annotations=_map(eff.get((*keys.METADATA, "annotations"))),
        number_of_task_managers=_int(eff.get((*keys.TEMPLATE_SPEC, "numberOfTaskManagers"))),
        logging_template=str(eff.get((*keys.TEMPLATE_SPEC, "logging", "log4j2ConfigurationTemplate")) or "") or None,
        display_name=eff.get((*keys.METADATA, "displayName")) or None,
        spec=_map(eff.get(keys.SPEC)),
        template_spec=_map(eff.get(keys.TEMPLATE_SPEC)),
    )


def of(eff: Effective) -> Deployment:
    """The model of ``eff``, built once and kept with it."""
    found: Deployment | None = eff.__dict__.get("_model")
    if found is None:
        found = _build(eff)
        object.__setattr__(eff, "_model", found)
    return found
