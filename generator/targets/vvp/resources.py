"""Ververica Platform REST resources (target ``vvp``) rendered from effective configurations.

Per deployment: a VVP ``Deployment``. Per namespace, for both VVP targets: the
``DeploymentTarget``(s) the deployments reference, the namespace's ``DeploymentDefaults``, one
"deployment template" per reference profile in DeploymentDefaults form, and, in session mode, the
``SessionCluster``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import Any

from generator import model
from generator.config import secrets
from generator.config.resolve import Effective
from generator.errors import InputError, Problem
from generator.model import keys, session
from generator.model.session import IMAGE_FIELDS
from generator.render import shares
from generator.render.context import Doc, NamespaceContext
from generator.render.engine import render_template
from generator.targets.vvp.spec import (
    cross_target_problems,
    deployment_metadata,
    deployment_spec,
    flink_configuration,
    invariant_problems,
    pod_templates,
    problem,
    raise_problems,
    session_problems,
    vvp_resources,
)


# -- per deployment --------------------------------------------------------------------------------
def deployment(eff: Effective) -> dict[str, Any]:
    return render_template("vvp/Deployment.yaml.j2", metadata=deployment_metadata(eff), spec=deployment_spec(eff))


def python_problems(eff: Effective) -> list[Problem]:
    """VVP 2 runs JAR and SQLSCRIPT artifacts: its Deployment API (AppManager 2.4) has no Python
    fields and its Artifacts page documents JARs and SQL scripts only
    (https://docs.ververica.com/vvp/user-guide/application-operations/deployments/artifacts)."""
    if model.of(eff).artifact.kind != "PYTHON":
        return []
    return [
        problem(
            eff,
            (*keys.ARTIFACT, "kind"),
            "Ververica Platform 2 runs JAR and SQLSCRIPT artifacts only: its Deployment API documents no Python "
            "artifact",
            "run the Python job on VVP 3 (target vvp-operator) or on the flink-operator target",
        )
    ]


def deployment_docs(eff: Effective) -> list[Doc]:
    raise_problems(
        [
            *invariant_problems(eff),
            *session_problems(eff),
            *python_problems(eff),
            *cross_target_problems(eff),
            *_vvp_operator_nonces(eff),
        ]
    )
    return [Doc(deployment(eff))]


def _vvp_operator_nonces(eff: Effective) -> list[Problem]:
    """The VVP 3 operator's nonces are fields of its VvpDeployment: the REST resources have none."""
    m = model.of(eff)
    return [
        problem(
            eff,
            (*keys.VVP_OPERATOR, nonce),
            f"{nonce} is a field of the VVP 3 operator's VvpDeployment (target vvp-operator): the REST Deployment "
            "has no nonce",
            "trigger it through the REST API (a Savepoint POST, a state change), or render for vvp-operator",
        )
        for nonce in ("savepointNonce", "restartNonce")
        if m.vvp.operator.get(nonce) is not None
    ]


# -- per namespace ---------------------------------------------------------------------------------
def _rest_metadata(ctx: NamespaceContext, name: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": ctx.namespace}
    labels = model.of(ctx.effective).labels
    if labels:
        metadata["labels"] = dict(labels)
    return metadata


def _deployment_targets(ctx: NamespaceContext, problems: list[Problem]) -> list[dict[str, Any]]:
    """One DeploymentTarget per name any deployment (or the namespace, or its session cluster) uses."""
    ns = model.of(ctx.effective)
    wanted: list[tuple[str, str, Effective]] = []
    if ns.deployment_target:
        wanted.append((str(ns.deployment_target), ns.kubernetes_namespace, ctx.effective))
    if _session_names(ctx):
        wanted.append((_session_target(ctx), ns.kubernetes_namespace, ctx.effective))
    for eff in ctx.deployments:
        m = model.of(eff)
        if m.deployment_target:
            wanted.append((str(m.deployment_target), m.kubernetes_namespace, eff))
    chosen: dict[str, str] = {}
    for name, k8s_namespace, eff in wanted:
        if chosen.setdefault(name, k8s_namespace) != k8s_namespace:
            problems.append(
                problem(
                    eff,
                    keys.KUBERNETES_NAMESPACE,
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
    effs = [model.of(e) for e in (ctx.effective, *ctx.deployments)]
    return sorted({str(m.session_cluster) for m in effs if m.session})


def _session_target(ctx: NamespaceContext) -> str:
    return model.of(ctx.effective).vvp.session_cluster.deployment_target or ctx.namespace


def _session_clusters(ctx: NamespaceContext, problems: list[Problem]) -> list[dict[str, Any]]:
    names = _session_names(ctx)
    if not names:
        return []
    eff = ctx.effective
    profile = model.of(eff).vvp.session_cluster.profile
    if profile and ctx.resolver is not None:
        eff = ctx.resolver.namespace(ctx.env, ctx.namespace, profile)
        problems.extend(_namespace_problems(eff))
    cluster = model.of(eff)
    spec: dict[str, Any] = {
        "state": cluster.vvp.session_cluster.state,
        "deploymentTargetName": _session_target(ctx),
    }
    for key in ("flinkVersion", *IMAGE_FIELDS):
        if key in cluster.artifact.raw:
            spec[key] = cluster.artifact.raw[key]
    for key in ("numberOfTaskManagers", "resources", "logging"):
        if key in cluster.template_spec:
            spec[key] = cluster.template_spec[key]
    if "resources" in spec:
        spec["resources"] = vvp_resources(spec["resources"])
    spec["flinkConfiguration"] = flink_configuration(eff, cluster=True)
    spec["kubernetes"] = pod_templates(replace(eff, deployment=""))
    for job in map(model.of, ctx.deployments):
        if job.session and job.flink_version != cluster.flink_version:
            problems.append(
                problem(
                    job.effective,
                    (*keys.ARTIFACT, "flinkVersion"),
                    f"Flink {job.flink_version} cannot run on session cluster "
                    f"'{job.session_cluster}' (Flink {cluster.flink_version})",
                    "use the session cluster's Flink version or application mode",
                )
            )
    # no TLS annotation: VVP does not auto-provision TLS for session clusters ("SSL/TLS has to be configured
    # manually", https://docs.ververica.com/vvp/user-guide/application-operations/session-clusters); manual
    # security.ssl.* options of the namespace defaults reach the cluster through flinkConfiguration
    docs = []
    for name in names:
        problems.extend(session.capacity_problems(cluster, name, map(model.of, ctx.deployments)))
        docs.append(render_template("vvp/SessionCluster.yaml.j2", metadata=_rest_metadata(ctx, name), spec=spec))
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
    resolver = ctx.resolver
    if resolver is None:
        return

    def template(profile: str) -> Doc | None:  # of the namespace's configuration alone: kept for the next render
        try:
            eff = resolver.namespace(ctx.env, ctx.namespace, profile)
        except InputError as exc:
            problems.extend(exc.problems)
            return None
        problems.extend(_namespace_problems(eff))
        return Doc(
            deployment_defaults(eff, ctx.namespace, profile),
            file=f"vvp/deployment-templates/deploymentdefaults-{profile}.yaml",
        )

    for profile in resolver.repo.names("profile"):
        doc = shares.share(f"deployment template {profile}", "", partial(template, profile))
        if doc is not None:
            yield doc


def namespace_docs(ctx: NamespaceContext) -> list[Doc]:
    problems = _namespace_problems(ctx.effective)
    docs = [Doc(d) for d in _deployment_targets(ctx, problems)]
    docs.extend(Doc(d) for d in _session_clusters(ctx, problems))
    defaults = shares.share("deployment defaults", "", partial(deployment_defaults, ctx.effective, ctx.namespace))
    docs.append(Doc(defaults, file="vvp/deploymentdefaults.yaml"))
    docs.extend(_profile_templates(ctx, problems))
    raise_problems(problems)
    return docs
