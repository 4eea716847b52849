"""The DeploymentSpec both Ververica Platform targets build, and the checks every VVP target makes.

A VVP ``DeploymentSpec`` is built from an effective configuration (a deployment's or a
namespace's): the REST Deployment and DeploymentDefaults (:mod:`generator.targets.vvp.resources`),
the global defaults of the platform chart (:mod:`generator.targets.vvp.helm`) and the deployment
embedded in a ``VvpDeployment`` (:mod:`generator.targets.vvp_operator.vvp_deployment`) all carry it.

Session mode (``spec.sessionClusterName``): cluster-level settings (resources, TaskManagers,
logging, pod templates, images and cluster-level Flink options) belong to the SessionCluster, so a
session-mode deployment carries only job-level settings.
"""

from __future__ import annotations

from typing import Any

from generator.config.layers import FLINK_CONF
from generator.config.merge import nearest_origin
from generator.config.resolve import ARTIFACT, Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import InputError, Problem
from generator.flink import options
from generator.render import pods

IMAGE_FIELDS = ("flinkImageRegistry", "flinkImageRepository", "flinkImageTag")
# Fields of spec.template.spec that configure the Flink cluster, not the job.
CLUSTER_FIELDS = ("numberOfTaskManagers", "resources", "logging", "kubernetes")
# Flink options read when a cluster starts: in session mode they belong to the SessionCluster.
CLUSTER_OPTION_PREFIXES = (
    "high-availability",
    "kubernetes.",
    "jobmanager.",
    "taskmanager.",
    "metrics.",
    "rest.",
    "blob.",
    "security.",
    "akka.",
    "pekko.",
    "env.",
    "containerized.",
    "cluster.",
    "io.tmp.dirs",
    "queryable-state.",
    "web.",
    "resourcemanager.",
    "slot.",
    "heartbeat.",
    "s3.",
    "fs.",
)
_SPEC_FIELDS = (
    "state",
    "deploymentTargetName",
    "sessionClusterName",
    "upgradeStrategy",
    "restoreStrategy",
    "maxSavepointCreationAttempts",
    "maxJobCreationAttempts",
    "jobFailureExpirationTime",
)
_EXPLICIT_LAYERS = ("deployment ", "command line")


def is_cluster_option(key: str) -> bool:
    return key.startswith(CLUSTER_OPTION_PREFIXES)


def is_session(eff: Effective) -> bool:
    return bool(eff.get(("spec", "sessionClusterName")))


def problem(eff: Effective, path: Path_, message: str, hint: str = "") -> Problem:
    origin = nearest_origin(eff.provenance, path)
    if origin is None:
        return Problem("<configuration>", 1, 1, dotted(path), message, hint)
    return Problem(origin.file, origin.line, origin.col, dotted(path), message, hint)


def set_explicitly(eff: Effective, path: Path_) -> bool:
    """Whether the deployment's own file (or --set) set ``path`` or something below it."""
    n = len(path)
    chains = [chain for key, chain in eff.provenance.items() if key[:n] == path and chain]
    return any(chain[-1].layer.startswith(_EXPLICIT_LAYERS) for chain in chains)


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise InputError(problems)


# -- checks every VVP target makes -----------------------------------------------------------------
def invariant_problems(eff: Effective) -> list[Problem]:
    """Rules of the platform itself: Flink's Kubernetes HA (not VVP's deprecated one), pinned images."""
    found: list[Problem] = []
    ha = eff.flink_conf.get("high-availability.type", "").strip().lower()
    if ha == "vvp-kubernetes":
        found.append(
            problem(
                eff,
                (*FLINK_CONF, "high-availability.type"),
                "'vvp-kubernetes' is VVP's deprecated high-availability service (removal announced for VVP 2.12)",
                "use Flink's Kubernetes HA: high-availability.type: kubernetes with high-availability.storageDir",
            )
        )
    tag = str(eff.get((*ARTIFACT, "flinkImageTag"), ""))
    if tag.lower() == "latest":
        found.append(
            problem(
                eff,
                (*ARTIFACT, "flinkImageTag"),
                "the image tag 'latest' is not pinned",
                "name the exact image tag, e.g. 1.20.0-stream1-scala_2.12-java11",
            )
        )
    return found


def session_problems(eff: Effective) -> list[Problem]:
    """In session mode the deployment's own file must not size or configure the cluster."""
    if not is_session(eff):
        return []
    found: list[Problem] = []
    template: Path_ = ("spec", "template", "spec")
    for field in CLUSTER_FIELDS:
        if set_explicitly(eff, (*template, field)):
            found.append(
                problem(
                    eff,
                    (*template, field),
                    f"{field} configures the session cluster, not a session-mode deployment",
                    "set it for the namespace (the SessionCluster) or run this deployment in application mode",
                )
            )
    for field in IMAGE_FIELDS:
        if set_explicitly(eff, (*ARTIFACT, field)):
            found.append(
                problem(
                    eff,
                    (*ARTIFACT, field),
                    "the session cluster's image runs every session-mode job",
                    "set the image in the namespace defaults",
                )
            )
    for key in eff.flink_conf:
        if is_cluster_option(key) and set_explicitly(eff, (*FLINK_CONF, key)):
            found.append(
                problem(
                    eff,
                    (*FLINK_CONF, key),
                    "a cluster-level Flink option has no effect on one job of a session cluster",
                    "set it in the namespace defaults, where it configures the SessionCluster",
                )
            )
    return found


# -- building blocks -------------------------------------------------------------------------------
def pod_templates(eff: Effective) -> dict[str, Any]:
    """JobManager and TaskManager pod templates; a namespace's templates carry no deployment labels."""
    out: dict[str, Any] = {}
    for component, key in (("jobmanager", "jobManagerPodTemplate"), ("taskmanager", "taskManagerPodTemplate")):
        template = pods.pod_template(eff, component, pods.VVP_PODS)
        if not eff.deployment:
            labels = template["metadata"]["labels"]
            template["metadata"]["labels"] = {k: v for k, v in labels.items() if v}
        out[key] = template
    return out


def flink_configuration(eff: Effective, *, cluster: bool | None = None) -> dict[str, str]:
    """The Flink configuration as the target version reads it; ``cluster`` keeps only cluster-level
    (True) or job-level (False) options."""
    version = options.parse_version(eff.flink_version)
    return {
        options.emit_key(key, version): value
        for key, value in sorted(eff.flink_conf.items())
        if cluster is None or is_cluster_option(key) == cluster
    }


def deployment_metadata(eff: Effective) -> dict[str, Any]:
    metadata = eff.data.get("metadata", {})
    out: dict[str, Any] = {"name": eff.deployment, "namespace": eff.namespace}
    for key in ("displayName", "labels", "annotations"):
        if metadata.get(key):
            out[key] = metadata[key]
    return out


def deployment_spec(eff: Effective) -> dict[str, Any]:
    """A VVP DeploymentSpec from an effective configuration (a deployment's or a namespace's)."""
    spec = eff.data.get("spec", {})
    out: dict[str, Any] = {k: spec[k] for k in _SPEC_FIELDS if k in spec}
    template = spec.get("template", {})
    source: dict[str, Any] = template.get("spec", {})
    session = is_session(eff)
    target: dict[str, Any] = {}
    artifact = {k: v for k, v in source.get("artifact", {}).items() if not (session and k in IMAGE_FIELDS)}
    if artifact:
        target["artifact"] = artifact
    if "parallelism" in source:
        target["parallelism"] = source["parallelism"]
    if not session:
        for key in ("numberOfTaskManagers", "resources", "logging"):
            if key in source:
                target[key] = source[key]
    target["flinkConfiguration"] = flink_configuration(eff, cluster=False if session else None)
    if not session:
        target["kubernetes"] = pod_templates(eff)
    out["template"] = {"spec": target}
    annotations = template.get("metadata", {}).get("annotations")
    if annotations:
        out["template"]["metadata"] = {"annotations": dict(annotations)}
    return out
