"""The Flink Kubernetes Operator's own rules, checked before anything renders: the name pattern,
the required and supported Flink version, forbidden keys and keys it sets from spec fields, HA for
standby JobManagers and rollbacks, state directories for stateful upgrades, the job's artifact and
the pinned image. Each problem is located at the value that breaks the rule."""

from __future__ import annotations

import re

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem
from generator.model.artifacts import artifact_problems as model_artifact_problems
from generator.model.keys import (
    ARTIFACT,
    FLINK_CONF,
    FLINK_OPERATOR,
    RESOURCES,
    RESTORE_STRATEGY,
    TEMPLATE_SPEC,
    VVP_OPERATOR,
)
from generator.render import pods
from generator.targets.flink_operator.artifacts import artifact_problems
from generator.targets.flink_operator.images import image
from generator.targets.flink_operator.settings import (
    CHECKPOINT_DIR_KEY,
    FORBIDDEN_KEYS,
    HA_KEY,
    JM_REPLICAS_KEY,
    JOB_LAYERS,
    NONCES,
    PERIODIC_SAVEPOINT_KEY,
    ROLLBACK_KEY,
    SAVEPOINT_DIR_KEY,
    SPEC_FIELD_KEYS,
    VVP_NONCES,
    deployment_file,
    job_settings,
    operator_conf,
    operator_flink_version,
    problem_at,
    upgrade_mode,
    where,
)
from generator.targets.flink_operator.vvp_only import vvp_only_problems

NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]{0,43}[a-z0-9])?$")
#: operator 1.15 ``flinkVersion`` enum
OPERATOR_FLINK_VERSIONS = frozenset(
    {"v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1", "v2_2", "v2_3", "v2_4"}
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:.+")


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
    m = model.of(eff)
    version_path = (*ARTIFACT, "flinkVersion")
    version = m.artifact.flink_version
    if not version:
        problems.append(
            problem_at(
                eff,
                version_path,
                "missing required key: flinkVersion (the operator requires it)",
                "set spec.template.spec.artifact.flinkVersion, usually in the baseline",
            )
        )
    elif operator_flink_version(version) not in OPERATOR_FLINK_VERSIONS:
        problems.append(problem_at(eff, version_path, f"the Flink Kubernetes Operator 1.15 cannot run Flink {version}"))
    replicas = int(m.conf.get(JM_REPLICAS_KEY, "1"))
    if replicas > 1 and not m.ha.enabled:
        problems.append(
            problem_at(
                eff,
                (*FLINK_CONF, JM_REPLICAS_KEY),
                f"{replicas} JobManagers need high availability: the operator starts standby JobManagers "
                "only with HA enabled",
                f"set {HA_KEY}: kubernetes in flinkConfiguration, or 1 JobManager",
            )
        )
    if operator_conf(m).get(ROLLBACK_KEY) == "true" and not m.ha.enabled:
        problems.append(
            problem_at(
                eff,
                (*FLINK_OPERATOR, "flinkConfiguration", ROLLBACK_KEY),
                "rollbacks need high availability",
                f"set {HA_KEY}: kubernetes in spec.template.spec.flinkConfiguration",
            )
        )
    for component in pods.COMPONENTS:
        if not m.resources[component].memory:
            problems.append(
                problem_at(
                    eff,
                    (*RESOURCES, component),
                    f"the operator needs the {component} memory",
                    f"set spec.template.spec.resources.{component}.memory",
                )
            )
    logging_template = (*TEMPLATE_SPEC, "logging", "log4j2ConfigurationTemplate")
    if m.logging_template:
        problems.append(
            problem_at(
                eff,
                logging_template,
                "a VVP logging template (Twig) cannot configure the operator's pods",
                "set the levels in spec.template.spec.logging.log4jLoggers, or write the whole configuration "
                "in platform.flinkOperator.logConfiguration",
            )
        )
    image(eff, m.operator.image, (*FLINK_OPERATOR, "image"), problems, flink_version=version or None)
    return problems


def check_keys(eff: Effective) -> list[Problem]:
    """Configuration keys the operator forbids or sets itself; operator keys set twice."""
    problems: list[Problem] = []
    m = model.of(eff)
    conf = m.conf
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
    operator_keys = operator_conf(m)
    for key in operator_keys:
        if key in conf:
            problems.append(
                problem_at(
                    eff,
                    (*FLINK_OPERATOR, "flinkConfiguration", key),
                    f"also set in spec.template.spec.flinkConfiguration (at {where(eff, (*FLINK_CONF, key))})",
                    "keep operator keys in platform.flinkOperator.flinkConfiguration only",
                )
            )
    return problems


def check_job(eff: Effective) -> list[Problem]:
    """The operator's rules for the job of one deployment."""
    problems: list[Problem] = []
    m = model.of(eff)
    conf = m.conf
    mode = upgrade_mode(m)
    strategy = RESTORE_STRATEGY
    described = (
        f"upgradeStrategy {m.upgrade_strategy} with restoreStrategy "
        f"{m.restore_strategy} is the operator's upgradeMode {mode}"
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
    nonce_path = (*FLINK_OPERATOR, "savepointTriggerNonce")
    if "savepointTriggerNonce" in job_settings(m) and not has_savepoint_dir:
        problems.append(problem_at(eff, nonce_path, "a manual savepoint needs a savepoint directory", savepoint_hint))
    if PERIODIC_SAVEPOINT_KEY in operator_conf(m) and not has_savepoint_dir:
        problems.append(
            problem_at(
                eff,
                (*FLINK_OPERATOR, "flinkConfiguration", PERIODIC_SAVEPOINT_KEY),
                "periodic savepoints need a savepoint directory",
                savepoint_hint,
            )
        )
    if m.operator.savepoint_redeploy_nonce is not None and not m.operator.initial_savepoint_path:
        problems.append(
            problem_at(
                eff,
                (*FLINK_OPERATOR, "savepointRedeployNonce"),
                "a savepoint redeploy needs the savepoint to start from",
                "set platform.flinkOperator.initialSavepointPath next to it",
            )
        )
    per_job = job_settings(m)
    for key in (*NONCES, "initialSavepointPath"):
        path = (*FLINK_OPERATOR, key)
        origin = eff.origin(path)
        if key in per_job and origin is not None and not origin.layer.startswith(JOB_LAYERS[1:]):
            problems.append(
                problem_at(
                    eff,
                    path,
                    f"{key} belongs to one deployment, not to the {origin.layer.split(' ')[0]} layer",
                    "set it in the deployment's file (or with --set)",
                )
            )
    problems.extend(_vvp_nonce_problems(eff))
    problems.extend(vvp_only_problems(eff))
    artifact = m.artifact
    problems.extend(model_artifact_problems(m))
    problems.extend(artifact_problems(eff, session=m.session))
    if (artifact.kind or "JAR") == "JAR" and not _SCHEME.match(artifact.jar_uri or ""):
        problems.append(
            problem_at(
                eff,
                (*ARTIFACT, "jarUri"),
                "the operator needs a jar URI with a scheme",
                "e.g. local:///opt/flink/usrlib/job.jar or s3://bucket/job.jar",
            )
        )
    return problems


def _vvp_nonce_problems(eff: Effective) -> list[Problem]:
    """A VVP 3 operator nonce stands for this target's equivalent (``VVP_NONCES``): it belongs to
    one deployment, and it must not say something else than the equivalent set next to it."""
    m = model.of(eff)
    found: list[Problem] = []
    own_settings = {
        "restartNonce": m.operator.restart_nonce,
        "savepointTriggerNonce": m.operator.savepoint_trigger_nonce,
    }
    for vvp_key, own in VVP_NONCES.items():
        value = m.vvp.operator.get(vvp_key)
        if value is None:
            continue
        path = (*VVP_OPERATOR, vvp_key)
        origin = eff.origin(path)
        if own_settings[own] is not None and own_settings[own] != value:
            found.append(
                problem_at(
                    eff,
                    path,
                    f"{vvp_key} {value} is this target's {own}, which is set to {own_settings[own]} "
                    f"at {where(eff, (*FLINK_OPERATOR, own))}",
                    "keep one of them",
                )
            )
        elif origin is not None and not origin.layer.startswith(JOB_LAYERS[1:]):
            found.append(
                problem_at(
                    eff,
                    path,
                    f"{vvp_key} belongs to one deployment, not to the {origin.layer.split(' ')[0]} layer",
                    "set it in the deployment's file (or with --set)",
                )
            )
    return found
