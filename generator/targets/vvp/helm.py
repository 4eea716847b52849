"""Values of the Ververica Platform Helm chart (``ververica/ververica-platform``), one file per
environment: ``out/<env>/helm/ververica-platform-values.yaml``, written once for the namespaces of
every target of the platform (``vvp`` and ``vvp-operator`` share one installation).

- ``vvp.registry``: the environment's approved registry. The chart pulls the platform's own images
  from it too (``vvp-appmanager``, ``vvp-gateway``, ``vvp-ui``, ``vvp-artifact-fetcher``,
  ``vvp-result-fetcher-service``), not only the Flink images (chart 5.3.0 ``values.yaml``);
- the license (:mod:`.license`): a Secret read through ``licenseConfigPath``, a second values
  file, or Community Edition where the tolerance allows it;
- ``vvp.persistence``: ``jdbc`` with its datasource where the environment's tolerance is
  ``production`` (the platform metadata database is backed up: docs/readiness.md), ``local`` tolerated
  elsewhere; the datasource password is never written (it comes from the secret store);
- ``vvp.blobStorage``: Universal Blob Storage base URI and provider settings, no credentials;
- ``vvp.globalDeploymentDefaults``: a YAML *string*, as the chart requires: every value the
  baseline and environment layers give all namespaces (values a namespace sets or computes from
  its own settings stay in that namespace's DeploymentDefaults);
- ``rbac.additionalNamespaces``: every Kubernetes namespace that hosts Flink jobs of VVP.

Environment-wide settings live in the environment files; when namespaces disagree on one, the
problem names both files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from generator import model, targets
from generator.config import paths
from generator.config.merge import get_path, nearest_origin
from generator.config.resolve import Effective
from generator.config.yamlload import Path_, load_plain
from generator.errors import InputError, Problem
from generator.model import keys
from generator.output import dump_yaml
from generator.render.context import Doc, EnvContext
from generator.render.engine import render_template
from generator.targets.vvp import helm3, license, versions
from generator.targets.vvp.spec import deployment_spec, problem

FILE = "helm/ververica-platform-values.yaml"


def _namespaces(ctx: EnvContext, target: targets.Target) -> list[Effective] | None:
    """Namespace configurations of every namespace that runs jobs on ``target``'s platform in this
    environment, or None when another target's call writes the file: the namespaces of every target
    of one platform share its installation, and the first target registered for it writes the file."""
    if not ctx.namespaces:
        return None
    first = ctx.namespaces[0]
    effs = {c.namespace: c for c in ctx.namespaces}
    resolver = first.resolver
    if resolver is None:
        return [c.effective for c in ctx.namespaces]
    sharing = targets.sharing(target.platform)
    others = [n for n in resolver.repo.names("namespace") if n not in effs]
    more = [resolver.namespace(ctx.env, n) for n in others]
    more = [e for e in more if model.of(e).target in sharing]
    if more and target.name != sharing[0]:
        return None  # the first target of the platform covers these namespaces too
    return [c.effective for c in ctx.namespaces] + more


def _agreed(
    effs: Sequence[Effective], read: Callable[[model.Deployment], Any], path: Path_, problems: list[Problem]
) -> Any:
    """The one value every namespace has for an environment-wide setting (``read`` from its model),
    a disagreement blamed below ``path``, where the setting is written."""
    values = [(e, read(model.of(e))) for e in effs]
    first_eff, first = values[0]
    for eff, value in values[1:]:
        if value != first:
            at = paths.difference(first, value, path)
            where = nearest_origin(first_eff.provenance, at)
            problems.append(
                problem(
                    eff,
                    at,
                    f"namespaces {first_eff.namespace} and {eff.namespace} disagree on this environment-wide setting"
                    + (f" (the other value is set at {where.where()})" if where else ""),
                    "set it once, in the environment file",
                )
            )
    return first


def _templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _global_leaves(eff: Effective) -> dict[Path_, Any]:
    """Leaves of ``spec`` that come from the baseline and environment layers only, not computed
    from the namespace: what VVP's global defaults can say for every namespace."""
    leaves: dict[Path_, Any] = {}
    for path, chain in eff.provenance.items():
        if not path or path[0] != "spec" or not chain:
            continue
        if any(o.layer.startswith("namespace ") or _templated(o.value) for o in chain):
            continue
        try:
            leaves[path] = get_path(eff.data, path)
        except KeyError:
            continue  # deleted by a layer
    return leaves


def _nest(leaves: Mapping[Path_, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path, value in sorted(leaves.items(), key=lambda item: [str(p) for p in item[0]]):
        node = root
        for part in path[:-1]:
            node = node.setdefault(str(part), {})
        node[str(path[-1])] = value
    return root


def global_deployment_defaults(effs: Sequence[Effective]) -> dict[str, Any]:
    """The DeploymentDefaults spec every namespace of the environment shares."""
    common = _global_leaves(effs[0])
    for eff in effs[1:]:
        other = _global_leaves(eff)
        common = {p: v for p, v in common.items() if p in other and other[p] == v}
    data = {**effs[0].data, "spec": _nest(common).get("spec", {})}
    spec = deployment_spec(replace(effs[0], data=data, deployment=""))
    return {"spec": spec}


def values(
    ctx: EnvContext, effs: Sequence[Effective], default: tuple[int, int] = versions.DEFAULT, operator: bool = False
) -> dict[str, Any]:
    problems: list[Problem] = []
    version = _agreed(effs, lambda m: versions.of(m, default), versions.PATH, problems)
    if version >= (3, 0, 0) and not problems:
        instance = _agreed(
            effs, lambda m: m.vvp.operator.get("instanceId"), (*keys.VVP_OPERATOR, "instanceId"), problems
        )
        if problems:
            raise InputError(problems)
        return helm3.values(ctx, effs, global_deployment_defaults(effs)["spec"], operator, instance)
    helm: Mapping[str, Any] = _agreed(effs, lambda m: m.vvp.helm or None, keys.VVP_HELM, problems) or {}
    registry = _agreed(
        effs, lambda m: m.artifact.flink_image_registry, (*keys.ARTIFACT, "flinkImageRegistry"), problems
    )
    tolerance = _agreed(effs, lambda m: m.tolerance or None, keys.TOLERANCE, problems)
    persistence = dict(helm.get("persistence") or {"type": "local"})
    if persistence.get("type", "local") == "local" and tolerance == "production":
        problems.append(
            problem(
                effs[0],
                (*keys.VVP_HELM, "persistence", "type"),
                f"environment {ctx.env} has production tolerance: the platform metadata database must be a "
                "backed-up RDBMS, not SQLite on a volume (docs/readiness.md#disaster-recovery-and-business-continuity)",
                "set platform.vvp.helm.persistence.type: jdbc with its datasource url and username",
            )
        )
    if persistence.get("type") == "jdbc" and not (persistence.get("datasource") or {}).get("url"):
        problems.append(
            problem(
                effs[0],
                (*keys.VVP_HELM, "persistence"),
                "persistence type jdbc needs datasource.url",
                "set platform.vvp.helm.persistence.datasource.url (and username)",
            )
        )
    blob = helm.get("blobStorage")
    license_values = license.values(
        ctx.env,
        effs[0],
        _agreed(effs, lambda m: m.vvp.raw.get("license") or None, license.PATH, problems),
        persistence,
        tolerance,
        problems,
    )
    if not registry:
        problems.append(
            problem(
                effs[0],
                (*keys.ARTIFACT, "flinkImageRegistry"),
                f"environment {ctx.env} names no approved registry",
                "set spec.template.spec.artifact.flinkImageRegistry in the environment file",
            )
        )
    else:
        problems.extend(license.registry_problems(effs[0], str(registry)))
    if problems:
        raise InputError(problems)
    k8s_namespaces: set[str] = set()
    for c in ctx.namespaces:
        k8s_namespaces.add(model.of(c.effective).kubernetes_namespace)
        k8s_namespaces.update(d.kubernetes_namespace for d in c.deployments)
    k8s_namespaces.update(model.of(e).kubernetes_namespace for e in effs)
    defaults = dump_yaml(global_deployment_defaults(effs))
    out = render_template(
        "helm/ververica-platform-values.yaml.j2",
        registry=registry,
        persistence=persistence,
        blob_storage=blob,
        global_deployment_defaults=defaults,
        rbac_namespaces=sorted(k8s_namespaces),
    )
    out.update(license_values)
    return out


def check(doc: Mapping[str, Any]) -> list[str]:
    """The values file against its strict schema, and the defaults string as DeploymentDefaults (VVP 2's
    chart), or against the VVP 3 chart's schema (:mod:`.helm3`)."""
    from generator.validate.vvp_schemas import check_helm_values

    if "vvp-appmanager" in doc or "vvp-k8s-operator" in doc:
        return helm3.check(doc)
    return check_helm_values(doc)


def values_docs(ctx: EnvContext, target: targets.Target, default: tuple[int, int] = versions.DEFAULT) -> list[Doc]:
    effs = _namespaces(ctx, target)
    if not effs:
        return []
    operator = default >= (3, 0)  # the target's own platform is VVP 3: it renders VvpDeployments
    return [Doc(values(ctx, effs, default, operator), kind_key="helm-values/ververica-platform")]


def parse_defaults(doc: Mapping[str, Any]) -> Any:
    """The ``vvp.globalDeploymentDefaults`` string of a values document, parsed."""
    return load_plain(str(doc["vvp"]["globalDeploymentDefaults"]))
