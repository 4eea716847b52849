"""What the flink-operator target derives from a deployment's model, and where its problems point.

The Flink keys the operator owns, adds, forbids or sets from its own spec fields; the operator keys
and per-job fields of ``platform.flinkOperator``; VVP's upgrade and restore strategies and
deployment state as the operator's enums; and the file and line of the layer that set (or should
set) a value, for the problems of this target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.config.resolve import Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem
from generator.model import Deployment
from generator.model.keys import OPERATOR_CHART

API_VERSION = "flink.apache.org/v1beta1"

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
JOB_NONCES = ("savepointTriggerNonce", "checkpointTriggerNonce", "savepointRedeployNonce", "autoscalerResetNonce")
NONCES = ("restartNonce", *JOB_NONCES)
#: The VVP 3 operator's nonces (platform.vvp.operator) and the field of this target that does the
#: same: a restart, a savepoint now. A configuration moving between the targets keeps its intent.
VVP_NONCES: Mapping[str, str] = {"restartNonce": "restartNonce", "savepointNonce": "savepointTriggerNonce"}
#: Layers whose settings belong to one job (in session mode they go into the FlinkSessionJob).
JOB_LAYERS = ("profile ", "deployment ", "command line")


def operator_flink_version(version: str) -> str:
    """``1.20`` -> ``v1_20`` (the operator's enum form)."""
    return "v" + version.replace(".", "_")


def upgrade_mode(m: Deployment) -> str:
    """VVP upgrade and restore strategies as the operator's ``upgradeMode``.

    STATEFUL + LATEST_STATE -> last-state, STATEFUL + LATEST_SAVEPOINT -> savepoint; STATELESS and
    NONE upgrades, and a STATEFUL upgrade that restores nothing (restore NONE), start without
    state: stateless.
    """
    if m.upgrade_strategy != "STATEFUL":
        return "stateless"
    return {"LATEST_STATE": "last-state", "LATEST_SAVEPOINT": "savepoint"}.get(str(m.restore_strategy), "stateless")


def job_state(m: Deployment) -> str:
    """RUNNING -> running; SUSPENDED and CANCELLED -> suspended.

    The operator has no cancelled state: deleting the resource is its cancel, and it also drops
    the HA metadata a later start would restore from. ``suspended`` stops the job and frees every
    pod while keeping the state for a later RUNNING, which is what a VVP CANCELLED deployment
    offers (with upgradeMode savepoint the operator also takes a savepoint on the way down).
    """
    return "running" if m.state == "RUNNING" else "suspended"


def operator_mode(m: Deployment) -> str:
    return m.operator.mode or "native"


def operator_conf(m: Deployment) -> dict[str, str]:
    """``platform.flinkOperator.flinkConfiguration``: the operator keys of one deployment, as text."""
    return {key: _text(value) for key, value in sorted(m.operator.flink_configuration.items())}


def job_settings(m: Deployment) -> dict[str, Any]:
    """The per-deployment fields of the operator's spec this deployment sets (the nonces and
    ``initialSavepointPath``), by their name in the spec, in the spec's order; a VVP 3 operator nonce (``VVP_NONCES``)
    stands for its equivalent here when that is not set."""
    own = m.operator.job_settings
    stand_ins = {key: m.vvp.operator.get(vvp_key) for vvp_key, key in VVP_NONCES.items()}
    ordered = ("restartNonce", *JOB_NONCES, "initialSavepointPath")  # the order of the spec's fields
    found = {key: own[key] if key in own else stand_ins.get(key) for key in ordered}
    return {key: value for key, value in found.items() if value is not None}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
    return Problem(*eff.located(path, fallback), dotted(path), message, hint)


def chart_problems(eff: Effective) -> list[Problem]:
    """Operator chart settings a profile or a deployment file wrote: they would be silently ignored
    (the chart is installed once per environment), so each is a problem."""
    n = len(OPERATOR_CHART)
    return [
        problem_at(
            eff,
            path,
            "the operator chart is installed once per environment: a profile or a deployment cannot change it",
            "set it in the baseline or the environment file",
        )
        for path, chain in eff.provenance.items()
        if path[:n] == OPERATOR_CHART and chain and chain[-1].layer.startswith(JOB_LAYERS)
    ]


def where(eff: Effective, path: Path_) -> str:
    origin = eff.origin(path)
    return origin.where() if origin else "nowhere"
