"""The model's sections: typed views of the parts of a resolved configuration that renderers and
checks read. Each is built once from the effective configuration; maps a renderer passes through
unchanged (pod options, chart settings) stay maps, read-only by convention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from generator.config.resolve import Effective
from generator.model import keys

COMPONENTS = ("jobmanager", "taskmanager")
_EMPTY: Mapping[str, Any] = {}


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else ()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Artifact:
    kind: str | None
    flink_version: str | None  # as written (None: the default version)
    flink_image_registry: str | None
    flink_image_repository: str | None
    flink_image_tag: str | None
    raw: Mapping[str, Any]
    jar_uri: str | None = None
    entry_class: str | None = None
    main_args: str | None = None
    additional_dependencies: Sequence[Any] = ()
    sql_script: str | None = None
    python_artifact_uri: str | None = None  # kind PYTHON
    entry_module: str | None = None
    additional_python_libraries: Sequence[Any] = ()
    additional_python_archives: Sequence[Any] = ()

    @property
    def jar_scheme(self) -> str | None:
        """The lower-case scheme of the jar URI (None without one)."""
        return urlsplit(self.jar_uri or "").scheme.lower() or None

    @staticmethod
    def of(eff: Effective) -> Artifact:
        raw = _map(eff.get(keys.ARTIFACT))
        return Artifact(
            _text(raw.get("kind")),
            _text(raw.get("flinkVersion")),
            _text(raw.get("flinkImageRegistry")),
            _text(raw.get("flinkImageRepository")),
            _text(raw.get("flinkImageTag")),
            raw,
            jar_uri=_text(raw.get("jarUri")),
            entry_class=_text(raw.get("entryClass")),
            main_args=_text(raw.get("mainArgs")),
            additional_dependencies=_list(raw.get("additionalDependencies")),
            sql_script=_text(raw.get("sqlScript")),
            python_artifact_uri=_text(raw.get("pythonArtifactUri")),
            entry_module=_text(raw.get("entryModule")),
            additional_python_libraries=_list(raw.get("additionalPythonLibraries")),
            additional_python_archives=_list(raw.get("additionalPythonArchives")),
        )


@dataclass(frozen=True)
class ComponentResources:
    """A JobManager's or TaskManager's resources as written (normalised: cpu ``"1"``/``"500m"``-style
    text or a number, memory ``"4g"``); None where nobody set them."""

    cpu: Any
    memory: str | None
    raw: Mapping[str, Any]
    ephemeral_storage: str | None = None  # a Kubernetes quantity (10Gi)


def component_resources(eff: Effective) -> dict[str, ComponentResources]:
    found: dict[str, ComponentResources] = {}
    for component in COMPONENTS:
        raw = _map(eff.get((*keys.RESOURCES, component)))
        found[component] = ComponentResources(
            raw.get("cpu"), _text(raw.get("memory")), raw, _text(raw.get("ephemeralStorage")) or None
        )
    return found


@dataclass(frozen=True)
class Dns:
    namespace: str | None
    pod_labels: Mapping[str, Any]
    cidrs: Any  # as written; the network renderer checks it, located

    @staticmethod
    def of(eff: Effective) -> Dns:
        raw = _map(eff.get(keys.DNS))
        return Dns(_text(raw.get("namespace")), _map(raw.get("podLabels")), raw.get("cidrs"))


@dataclass(frozen=True)
class Kubernetes:
    """``platform.kubernetes``: identities, network paths and quotas around the jobs."""

    service_accounts: Mapping[str, str | None]  # component -> configured name (None: the default)
    service_account_annotations: Mapping[str, Any]
    dns: Dns
    rest_clients: Sequence[Mapping[str, Any]]
    egress: Sequence[Mapping[str, Any]]
    object_store: Any
    api_server: Any
    quota_headroom: Any
    quota_container_defaults: Mapping[str, Any]

    @staticmethod
    def of(eff: Effective) -> Kubernetes:
        accounts = _map(eff.get(keys.SERVICE_ACCOUNTS))
        netpol = _map(eff.get(keys.NETWORK_POLICY))
        quota = _map(eff.get(keys.QUOTA))
        return Kubernetes(
            {c: _text(accounts.get(c)) or None for c in COMPONENTS},
            _map(accounts.get("annotations")),
            Dns.of(eff),
            _list(netpol.get("restClients")),
            _list(netpol.get("egress")),
            netpol.get("objectStore"),
            eff.get(keys.API_SERVER),
            quota.get("headroom"),
            _map(quota.get("containerDefaults")),
        )


@dataclass(frozen=True)
class Monitoring:
    raw: Mapping[str, Any]
    scrape_interval: str | None
    scrape_timeout: str | None
    prometheus_pod_labels: Mapping[str, Any] | None
    resource_namespace: str | None
    namespace: str | None = None  # where Prometheus runs
    prometheus_service_account: str | None = None
    selector_labels: Mapping[str, Any] = field(default_factory=dict)

    @staticmethod
    def of(eff: Effective) -> Monitoring:
        raw = _map(eff.get(keys.MONITORING))
        labels = raw.get("prometheusPodLabels")
        return Monitoring(
            raw,
            _text(raw.get("scrapeInterval")) or None,
            _text(raw.get("scrapeTimeout")) or None,
            labels if isinstance(labels, Mapping) and labels else None,
            _text(raw.get("resourceNamespace")) or None,
            namespace=_text(raw.get("namespace")) or None,
            prometheus_service_account=_text(raw.get("prometheusServiceAccount")) or None,
            selector_labels=_map(raw.get("selectorLabels")),
        )


@dataclass(frozen=True)
class FlinkOperator:
    """``platform.flinkOperator``: settings of the Flink Kubernetes Operator target."""

    raw: Mapping[str, Any]
    mode: str  # "native" (default) or "standalone"
    registry: str | None
    operator_namespace: str | None
    flink_configuration: Mapping[str, Any]
    restart_nonce: Any
    initial_savepoint_path: str | None
    chart: Mapping[str, Any]
    tls: Mapping[str, Any] | None
    image: Mapping[str, Any] = field(default_factory=dict)  # the Apache Flink image of the pods
    savepoint_trigger_nonce: Any = None
    checkpoint_trigger_nonce: Any = None
    savepoint_redeploy_nonce: Any = None
    autoscaler_reset_nonce: Any = None
    ingress: Mapping[str, Any] = field(default_factory=dict)  # spec.ingress of every FlinkDeployment
    log_configuration: Mapping[str, Any] = field(default_factory=dict)  # file name -> its whole text
    python: Mapping[str, Any] = field(default_factory=dict)  # kind PYTHON: driverJarUri, clientExecutable
    sql: Mapping[str, Any] = field(default_factory=dict)  # kind SQLSCRIPT: runnerJarUri, entryClass, mountPath

    @property
    def job_settings(self) -> dict[str, Any]:
        """The per-job fields of the operator's spec that are set (the nonces and
        ``initialSavepointPath``), by their name in the spec."""
        values = {
            "restartNonce": self.restart_nonce,
            "savepointTriggerNonce": self.savepoint_trigger_nonce,
            "checkpointTriggerNonce": self.checkpoint_trigger_nonce,
            "savepointRedeployNonce": self.savepoint_redeploy_nonce,
            "autoscalerResetNonce": self.autoscaler_reset_nonce,
            "initialSavepointPath": self.initial_savepoint_path,
        }
        return {key: value for key, value in values.items() if value is not None}

    @staticmethod
    def of(eff: Effective) -> FlinkOperator:
        raw = _map(eff.get(keys.FLINK_OPERATOR))
        tls = raw.get("tls")
        return FlinkOperator(
            raw,
            str(raw.get("mode", "native")),
            _text(raw.get("registry")) or None,
            _text(raw.get("operatorNamespace")) or None,
            _map(raw.get("flinkConfiguration")),
            raw.get("restartNonce"),
            _text(raw.get("initialSavepointPath")) or None,
            _map(raw.get("chart")),
            tls if isinstance(tls, Mapping) and tls else None,
            image=_map(raw.get("image")),
            savepoint_trigger_nonce=raw.get("savepointTriggerNonce"),
            checkpoint_trigger_nonce=raw.get("checkpointTriggerNonce"),
            savepoint_redeploy_nonce=raw.get("savepointRedeployNonce"),
            autoscaler_reset_nonce=raw.get("autoscalerResetNonce"),
            ingress=_map(raw.get("ingress")),
            log_configuration=_map(raw.get("logConfiguration")),
            python=_map(raw.get("python")),
            sql=_map(raw.get("sql")),
        )


@dataclass(frozen=True)
class VvpSessionCluster:
    state: str
    deployment_target: str | None
    profile: str | None


@dataclass(frozen=True)
class Vvp:
    """``platform.vvp``: settings of the Ververica Platform targets."""

    raw: Mapping[str, Any]
    secret_values: Mapping[str, Any]
    session_cluster: VvpSessionCluster
    operator: Mapping[str, Any]
    helm: Mapping[str, Any]

    @staticmethod
    def of(eff: Effective) -> Vvp:
        raw = _map(eff.get(keys.VVP))
        session = _map(raw.get("sessionCluster"))
        return Vvp(
            raw,
            _map(raw.get("secretValues")),
            VvpSessionCluster(
                str(session.get("state") or "RUNNING"),
                _text(session.get("deploymentTargetName")) or None,
                _text(session.get("profile")) or None,
            ),
            _map(raw.get("operator")),
            _map(raw.get("helm")),
        )
