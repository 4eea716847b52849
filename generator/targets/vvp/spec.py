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

from generator import model
from generator.config.resolve import Effective
from generator.errors import InputError, Problem
from generator.flink import options
from generator.model import images, keys, session
from generator.model.artifacts import artifact_problems
from generator.model.session import IMAGE_FIELDS, is_cluster_option
from generator.render import pods
from generator.targets.vvp import versions
from generator.targets.vvp.located import problem as problem

#: Flink options the VVP targets do not pass on. The limit factors: VVP documents container limits
#: from pod templates only, so gen writes the limits there (:mod:`generator.render.pods`).
#: ``kubernetes.jobmanager.replicas``: the option of Flink's native Kubernetes mode (the operator's
#: ``jobManager.replicas``); no public VVP source documents that VVP acts on it, VVP runs one
#: JobManager and recovers it with Kubernetes HA
#: (https://docs.ververica.com/vvp/user-guide/application-operations/deployments/kubernetes-high-availability-service).
NOT_PASSED_ON = frozenset({*pods.LIMIT_FACTOR_KEYS, model.JOBMANAGER_REPLICAS})

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


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise InputError(problems)


# -- checks every VVP target makes -----------------------------------------------------------------
def invariant_problems(eff: Effective) -> list[Problem]:
    """Rules of the platform itself: Flink's Kubernetes HA (not VVP's deprecated one), pinned images."""
    m = model.of(eff)
    found: list[Problem] = []
    found.extend(versions.ha_problems(eff))
    found.extend(image_problems(eff))
    found.extend(artifact_problems(m))
    return found


def image_problems(eff: Effective) -> list[Problem]:
    """The artifact's image: an official Flink repository's tag names the deployment's Flink
    release; an application image has its own tag, written next to its repository; VVP has no
    digest field, so a moving tag is refused (in every environment for ``latest``, in production
    for the others)."""
    m = model.of(eff)
    artifact = m.artifact
    tag, repository = artifact.flink_image_tag, artifact.flink_image_repository
    tag_path, repo_path = (*keys.ARTIFACT, "flinkImageTag"), (*keys.ARTIFACT, "flinkImageRepository")
    if not tag:
        if repository and not images.is_official_flink(repository):
            return [
                problem(
                    eff,
                    repo_path,
                    f"application image '{repository}' has no tag",
                    "set spec.template.spec.artifact.flinkImageTag to the application's release",
                )
            ]
        return []
    if tag.lower() == "latest":
        return [
            problem(
                eff,
                tag_path,
                "the image tag 'latest' is not pinned",
                "name the exact image tag, e.g. 1.20.0-stream1-scala_2.12-java11",
            )
        ]
    if repository is None or images.is_official_flink(repository):
        release = images.flink_release(tag)
        if release is not None and release[0] != m.flink_version:
            # blamed on the later of the two lines: the one that broke the agreement
            version_path = (*keys.ARTIFACT, "flinkVersion")
            tag_origin, version_origin = eff.origin(tag_path), eff.origin(version_path)
            later = (
                version_origin is not None
                and tag_origin is not None
                and images.layer_rank(version_origin.layer) > images.layer_rank(tag_origin.layer)
            )
            at = f" (at {tag_origin.where()})" if later and tag_origin else ""
            return [
                problem(
                    eff,
                    version_path if later else tag_path,
                    f"tag '{tag}'{at} is Flink {release[0]}, but the deployment runs flinkVersion {m.flink_version}",
                    "keep the Flink image and spec.template.spec.artifact.flinkVersion on the same release",
                )
            ]
        return []
    repo_origin, tag_origin = eff.origin(repo_path), eff.origin(tag_path)
    if repo_origin and tag_origin and images.layer_rank(tag_origin.layer) < images.layer_rank(repo_origin.layer):
        return [
            problem(
                eff,
                repo_path,
                f"application image '{repository}' has no tag of its own: tag '{tag}' (at {tag_origin.where()}) "
                "was written for another image",
                "set spec.template.spec.artifact.flinkImageTag (the application's release) next to the repository",
            )
        ]
    if images.is_moving_tag(tag) and m.tolerance == "production":
        return [
            problem(
                eff,
                tag_path,
                f"tag '{tag}' moves with every push: a restart in production can pull different code "
                "(VVP's artifact has no digest field to pin it)",
                "name the application's release",
            )
        ]
    return []


def session_problems(eff: Effective) -> list[Problem]:
    """In session mode the deployment's own file must not size or configure the cluster (the rule
    every target applies, :mod:`generator.model.session`)."""
    return session.session_problems(model.of(eff))


#: The Flink operator's per-job settings (platform.flinkOperator), as the VVP targets see them.
OPERATOR_JOB_SETTINGS = (
    "restartNonce",
    "savepointTriggerNonce",
    "checkpointTriggerNonce",
    "savepointRedeployNonce",
    "autoscalerResetNonce",
    "initialSavepointPath",
)
INITIAL_SAVEPOINT_REASON = (
    "Ververica Platform starts a deployment from a given savepoint through a Savepoint resource (POST "
    "/api/v1/namespaces/{namespace}/savepoints with spec.savepointLocation) that names the deployment's id "
    "(metadata.deploymentId), which the platform assigns when it creates the Deployment: no Deployment field "
    "can say it, so gen cannot render it"
)
_NO_EQUIVALENT = {
    "restartNonce": "the REST Deployment has no restart nonce (VVP restarts a job when its state or spec changes)",
    "savepointTriggerNonce": "the REST Deployment has no savepoint nonce (VVP takes a savepoint when one is "
    "POSTed to /api/v1/namespaces/{namespace}/savepoints)",
    "checkpointTriggerNonce": "Ververica Platform has no manual checkpoint trigger",
    "savepointRedeployNonce": "Ververica Platform has no redeploy-from-savepoint nonce",
    "autoscalerResetNonce": "Ververica Platform does not run the Flink operator's autoscaler",
    "initialSavepointPath": INITIAL_SAVEPOINT_REASON,
}


def operator_job_settings(m: model.Deployment) -> dict[str, Any]:
    """The per-job settings of platform.flinkOperator this deployment sets."""
    return m.operator.job_settings


def cross_target_problems(eff: Effective, mapped: tuple[str, ...] = ()) -> list[Problem]:
    """An intent written for the Flink operator target is never dropped here: a per-job setting of
    platform.flinkOperator that this VVP target does not map (``mapped``) is refused where it was
    written, with the reason."""
    m = model.of(eff)
    found: list[Problem] = []
    for key in operator_job_settings(m):
        if key in mapped:
            continue
        found.append(
            problem(
                eff,
                (*keys.FLINK_OPERATOR, key),
                f"{key} has no equivalent on Ververica Platform: {_NO_EQUIVALENT[key]}",
                "remove it for this target (it is a setting of target flink-operator)",
            )
        )
    return found


# -- building blocks -------------------------------------------------------------------------------
def pod_templates(eff: Effective) -> dict[str, Any]:
    """JobManager and TaskManager pod templates; a namespace's templates carry no deployment labels."""
    out: dict[str, Any] = {}
    for component, key in (("jobmanager", "jobManagerPodTemplate"), ("taskmanager", "taskManagerPodTemplate")):
        template = pods.pod_template(eff, component, pods.VVP_PODS)
        if not model.of(eff).name:
            labels = template["metadata"]["labels"]
            template["metadata"]["labels"] = {k: v for k, v in labels.items() if v}
        out[key] = template
    return out


def flink_configuration(eff: Effective, *, cluster: bool | None = None) -> dict[str, str]:
    """The Flink configuration as the target version reads it; ``cluster`` keeps only cluster-level
    (True) or job-level (False) options, without the options VVP does not act on (``NOT_PASSED_ON``)."""
    m = model.of(eff)
    version = options.parse_version(m.flink_version)
    return {
        options.emit_key(key, version): value
        for key, value in sorted(m.conf.items())
        if (cluster is None or is_cluster_option(key) == cluster) and key not in NOT_PASSED_ON
    }


def vvp_resources(resources: Any) -> dict[str, Any]:
    """``resources`` as VVP's ResourceSpec has them (cpu, memory): ephemeral storage has no field
    there, gen writes it as container resources into the pod templates (:mod:`generator.render.pods`)."""
    return {
        component: {k: v for k, v in spec.items() if k != "ephemeralStorage"}
        for component, spec in dict(resources).items()
    }


def deployment_metadata(eff: Effective) -> dict[str, Any]:
    m = model.of(eff)
    out: dict[str, Any] = {"name": m.name, "namespace": m.namespace}
    for key, value in (("displayName", m.display_name), ("labels", m.labels), ("annotations", m.annotations)):
        if value:
            out[key] = value
    return out


def deployment_spec(eff: Effective) -> dict[str, Any]:
    """A VVP DeploymentSpec from an effective configuration (a deployment's or a namespace's)."""
    m = model.of(eff)
    out: dict[str, Any] = {k: m.spec[k] for k in _SPEC_FIELDS if k in m.spec}
    session = m.session
    target: dict[str, Any] = {}
    artifact = {k: v for k, v in m.artifact.raw.items() if not (session and k in IMAGE_FIELDS)}
    if artifact:
        target["artifact"] = artifact
    if m.parallelism is not None:
        target["parallelism"] = m.parallelism
    if not session:
        for key in ("numberOfTaskManagers", "resources", "logging"):
            if key in m.template_spec:
                target[key] = m.template_spec[key]
        if "resources" in target:
            target["resources"] = vvp_resources(target["resources"])
    target["flinkConfiguration"] = flink_configuration(eff, cluster=False if session else None)
    if not session:
        target["kubernetes"] = pod_templates(eff)
    out["template"] = {"spec": target}
    if m.template_annotations:
        out["template"]["metadata"] = {"annotations": dict(m.template_annotations)}
    return out
