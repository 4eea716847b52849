"""Ververica Platform resources rendered from effective configurations.

Per deployment: a VVP ``Deployment`` (target ``vvp``, a REST resource) or a ``VvpDeployment``
custom resource (target ``vvp-operator``). Per namespace, for both targets: the
``DeploymentTarget``(s) the deployments reference, the namespace's ``DeploymentDefaults``, one
"deployment template" per reference profile in DeploymentDefaults form, and, in session mode, the
``SessionCluster``.

Which operator: ``VvpDeployment`` follows the contract of the Ververica Platform 3 Kubernetes
operator (seed 004; targets.md §3.1): ``spec.deployment.metadata``, ``syncingMode``, ``initFields``
(PATCH only), the nonces, the ``ververica.platform/owner`` label and the ``apikeySecretName``
annotation. A VVP 3 deployment names its engine with ``artifact.engineVersionName`` instead of the
VVP 2 fields ``flinkVersion`` and ``flinkImage*``; the operator renderer maps the deployment's Flink
version through the approved engine catalog ``platform.vvp.operator.engineVersions``. Every other
field of the embedded deployment is the same as in the REST Deployment.

Session mode (``spec.sessionClusterName``): cluster-level settings (resources, TaskManagers,
logging, pod templates, images and cluster-level Flink options) belong to the SessionCluster, so a
session-mode deployment carries only job-level settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from generator.config import secrets
from generator.config.layers import FLINK_CONF
from generator.config.merge import nearest_origin
from generator.config.resolve import ARTIFACT, Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import InputError, Problem
from generator.flink import options
from generator.render import pods
from generator.render.context import Doc, NamespaceContext
from generator.render.engine import render_template

OWNER_LABEL = "ververica.platform/owner"
APIKEY_ANNOTATION = "apikeySecretName"
SSL_ANNOTATION = "flink.security.ssl.enabled"
IMAGE_FIELDS = ("flinkImageRegistry", "flinkImageRepository", "flinkImageTag")
OPERATOR = ("platform", "vvp", "operator")
SESSION = ("platform", "vvp", "sessionCluster")
DEFAULT_SYNCING_MODE = "PATCH"
DEFAULT_INIT_FIELDS = ("resources", "logging")
DEFAULT_INITIAL_STATE = "CANCELLED"
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


def _problem(eff: Effective, path: Path_, message: str, hint: str = "") -> Problem:
    origin = nearest_origin(eff.provenance, path)
    if origin is None:
        return Problem("<configuration>", 1, 1, dotted(path), message, hint)
    return Problem(origin.file, origin.line, origin.col, dotted(path), message, hint)


def _set_explicitly(eff: Effective, path: Path_) -> bool:
    """Whether the deployment's own file (or --set) set ``path`` or something below it."""
    n = len(path)
    chains = [chain for key, chain in eff.provenance.items() if key[:n] == path and chain]
    return any(chain[-1].layer.startswith(_EXPLICIT_LAYERS) for chain in chains)


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise InputError(problems)


# -- checks every VVP target makes -----------------------------------------------------------------
def invariant_problems(eff: Effective) -> list[Problem]:
    """Rules of the platform itself: Flink's Kubernetes HA (not VVP's deprecated one), pinned images."""
    found: list[Problem] = []
    ha = eff.flink_conf.get("high-availability.type", "").strip().lower()
    if ha == "vvp-kubernetes":
        found.append(
            _problem(
                eff,
                (*FLINK_CONF, "high-availability.type"),
                "'vvp-kubernetes' is VVP's deprecated high-availability service (removal announced for VVP 2.12)",
                "use Flink's Kubernetes HA: high-availability.type: kubernetes with high-availability.storageDir",
            )
        )
    tag = str(eff.get((*ARTIFACT, "flinkImageTag"), ""))
    if tag.lower() == "latest":
        found.append(
            _problem(
                eff,
                (*ARTIFACT, "flinkImageTag"),
                "the image tag 'latest' is not pinned",
                "name the exact image tag, e.g. 1.20.0-stream1-scala_2.12-java11",
            )
        )
    return found


def _session_problems(eff: Effective) -> list[Problem]:
    """In session mode the deployment's own file must not size or configure the cluster."""
    if not is_session(eff):
        return []
    found: list[Problem] = []
    template: Path_ = ("spec", "template", "spec")
    for field in CLUSTER_FIELDS:
        if _set_explicitly(eff, (*template, field)):
            found.append(
                _problem(
                    eff,
                    (*template, field),
                    f"{field} configures the session cluster, not a session-mode deployment",
                    "set it for the namespace (the SessionCluster) or run this deployment in application mode",
                )
            )
    for field in IMAGE_FIELDS:
        if _set_explicitly(eff, (*ARTIFACT, field)):
            found.append(
                _problem(
                    eff,
                    (*ARTIFACT, field),
                    "the session cluster's image runs every session-mode job",
                    "set the image in the namespace defaults",
                )
            )
    for key in eff.flink_conf:
        if is_cluster_option(key) and _set_explicitly(eff, (*FLINK_CONF, key)):
            found.append(
                _problem(
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


# -- target vvp: the REST Deployment ---------------------------------------------------------------
def deployment(eff: Effective) -> dict[str, Any]:
    return render_template("vvp/Deployment.yaml.j2", metadata=deployment_metadata(eff), spec=deployment_spec(eff))


def deployment_docs(eff: Effective) -> list[Doc]:
    _raise([*invariant_problems(eff), *_session_problems(eff)])
    return [Doc(deployment(eff))]


# -- target vvp-operator: the VvpDeployment custom resource ----------------------------------------
def _operator(eff: Effective, key: str, default: Any = None) -> Any:
    value = eff.get((*OPERATOR, key))
    return default if value is None else value


def _operator_problems(eff: Effective) -> list[Problem]:
    found: list[Problem] = []
    for key, what in (("instanceId", "the operator's instanceId"), ("apiTokenSecret", "the API-token Secret")):
        if not _operator(eff, key):
            found.append(
                _problem(
                    eff,
                    (*OPERATOR, key),
                    f"target vvp-operator needs platform.vvp.operator.{key} ({what})",
                    "set it in the namespace defaults",
                )
            )
    version = eff.flink_version
    engines: dict[str, str] = _operator(eff, "engineVersions", {})
    engine = engines.get(version)
    if engine is None:
        found.append(
            _problem(
                eff,
                (*ARTIFACT, "flinkVersion"),
                f"no approved engine version for Flink {version} in platform.vvp.operator.engineVersions",
                f'add "{version}": vera-<x.y>-flink-{version} to the catalog'
                + (f" (it has {', '.join(sorted(engines))})" if engines else ""),
            )
        )
    elif not engine.endswith(f"-flink-{version}"):
        found.append(
            _problem(
                eff,
                (*OPERATOR, "engineVersions", version),
                f"engine version '{engine}' does not run Flink {version}",
                f'map "{version}" to an engine named vera-<x.y>-flink-{version}',
            )
        )
    for nonce in ("savepointNonce", "restartNonce"):
        path = (*OPERATOR, nonce)
        if eff.get(path) is not None and not _set_explicitly(eff, path):
            found.append(
                _problem(
                    eff,
                    path,
                    f"{nonce} triggers an operation on one deployment; a shared layer would trigger it on all",
                    "set it in the deployment's own file",
                )
            )
    return found


def vvp_deployment(eff: Effective) -> dict[str, Any]:
    """The VvpDeployment custom resource (VVP 3 operator, seed 004) for one deployment."""
    spec = deployment_spec(eff)
    if not _set_explicitly(eff, ("spec", "state")):
        spec["state"] = _operator(eff, "initialState", DEFAULT_INITIAL_STATE)
    artifact = spec["template"]["spec"]["artifact"]
    for key in ("flinkVersion", *IMAGE_FIELDS):
        artifact.pop(key, None)
    artifact["engineVersionName"] = _operator(eff, "engineVersions", {})[eff.flink_version]
    mode = _operator(eff, "syncingMode", DEFAULT_SYNCING_MODE)
    init_fields: dict[str, Any] = {}
    if mode == "PATCH":
        template_spec = spec["template"]["spec"]
        for key in _operator(eff, "initFields", list(DEFAULT_INIT_FIELDS)):
            if key in template_spec:
                init_fields[key] = template_spec.pop(key)
    cr_spec: dict[str, Any] = {
        "syncingMode": mode,
        "deployment": {"metadata": deployment_metadata(eff), "spec": spec},
    }
    if init_fields:
        cr_spec["initFields"] = {"spec": {"template": {"spec": init_fields}}}
    for nonce in ("savepointNonce", "restartNonce"):
        if _operator(eff, nonce) is not None:
            cr_spec[nonce] = _operator(eff, nonce)
    labels = {
        OWNER_LABEL: str(_operator(eff, "instanceId")),
        "app.kubernetes.io/name": "flink",
        "app.kubernetes.io/instance": eff.deployment,
        "app.kubernetes.io/managed-by": "gen",
    }
    metadata = {
        "name": eff.deployment,
        "namespace": eff.kubernetes_namespace,
        "labels": labels,
        "annotations": {APIKEY_ANNOTATION: str(_operator(eff, "apiTokenSecret"))},
    }
    return render_template("vvp/VvpDeployment.yaml.j2", metadata=metadata, spec=cr_spec)


def operator_docs(eff: Effective) -> list[Doc]:
    _raise([*invariant_problems(eff), *_session_problems(eff), *_operator_problems(eff)])
    return [Doc(vvp_deployment(eff))]


# -- per namespace ---------------------------------------------------------------------------------
def _rest_metadata(ctx: NamespaceContext, name: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": ctx.namespace}
    labels = ctx.effective.get(("metadata", "labels"))
    if labels:
        metadata["labels"] = dict(labels)
    return metadata


def _deployment_targets(ctx: NamespaceContext, problems: list[Problem]) -> list[dict[str, Any]]:
    """One DeploymentTarget per name any deployment (or the namespace, or its session cluster) uses."""
    ns = ctx.effective
    wanted: list[tuple[str, str, Effective]] = []
    if ns.get(("spec", "deploymentTargetName")):
        wanted.append((str(ns.get(("spec", "deploymentTargetName"))), ns.kubernetes_namespace, ns))
    if _session_names(ctx):
        wanted.append((_session_target(ctx), ns.kubernetes_namespace, ns))
    for eff in ctx.deployments:
        if eff.get(("spec", "deploymentTargetName")):
            wanted.append((str(eff.get(("spec", "deploymentTargetName"))), eff.kubernetes_namespace, eff))
    chosen: dict[str, str] = {}
    for name, k8s_namespace, eff in wanted:
        if chosen.setdefault(name, k8s_namespace) != k8s_namespace:
            problems.append(
                _problem(
                    eff,
                    ("platform", "kubernetesNamespace"),
                    f"deployment target '{name}' runs in Kubernetes namespace '{chosen[name]}' elsewhere, "
                    f"here in '{k8s_namespace}' (a target has one namespace)",
                    "use another deploymentTargetName for another Kubernetes namespace",
                )
            )
    return [
        render_template(
            "vvp/DeploymentTarget.yaml.j2",
            metadata=_rest_metadata(ctx, name),
            spec={"kubernetes": {"namespace": k8s_namespace}},
        )
        for name, k8s_namespace in sorted(chosen.items())
    ]


def _session_names(ctx: NamespaceContext) -> list[str]:
    names = {str(e.get(("spec", "sessionClusterName"))) for e in (ctx.effective, *ctx.deployments) if is_session(e)}
    return sorted(names)


def _session_target(ctx: NamespaceContext) -> str:
    return str(ctx.effective.get((*SESSION, "deploymentTargetName")) or ctx.namespace)


def _session_clusters(ctx: NamespaceContext, problems: list[Problem]) -> list[dict[str, Any]]:
    names = _session_names(ctx)
    if not names:
        return []
    eff = ctx.effective
    profile = eff.get((*SESSION, "profile"))
    if profile and ctx.resolver is not None:
        eff = ctx.resolver.namespace(ctx.env, ctx.namespace, str(profile))
        problems.extend(_namespace_problems(eff))
    source = eff.data.get("spec", {}).get("template", {}).get("spec", {})
    artifact = source.get("artifact", {})
    spec: dict[str, Any] = {
        "state": str(eff.get((*SESSION, "state")) or "RUNNING"),
        "deploymentTargetName": _session_target(ctx),
    }
    for key in ("flinkVersion", *IMAGE_FIELDS):
        if key in artifact:
            spec[key] = artifact[key]
    for key in ("numberOfTaskManagers", "resources", "logging"):
        if key in source:
            spec[key] = source[key]
    spec["flinkConfiguration"] = flink_configuration(eff, cluster=True)
    spec["kubernetes"] = pod_templates(replace(eff, deployment=""))
    for job in ctx.deployments:
        if is_session(job) and job.flink_version != eff.flink_version:
            problems.append(
                _problem(
                    job,
                    (*ARTIFACT, "flinkVersion"),
                    f"Flink {job.flink_version} cannot run on session cluster "
                    f"'{job.get(('spec', 'sessionClusterName'))}' (Flink {eff.flink_version})",
                    "use the session cluster's Flink version or application mode",
                )
            )
    docs = []
    for name in names:
        metadata = _rest_metadata(ctx, name)
        ssl = eff.get(("spec", "template", "metadata", "annotations", SSL_ANNOTATION))
        if ssl is not None:
            metadata["annotations"] = {SSL_ANNOTATION: str(ssl)}
        docs.append(render_template("vvp/SessionCluster.yaml.j2", metadata=metadata, spec=spec))
    return docs


def _namespace_problems(eff: Effective) -> list[Problem]:
    """A namespace's (or a profile template's) configuration is rendered without a deployment:
    the secret and platform rules apply to it directly."""
    return [*secrets.problems(eff), *invariant_problems(eff)]


def deployment_defaults(eff: Effective, namespace: str, name: str = "") -> dict[str, Any]:
    metadata: dict[str, Any] = {"namespace": namespace}
    if name:
        metadata["name"] = name
    return render_template(
        "vvp/DeploymentDefaults.yaml.j2", metadata=metadata, spec=deployment_spec(replace(eff, deployment=""))
    )


def _profile_templates(ctx: NamespaceContext, problems: list[Problem]) -> Iterable[Doc]:
    """A "deployment template" per reference profile: the namespace defaults with that profile."""
    if ctx.resolver is None:
        return
    for profile in ctx.resolver.repo.names("profile"):
        try:
            eff = ctx.resolver.namespace(ctx.env, ctx.namespace, profile)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(_namespace_problems(eff))
        yield Doc(
            deployment_defaults(eff, ctx.namespace, profile),
            file=f"vvp/deployment-templates/deploymentdefaults-{profile}.yaml",
        )


def namespace_docs(ctx: NamespaceContext) -> list[Doc]:
    problems = _namespace_problems(ctx.effective)
    docs = [Doc(d) for d in _deployment_targets(ctx, problems)]
    docs.extend(Doc(d) for d in _session_clusters(ctx, problems))
    docs.append(Doc(deployment_defaults(ctx.effective, ctx.namespace), file="vvp/deploymentdefaults.yaml"))
    docs.extend(_profile_templates(ctx, problems))
    _raise(problems)
    return docs
