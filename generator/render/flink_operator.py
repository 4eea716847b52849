"""Apache Flink Kubernetes Operator resources, rendered from the same configuration as VVP.

Per deployment: a ``FlinkDeployment`` with a ``job`` (application mode), or, when the deployment
names ``spec.sessionClusterName``, a ``FlinkSessionJob``. Per namespace: one ``FlinkDeployment``
without ``job`` for every session cluster its jobs name, built from the namespace defaults (as
VVP's SessionCluster is). The Flink configuration is the effective one the VVP target writes,
except for the keys a platform owns (see ``OWNED_KEYS`` and ``ADDED_KEYS``).

The operator's own rules (name pattern, required version, forbidden keys, HA for standby
JobManagers, state directories for stateful upgrades, pinned images) are checked before anything
renders and reported as problems located at the value that breaks them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from generator.config import secrets
from generator.config.layers import FLINK_CONF
from generator.config.resolve import ARTIFACT, RESOURCES, Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import InputError, Problem
from generator.flink import options
from generator.render import pods
from generator.render.context import Doc, NamespaceContext
from generator.render.engine import render_template, template

API_VERSION = "flink.apache.org/v1beta1"
OPERATOR: Path_ = ("platform", "flinkOperator")
TEMPLATE_SPEC: Path_ = ("spec", "template", "spec")
NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]{0,43}[a-z0-9])?$")
#: operator 1.15 ``flinkVersion`` enum
OPERATOR_FLINK_VERSIONS = frozenset(
    {"v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1", "v2_2", "v2_3", "v2_4"}
)

JM_REPLICAS_KEY = "kubernetes.jobmanager.replicas"
TM_SERVICE_ACCOUNT_KEY = "kubernetes.taskmanager.service-account"
CHECKPOINT_DIR_KEY = "execution.checkpointing.dir"
SAVEPOINT_DIR_KEY = "execution.checkpointing.savepoint-dir"
HA_KEY = "high-availability.type"
ROLLBACK_KEY = "kubernetes.operator.deployment.rollback.enabled"
PERIODIC_SAVEPOINT_KEY = "kubernetes.operator.periodic.savepoint.interval"

#: Keys in the shared configuration that the operator target writes elsewhere (VVP keeps them).
OWNED_KEYS: Mapping[str, str] = {JM_REPLICAS_KEY: "spec.jobManager.replicas"}
#: Keys the operator target adds to the shared configuration.
ADDED_KEYS: Mapping[str, str] = {
    TM_SERVICE_ACCOUNT_KEY: "the TaskManager account (spec.serviceAccount is the JobManager's)",
    "kubernetes.operator.*": "platform.flinkOperator.flinkConfiguration",
    "security.ssl.internal.*": "platform.flinkOperator.tls (VVP provisions TLS through its annotation)",
    "security.ssl.rest.*": "platform.flinkOperator.tls",
    "kubernetes.jobmanager.entrypoint.args": "values read from the environment (${NAME}), as -Dkey=value",
    "kubernetes.taskmanager.entrypoint.args": "values read from the environment (${NAME}), as -Dkey=value",
}
#: The operator rejects these: it derives them from the resource's name and namespace.
FORBIDDEN_KEYS = ("kubernetes.namespace", "kubernetes.cluster-id", "high-availability.cluster-id")
#: The operator sets these from spec fields; a value in flinkConfiguration would fight with them.
SPEC_FIELD_KEYS: Mapping[str, str] = {
    "kubernetes.service-account": "platform.kubernetes.serviceAccounts",
    "kubernetes.jobmanager.service-account": "platform.kubernetes.serviceAccounts",
    TM_SERVICE_ACCOUNT_KEY: "platform.kubernetes.serviceAccounts",
    "kubernetes.container.image": "platform.flinkOperator.image",
    "kubernetes.container.image.ref": "platform.flinkOperator.image",
    "kubernetes.container.image.pull-policy": "platform.flinkOperator.image.pullPolicy",
}
TLS: Path_ = (*OPERATOR, "tls")
MODE: Path_ = (*OPERATOR, "mode")
CHART_TLS: Path_ = (*OPERATOR, "chart", "tls")
#: the environment variable of the Flink containers that holds the TLS store password (from its Secret)
TLS_PASSWORD_ENV = "FLINK_TLS_STORE_PASSWORD"
TLS_VOLUME = "flink-tls"
SSL_SCOPES = ("internal", "rest")
SSL_PASSWORD_KEYS = ("keystore-password", "key-password", "truststore-password")
#: Flink's extra arguments of each component's start command; Kubernetes runs that command with
#: ``bash -c``, so ``${NAME}`` in them is the container's environment variable NAME.
ENTRYPOINT_ARGS: Mapping[str, str] = {
    "jobmanager": "kubernetes.jobmanager.entrypoint.args",
    "taskmanager": "kubernetes.taskmanager.entrypoint.args",
}
JOB_NONCES = ("savepointTriggerNonce", "checkpointTriggerNonce", "savepointRedeployNonce", "autoscalerResetNonce")
NONCES = ("restartNonce", *JOB_NONCES)
#: Layers whose settings belong to one job (in session mode they go into the FlinkSessionJob).
JOB_LAYERS = ("profile ", "deployment ", "command line")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:.+")
_VERSION_TAG = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def operator_flink_version(version: str) -> str:
    """``1.20`` -> ``v1_20`` (the operator's enum form)."""
    return "v" + version.replace(".", "_")


def upgrade_mode(eff: Effective) -> str:
    """VVP upgrade and restore strategies as the operator's ``upgradeMode``.

    STATEFUL + LATEST_STATE -> last-state, STATEFUL + LATEST_SAVEPOINT -> savepoint; STATELESS and
    NONE upgrades, and a STATEFUL upgrade that restores nothing (restore NONE), start without
    state: stateless.
    """
    upgrade = eff.get(("spec", "upgradeStrategy", "kind"))
    restore = eff.get(("spec", "restoreStrategy", "kind"))
    if upgrade != "STATEFUL":
        return "stateless"
    return {"LATEST_STATE": "last-state", "LATEST_SAVEPOINT": "savepoint"}.get(str(restore), "stateless")


def job_state(eff: Effective) -> str:
    """RUNNING -> running; SUSPENDED and CANCELLED -> suspended.

    The operator has no cancelled state: deleting the resource is its cancel, and it also drops
    the HA metadata a later start would restore from. ``suspended`` stops the job and frees every
    pod while keeping the state for a later RUNNING, which is what a VVP CANCELLED deployment
    offers (with upgradeMode savepoint the operator also takes a savepoint on the way down).
    """
    return "running" if eff.get(("spec", "state")) == "RUNNING" else "suspended"


# -- locating problems ---------------------------------------------------------------------------
def layer_file(eff: Effective, label: str, default: str) -> str:
    """The file of the layer labelled ``label`` (``environment prod``), as problems show it."""
    for chain in eff.provenance.values():
        for origin in chain:
            if origin.layer == label:
                return origin.file
    return default


def deployment_file(eff: Effective) -> str:
    default = f"deployments/{eff.namespace}/{eff.deployment}.yaml"
    return layer_file(eff, f"deployment {eff.namespace}/{eff.deployment}", default)


def environment_file(eff: Effective) -> str:
    return layer_file(eff, f"environment {eff.env}", f"environments/{eff.env}.yaml")


def problem_at(eff: Effective, path: Path_, message: str, hint: str = "", fallback: str = "") -> Problem:
    """A problem at the file and line that set ``path`` (or its nearest set neighbour)."""
    origin = eff.origin(path)
    if origin is None:
        file = fallback or (deployment_file(eff) if eff.deployment else environment_file(eff))
        return Problem(file, 1, 1, dotted(path), message, hint)
    return Problem(origin.file, origin.line, origin.col, dotted(path), message, hint)


def _where(eff: Effective, path: Path_) -> str:
    origin = eff.origin(path)
    return origin.where() if origin else "nowhere"


# -- images --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Image:
    reference: str
    pull_policy: str | None


def image(eff: Effective, path: Path_, problems: list[Problem], *, flink_version: str | None = None) -> Image | None:
    """The pinned image configured at ``path`` (``registry``/``repository``:``tag``@``digest``)."""
    settings: Mapping[str, Any] = eff.get(path) or {}
    registry = settings.get("registry") or eff.get((*OPERATOR, "registry"))
    repository, tag, digest = settings.get("repository"), settings.get("tag"), settings.get("digest")
    where = dotted(path)
    found: list[Problem] = []
    env_file = environment_file(eff)
    if not repository:
        found.append(problem_at(eff, path, "missing required key: repository", f"set {where}.repository", env_file))
    if not registry:
        found.append(
            problem_at(
                eff,
                (*path, "registry"),
                "the image has no registry",
                "set platform.flinkOperator.registry in each environment to its approved registry",
                env_file,
            )
        )
    if not tag and not digest:
        found.append(
            problem_at(
                eff,
                path,
                "the image is not pinned: it has neither tag nor digest",
                f"set {where}.tag to a release (e.g. 1.20.1-scala_2.12-java11) or {where}.digest",
                env_file,
            )
        )
    if tag and not digest:
        found.extend(_check_tag(eff, (*path, "tag"), str(tag), flink_version))
    problems.extend(found)
    if found:
        return None
    reference = f"{registry}/{repository}"
    if tag:
        reference += f":{tag}"
    if digest:
        reference += f"@{digest}"
    policy = settings.get("pullPolicy")
    return Image(reference, str(policy) if policy else None)


def _check_tag(eff: Effective, path: Path_, tag: str, flink_version: str | None) -> list[Problem]:
    if tag.lower() == "latest":
        return [problem_at(eff, path, "'latest' is not a pinned tag", "name a release or set a digest")]
    match = _VERSION_TAG.match(tag)
    if match is None:
        return []
    major, minor, patch = match.groups()
    if flink_version is not None and f"{major}.{minor}" != flink_version:
        artifact = (*ARTIFACT, "flinkVersion")
        return [
            problem_at(
                eff,
                path,
                f"tag '{tag}' is Flink {major}.{minor}, but the deployment runs flinkVersion {flink_version} "
                f"(set at {_where(eff, artifact)})",
                "keep the Apache Flink image and spec.template.spec.artifact.flinkVersion on the same release",
            )
        ]
    if patch is None:
        return [
            problem_at(
                eff,
                path,
                f"tag '{tag}' moves with every patch release",
                f"pin a patch release ({major}.{minor}.N...) or set a digest",
            )
        ]
    return []


# -- checks --------------------------------------------------------------------------------------
def _ha_enabled(conf: Mapping[str, str]) -> bool:
    return conf.get(HA_KEY, "NONE").strip().lower() not in ("", "none")


def _operator_conf(eff: Effective) -> dict[str, str]:
    raw: Mapping[str, Any] = eff.get((*OPERATOR, "flinkConfiguration")) or {}
    return {key: _text(value) for key, value in sorted(raw.items())}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_name(eff: Effective, name: str, name_path: Path_ | None) -> list[Problem]:
    """The operator's name rule for a FlinkDeployment (``name_path`` None: the deployment's file name)."""
    if NAME_PATTERN.match(name):
        return []
    message = (
        f"'{name}' cannot name a FlinkDeployment: the operator wants a lower-case letter first, then "
        "lower-case letters, digits or '-', not ending in '-', at most 45 characters"
    )
    if name_path is not None:
        return [problem_at(eff, name_path, message)]
    return [
        Problem(
            deployment_file(eff),
            1,
            1,
            "metadata.name",
            message + " (the name comes from the deployment's file name)",
            "rename the deployment file",
        )
    ]


def check_cluster(eff: Effective) -> list[Problem]:
    """The operator's rules for the cluster of one FlinkDeployment (application or session)."""
    problems: list[Problem] = []
    version_path = (*ARTIFACT, "flinkVersion")
    version = eff.get(version_path)
    if not version:
        problems.append(
            problem_at(
                eff,
                version_path,
                "missing required key: flinkVersion (the operator requires it)",
                "set spec.template.spec.artifact.flinkVersion, usually in the baseline",
            )
        )
    elif operator_flink_version(str(version)) not in OPERATOR_FLINK_VERSIONS:
        problems.append(problem_at(eff, version_path, f"the Flink Kubernetes Operator 1.15 cannot run Flink {version}"))
    conf = eff.flink_conf
    replicas = int(conf.get(JM_REPLICAS_KEY, "1"))
    if replicas > 1 and not _ha_enabled(conf):
        problems.append(
            problem_at(
                eff,
                (*FLINK_CONF, JM_REPLICAS_KEY),
                f"{replicas} JobManagers need high availability: the operator starts standby JobManagers "
                "only with HA enabled",
                f"set {HA_KEY}: kubernetes in flinkConfiguration, or 1 JobManager",
            )
        )
    if _operator_conf(eff).get(ROLLBACK_KEY) == "true" and not _ha_enabled(conf):
        problems.append(
            problem_at(
                eff,
                (*OPERATOR, "flinkConfiguration", ROLLBACK_KEY),
                "rollbacks need high availability",
                f"set {HA_KEY}: kubernetes in spec.template.spec.flinkConfiguration",
            )
        )
    for component in pods.COMPONENTS:
        if not eff.get((*RESOURCES, component, "memory")):
            problems.append(
                problem_at(
                    eff,
                    (*RESOURCES, component),
                    f"the operator needs the {component} memory",
                    f"set spec.template.spec.resources.{component}.memory",
                )
            )
    logging_template = (*TEMPLATE_SPEC, "logging", "log4j2ConfigurationTemplate")
    if eff.get(logging_template):
        problems.append(
            problem_at(
                eff,
                logging_template,
                "a VVP logging template cannot configure the operator's pods",
                "set the levels in spec.template.spec.logging.log4jLoggers instead",
            )
        )
    image(eff, (*OPERATOR, "image"), problems, flink_version=str(version) if version else None)
    return problems


def check_keys(eff: Effective) -> list[Problem]:
    """Configuration keys the operator forbids or sets itself; operator keys set twice."""
    problems: list[Problem] = []
    conf = eff.flink_conf
    for key in FORBIDDEN_KEYS:
        if key in conf:
            problems.append(
                problem_at(
                    eff,
                    (*FLINK_CONF, key),
                    "the Flink Kubernetes Operator forbids this key: it derives it from the resource's name "
                    "and namespace",
                    "remove it",
                )
            )
    for key, instead in SPEC_FIELD_KEYS.items():
        if key in conf:
            problems.append(
                problem_at(
                    eff,
                    (*FLINK_CONF, key),
                    "the Flink Kubernetes Operator sets this key from its own spec field",
                    f"set {instead} instead",
                )
            )
    operator_conf = _operator_conf(eff)
    for key in operator_conf:
        if key in conf:
            problems.append(
                problem_at(
                    eff,
                    (*OPERATOR, "flinkConfiguration", key),
                    f"also set in spec.template.spec.flinkConfiguration (at {_where(eff, (*FLINK_CONF, key))})",
                    "keep operator keys in platform.flinkOperator.flinkConfiguration only",
                )
            )
    return problems


def check_job(eff: Effective) -> list[Problem]:
    """The operator's rules for the job of one deployment."""
    problems: list[Problem] = []
    conf = eff.flink_conf
    mode = upgrade_mode(eff)
    strategy = ("spec", "restoreStrategy", "kind")
    described = (
        f"upgradeStrategy {eff.get(('spec', 'upgradeStrategy', 'kind'))} with restoreStrategy "
        f"{eff.get(strategy)} is the operator's upgradeMode {mode}"
    )
    if mode != "stateless" and not conf.get(CHECKPOINT_DIR_KEY, "").strip():
        problems.append(
            problem_at(
                eff,
                strategy,
                f"{described}, which needs a checkpoint directory",
                f"set {CHECKPOINT_DIR_KEY} in spec.template.spec.flinkConfiguration, or a STATELESS upgrade",
            )
        )
    has_savepoint_dir = bool(conf.get(SAVEPOINT_DIR_KEY, "").strip())
    savepoint_hint = f"set {SAVEPOINT_DIR_KEY} in spec.template.spec.flinkConfiguration"
    if mode == "savepoint" and not has_savepoint_dir:
        problems.append(problem_at(eff, strategy, f"{described}, which needs a savepoint directory", savepoint_hint))
    nonce_path = (*OPERATOR, "savepointTriggerNonce")
    if eff.get(nonce_path) is not None and not has_savepoint_dir:
        problems.append(problem_at(eff, nonce_path, "a manual savepoint needs a savepoint directory", savepoint_hint))
    if PERIODIC_SAVEPOINT_KEY in _operator_conf(eff) and not has_savepoint_dir:
        problems.append(
            problem_at(
                eff,
                (*OPERATOR, "flinkConfiguration", PERIODIC_SAVEPOINT_KEY),
                "periodic savepoints need a savepoint directory",
                savepoint_hint,
            )
        )
    redeploy = (*OPERATOR, "savepointRedeployNonce")
    if eff.get(redeploy) is not None and not eff.get((*OPERATOR, "initialSavepointPath")):
        problems.append(
            problem_at(
                eff,
                redeploy,
                "a savepoint redeploy needs the savepoint to start from",
                "set platform.flinkOperator.initialSavepointPath next to it",
            )
        )
    for key in (*NONCES, "initialSavepointPath"):
        path = (*OPERATOR, key)
        origin = eff.origin(path)
        if eff.get(path) is not None and origin is not None and not origin.layer.startswith(JOB_LAYERS[1:]):
            problems.append(
                problem_at(
                    eff,
                    path,
                    f"{key} belongs to one deployment, not to the {origin.layer.split(' ')[0]} layer",
                    "set it in the deployment's file (or with --set)",
                )
            )
    artifact: Mapping[str, Any] = eff.get(ARTIFACT) or {}
    if artifact.get("kind") != "JAR":
        problems.append(
            problem_at(
                eff,
                (*ARTIFACT, "kind"),
                f"the flink-operator target runs JAR artifacts, not {artifact.get('kind')}",
                "package the job as a JAR",
            )
        )
    elif not _SCHEME.match(str(artifact.get("jarUri", ""))):
        problems.append(
            problem_at(
                eff,
                (*ARTIFACT, "jarUri"),
                "the operator needs a jar URI with a scheme",
                "e.g. local:///opt/flink/usrlib/job.jar or s3://bucket/job.jar",
            )
        )
    if artifact.get("additionalDependencies"):
        problems.append(
            problem_at(
                eff,
                (*ARTIFACT, "additionalDependencies"),
                "the operator's job spec has a single jar URI: additional dependencies cannot be passed",
                "bundle them into the job jar or the image",
            )
        )
    try:
        shlex.split(str(artifact.get("mainArgs", "")))
    except ValueError as exc:
        problems.append(
            problem_at(eff, (*ARTIFACT, "mainArgs"), f"cannot split into arguments: {exc}", "balance the quotes")
        )
    return problems


# -- values from Secrets, and TLS ------------------------------------------------------------------
# Flink reads its configuration as text: a ``${NAME}`` in flinkConfiguration would reach it
# unexpanded. On this target such values move into the components' start commands as dynamic
# properties (``-Dkey=value``); Kubernetes starts those commands with ``bash -c``, which expands
# ``${NAME}`` from the container's environment, where the variable comes from a Secret.
_ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class Tls:
    """``platform.flinkOperator.tls``: the keystore and truststore of one cluster, from a Secret."""

    secret: str
    keystore: str
    truststore: str
    password: Mapping[str, str]
    mount_path: str

    def configuration(self) -> dict[str, str]:
        """Flink's keys for internal (mutual) and REST TLS; passwords as references to the container's variable."""
        base = self.mount_path.rstrip("/")
        reference = "${" + TLS_PASSWORD_ENV + "}"
        conf: dict[str, str] = {}
        for scope in SSL_SCOPES:
            prefix = f"security.ssl.{scope}."
            conf[prefix + "enabled"] = "true"
            conf[prefix + "keystore"] = f"{base}/{self.keystore}"
            conf[prefix + "truststore"] = f"{base}/{self.truststore}"
            for key in SSL_PASSWORD_KEYS:
                conf[prefix + key] = reference
        return conf

    def add_to(self, pod: dict[str, Any]) -> dict[str, Any]:
        """The pod template with the stores mounted read-only and the password variable from its Secret."""
        spec = dict(pod["spec"])
        container = dict(spec["containers"][0])
        container["env"] = [
            *container.get("env", []),
            {"name": TLS_PASSWORD_ENV, "valueFrom": {"secretKeyRef": dict(self.password)}},
        ]
        container["volumeMounts"] = [
            *container.get("volumeMounts", []),
            {"name": TLS_VOLUME, "mountPath": self.mount_path, "readOnly": True},
        ]
        items = [{"key": key, "path": key} for key in dict.fromkeys((self.keystore, self.truststore))]
        spec["containers"] = [container, *spec["containers"][1:]]
        spec["volumes"] = [
            *spec.get("volumes", []),
            {"name": TLS_VOLUME, "secret": {"secretName": self.secret, "items": items}},
        ]
        return {**pod, "spec": spec}


def operator_mode(eff: Effective) -> str:
    return str(eff.get(MODE) or "native")


def tls_of(eff: Effective) -> Tls | None:
    raw = eff.get(TLS)
    if not isinstance(raw, Mapping):
        return None
    return Tls(
        secret=str(raw["secretName"]),
        keystore=str(raw.get("keystore", "keystore.p12")),
        truststore=str(raw.get("truststore", "truststore.p12")),
        password={"name": str(raw["password"]["name"]), "key": str(raw["password"]["key"])},
        mount_path=str(raw.get("mountPath", "/opt/flink/tls")),
    )


def reads_environment(value: str) -> bool:
    return _ENV_REFERENCE.search(value) is not None


def shell_word(text: str) -> str:
    """``text`` as one bash word in which only its ``${NAME}`` references expand."""
    parts = re.split(f"({_ENV_REFERENCE.pattern})", text)  # literal, reference, literal, ...
    return "".join(f'"{part}"' if index % 2 else shlex.quote(part) for index, part in enumerate(parts) if part)


def dynamic_properties(conf: dict[str, str]) -> dict[str, str]:
    """``conf`` with every value that reads the environment moved into both components' start
    commands (after any arguments the configuration already gives them)."""
    moved = {
        key: conf[key] for key in sorted(conf) if key not in ENTRYPOINT_ARGS.values() and reads_environment(conf[key])
    }
    if not moved:
        return conf
    result = {key: value for key, value in conf.items() if key not in moved}
    args = " ".join(shell_word(f"-D{key}={value}") for key, value in moved.items())
    for key in ENTRYPOINT_ARGS.values():
        result[key] = f"{result[key]} {args}" if result.get(key) else args
    return dict(sorted(result.items()))


def check_secrets(eff: Effective, conf_keys: Mapping[str, str], *, session_job: bool = False) -> list[Problem]:
    """Where this target cannot hand Flink a value from a Secret, and what TLS needs."""
    problems: list[Problem] = []
    mode = operator_mode(eff)
    tls = None if session_job else tls_of(eff)
    tls_conf = tls.configuration() if tls is not None else {}
    for key, value in sorted(conf_keys.items()):
        if "${secret_values." in value:
            problems.append(
                problem_at(
                    eff,
                    (*FLINK_CONF, key),
                    "${secret_values.NAME} is a Ververica Platform secret value: the operator has none",
                    "keep the value in a Kubernetes Secret and refer to it as ${NAME} through "
                    "spec.template.spec.kubernetes.pods.envVars[].valueFrom.secretKeyRef",
                )
            )
        elif key not in ENTRYPOINT_ARGS.values() and reads_environment(value):
            if session_job:
                problems.append(
                    problem_at(
                        eff,
                        (*FLINK_CONF, key),
                        "a FlinkSessionJob's configuration reaches the session cluster as text: ${NAME} "
                        "would not be expanded",
                        "set it in the namespace defaults, which build the session cluster's FlinkDeployment",
                    )
                )
            elif mode != "native":
                problems.append(
                    problem_at(
                        eff,
                        MODE,
                        f"in {mode} mode the operator does not start Flink through the shell that expands the "
                        f"${{NAME}} of {key} (at {_where(eff, (*FLINK_CONF, key))})",
                        "use mode native, or give the value another way",
                    )
                )
        wanted = tls_conf.get(key)
        if wanted is not None and value != wanted:
            problems.append(
                problem_at(
                    eff,
                    (*FLINK_CONF, key),
                    "platform.flinkOperator.tls sets this key",
                    "remove it, or describe the stores in platform.flinkOperator.tls",
                )
            )
    if tls is None:
        return problems
    if mode != "native":
        problems.append(
            problem_at(
                eff,
                MODE,
                f"in {mode} mode the operator does not start Flink through the shell that hands it the TLS store "
                f"password (platform.flinkOperator.tls at {_where(eff, TLS)})",
                "use mode native, or switch TLS off with tls: null (development only)",
            )
        )
    if not eff.get(CHART_TLS):
        problems.append(
            problem_at(
                eff,
                TLS,
                "the operator calls the JobManager's REST API, which TLS turns to https: the operator needs the "
                "truststore of the certificates' CA",
                "set platform.flinkOperator.chart.tls (the chart's tls.* values) in the same layer",
            )
        )
    env_names = {str(v.get("name")) for v in eff.get(secrets.ENV_VARS) or [] if isinstance(v, Mapping)}
    if TLS_PASSWORD_ENV in env_names:
        problems.append(
            problem_at(
                eff,
                secrets.ENV_VARS,
                f"{TLS_PASSWORD_ENV} is the variable platform.flinkOperator.tls gives the store password",
                "rename this variable",
            )
        )
    return problems


# -- documents -----------------------------------------------------------------------------------
def flink_configuration(eff: Effective) -> dict[str, str]:
    """The Flink configuration of a FlinkDeployment: the shared one in the form the deployment's
    Flink version reads, without the keys the operator owns, plus the keys it adds."""
    version = options.parse_version(eff.flink_version)
    conf = {options.emit_key(k, version): v for k, v in eff.flink_conf.items() if k not in OWNED_KEYS}
    conf[TM_SERVICE_ACCOUNT_KEY] = pods.service_account(eff, "taskmanager")
    tls = tls_of(eff)
    if tls is not None:
        conf.update(tls.configuration())
    conf.update(_operator_conf(eff))
    return dynamic_properties(dict(sorted(conf.items())))


def jobmanager_replicas(eff: Effective) -> int:
    return int(eff.flink_conf.get(JM_REPLICAS_KEY, "1"))


def taskmanager_replicas(eff: Effective) -> int | None:
    """``numberOfTaskManagers`` when it gives exactly ``parallelism`` slots, else None.

    The operator turns ``taskManager.replicas`` into the job's parallelism (replicas x slots);
    when VVP's count has spare slots it is left out and the operator starts
    ceil(parallelism / slots) TaskManagers, so the job keeps its parallelism either way.
    """
    tms = eff.get((*TEMPLATE_SPEC, "numberOfTaskManagers"))
    parallelism = eff.get((*TEMPLATE_SPEC, "parallelism"))
    slots = int(eff.flink_conf.get("taskmanager.numberOfTaskSlots", "1"))
    if not isinstance(tms, int):
        return None
    if parallelism is None or tms * slots == parallelism:
        return tms
    return None


def resource(eff: Effective, component: str) -> dict[str, Any]:
    spec: Mapping[str, Any] = eff.get((*RESOURCES, component)) or {}
    return {key: spec[key] for key in ("cpu", "memory") if key in spec}


def log_configuration(eff: Effective) -> dict[str, str]:
    """``log4jLoggers`` as the pods' log4j-console.properties; nothing when they are Flink's default."""
    loggers: Mapping[str, str] = eff.get((*TEMPLATE_SPEC, "logging", "log4jLoggers")) or {}
    named = sorted((name, level) for name, level in loggers.items() if name)
    root = str(loggers.get("", "INFO"))
    if not named and root == "INFO":
        return {}
    text = template("flink-operator/log4j-console.properties.j2").render(
        root_level=root, loggers=[{"name": n, "level": lvl} for n, lvl in named]
    )
    return {"log4j-console.properties": text}


def job_spec(eff: Effective) -> dict[str, Any]:
    artifact: Mapping[str, Any] = eff.get(ARTIFACT) or {}
    job: dict[str, Any] = {
        "jarURI": artifact["jarUri"],
        "args": shlex.split(str(artifact.get("mainArgs", ""))),
        "parallelism": eff.get((*TEMPLATE_SPEC, "parallelism")),
        "upgradeMode": upgrade_mode(eff),
        "state": job_state(eff),
    }
    if artifact.get("entryClass"):
        job["entryClass"] = artifact["entryClass"]
    allow = eff.get(("spec", "restoreStrategy", "allowNonRestoredState"))
    if allow is not None:
        job["allowNonRestoredState"] = bool(allow)
    for key in (*JOB_NONCES, "initialSavepointPath"):
        value = eff.get((*OPERATOR, key))
        if value is not None:
            job[key] = value
    return job


def _metadata(eff: Effective) -> tuple[dict[str, str], dict[str, str]]:
    meta: Mapping[str, Any] = eff.get(("metadata",)) or {}
    return dict(meta.get("labels") or {}), dict(meta.get("annotations") or {})


def flink_deployment(eff: Effective, name: str, job: Mapping[str, Any] | None) -> dict[str, Any]:
    """A FlinkDeployment named ``name``: an application cluster with ``job``, else a session cluster."""
    problems: list[Problem] = []
    flink_image = image(eff, (*OPERATOR, "image"), problems, flink_version=eff.flink_version)
    if flink_image is None:
        raise InputError(problems)
    mode = operator_mode(eff)
    settings = pods.OPERATOR_NATIVE_PODS if mode == "native" else pods.OPERATOR_PODS
    labels, annotations = _metadata(eff)
    jobmanager_pod = pods.pod_template(eff, "jobmanager", settings)
    taskmanager_pod = pods.pod_template(eff, "taskmanager", settings)
    tls = tls_of(eff)
    if tls is not None:
        jobmanager_pod, taskmanager_pod = tls.add_to(jobmanager_pod), tls.add_to(taskmanager_pod)
    return render_template(
        "flink-operator/FlinkDeployment.yaml.j2",
        name=name,
        namespace=eff.kubernetes_namespace,
        labels=labels,
        annotations=annotations,
        image={"reference": flink_image.reference, "pull_policy": flink_image.pull_policy},
        flink_version=operator_flink_version(eff.flink_version),
        mode=mode,
        service_account=pods.service_account(eff, "jobmanager"),
        flink_configuration=flink_configuration(eff),
        log_configuration=log_configuration(eff),
        jobmanager_replicas=jobmanager_replicas(eff),
        jobmanager_resource=resource(eff, "jobmanager"),
        jobmanager_pod=jobmanager_pod,
        taskmanager_replicas=taskmanager_replicas(eff)
        if job is not None
        else eff.get((*TEMPLATE_SPEC, "numberOfTaskManagers")),
        taskmanager_resource=resource(eff, "taskmanager"),
        taskmanager_pod=taskmanager_pod,
        job=job,
        restart_nonce=eff.get((*OPERATOR, "restartNonce")) if job is not None else None,
    )


#: ``platform`` sections that describe platforms and policies, not values for Flink keys' templates
_NOT_TEMPLATE_INPUTS = frozenset(
    {"flinkOperator", "vvp", "kubernetes", "monitoring", "alerts", "policy", "target", "tolerance"}
)


def _job_changed_platform(eff: Effective) -> bool:
    """Whether a job layer changed a ``platform`` value that Flink keys' templates read
    (``{{ platform.storage.baseUri }}``)."""
    for path, chain in eff.provenance.items():
        if len(path) < 2 or path[0] != "platform" or path[1] in _NOT_TEMPLATE_INPUTS:
            continue
        if chain and chain[-1].layer.startswith(JOB_LAYERS):
            return True
    return False


def session_job_configuration(eff: Effective) -> dict[str, str]:
    """What one job in session mode sets beyond its session cluster (built from the namespace
    defaults): the keys its profile, its own file or ``--set`` decided, values rendered from a
    template when the job changed what the template reads, and the operator keys."""
    version = options.parse_version(eff.flink_version)
    platform_changed = _job_changed_platform(eff)
    conf: dict[str, str] = {}
    for key, value in eff.flink_conf.items():
        if key in OWNED_KEYS:
            continue
        chain = eff.provenance.get((*FLINK_CONF, key), ())
        last = chain[-1] if chain else None
        templated = last is not None and isinstance(last.value, str) and ("{{" in last.value or "{%" in last.value)
        if last is None or last.layer.startswith(JOB_LAYERS) or (templated and platform_changed):
            conf[options.emit_key(key, version)] = value
    conf.update(_operator_conf(eff))
    return dict(sorted(conf.items()))


def session_job(eff: Effective) -> dict[str, Any]:
    labels, annotations = _metadata(eff)
    return render_template(
        "flink-operator/FlinkSessionJob.yaml.j2",
        name=eff.deployment,
        namespace=eff.kubernetes_namespace,
        labels=labels,
        annotations=annotations,
        deployment_name=eff.get(("spec", "sessionClusterName")),
        flink_configuration=session_job_configuration(eff),
        job=job_spec(eff),
        restart_nonce=eff.get((*OPERATOR, "restartNonce")),
    )


def is_session_mode(eff: Effective) -> bool:
    return bool(eff.get(("spec", "sessionClusterName")))


def deployment_docs(eff: Effective) -> list[Doc]:
    """A FlinkDeployment (application mode) or a FlinkSessionJob (session mode) for one deployment."""
    if is_session_mode(eff):
        session_path: Path_ = ("spec", "sessionClusterName")
        version = options.parse_version(eff.flink_version)
        job_conf = session_job_configuration(eff)
        job_keys = {k: v for k, v in eff.flink_conf.items() if options.emit_key(k, version) in job_conf}
        problems = (
            check_name(eff, str(eff.get(session_path)), session_path)
            + check_keys(eff)
            + check_job(eff)
            + check_secrets(eff, job_keys, session_job=True)
        )
        if problems:
            raise InputError(problems)
        return [Doc(session_job(eff))]
    problems = (
        check_name(eff, eff.deployment, None)
        + check_keys(eff)
        + check_cluster(eff)
        + check_job(eff)
        + check_secrets(eff, eff.flink_conf)
    )
    if problems:
        raise InputError(problems)
    return [Doc(flink_deployment(eff, eff.deployment, job_spec(eff)))]


def session_clusters(ctx: NamespaceContext) -> dict[str, Effective]:
    """Session clusters the namespace's rendered FlinkSessionJobs name -> the first job naming it."""
    names: dict[str, Effective] = {}
    for eff in ctx.deployments:
        for doc in ctx.documents.get(eff.deployment, ()):
            if doc.content.get("kind") == "FlinkSessionJob":
                names.setdefault(str(doc.content["spec"]["deploymentName"]), eff)
    return names


def session_cluster_docs(ctx: NamespaceContext) -> list[Doc]:
    """One FlinkDeployment without job per session cluster, built from the namespace defaults
    (baseline, namespace, environment): what VVP's SessionCluster is built from."""
    clusters = session_clusters(ctx)
    problems: list[Problem] = []
    applications = {eff.deployment: eff for eff in ctx.deployments if not is_session_mode(eff)}
    docs: list[Doc] = []
    for name, first_job in sorted(clusters.items()):
        if name in applications:
            problems.append(
                problem_at(
                    first_job,
                    ("spec", "sessionClusterName"),
                    f"session cluster '{name}' has the name of the deployment in "
                    f"{deployment_file(applications[name])}: both would be FlinkDeployment {name}",
                    "rename the session cluster",
                )
            )
            continue
        found = (
            check_keys(ctx.effective)
            + check_cluster(ctx.effective)
            + check_secrets(ctx.effective, ctx.effective.flink_conf)
        )
        problems.extend(found)
        if not found:
            # the namespace's pods carry the cluster's name where a deployment's carry its own
            cluster = replace(ctx.effective, deployment=name)
            docs.append(Doc(flink_deployment(cluster, name, None)))
    if problems:
        raise InputError(problems)
    return docs
