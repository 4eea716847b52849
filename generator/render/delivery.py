"""The GitOps wiring of an environment: how Argo CD or Flux applies the rendered folders.

``platform.delivery`` (baseline or environment) picks the engine and says where the output folder
lives in the Git repository. For each environment gen then writes, beside the namespace folders:

- ``kustomization.yaml`` listing the namespace folders (and the Namespace objects), so
  ``kubectl kustomize out/<env>`` builds the whole environment;
- ``namespaces/namespace-<name>.yaml`` with ``delivery.namespaces: true``;
- ``gitops/``: Argo CD ``Application``s (one per namespace folder, one per platform chart) or Flux
  ``Kustomization``s (one per namespace folder, one for the charts, one for the Namespace objects),
  listed in ``gitops/kustomization.yaml`` (the one thing to apply by hand, or from an app of apps);
- with Flux, ``helm/kustomization.yaml`` with a ``HelmRepository`` and a ``HelmRelease`` per chart,
  whose values come from a ConfigMap generated from the rendered values file.

Helm values files are not Kubernetes objects: they stay in ``helm/``, which no Application points a
directory source at, and which Flux applies only through its kustomization (the values files are
generator input there, never resources). A stateful job is never pruned by accident: the job kinds
get ``argocd.argoproj.io/sync-options: Prune=false,Delete=false`` (Argo CD) or
``kustomize.toolkit.fluxcd.io/prune: disabled`` (Flux) through the engine's own patches, so the
rendered objects stay as they are; the Namespace objects and the charts (their CRDs own every job)
are never pruned. See docs/gitops.md.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from generator import kinds, model
from generator.config import paths
from generator.config.resolve import Effective
from generator.errors import InputError, Problem
from generator.render.context import Doc, EnvNamespace

__all__ = ["JOB_KINDS", "environment_docs"]

DELIVERY = ("platform", "delivery")
KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"
MANAGED = {"app.kubernetes.io/managed-by": "gen"}
#: The kinds of the jobs: deleting one deletes a running job and its state (the operator's own
#: objects and the VVP Kubernetes operator's).
JOB_KINDS: tuple[tuple[str, str, str], ...] = (
    ("flink.apache.org", "v1beta1", "FlinkDeployment"),
    ("flink.apache.org", "v1beta1", "FlinkSessionJob"),
    ("ververica.platform", "v1", "VvpDeployment"),
)
ARGOCD_KEEP = {"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}
FLUX_KEEP = {"kustomize.toolkit.fluxcd.io/prune": "disabled"}
# The platform charts: values kind -> (chart, default repository; {version} is the chart version).
# https://nightlies.apache.org/flink/flink-kubernetes-operator-docs-stable/docs/try-flink-kubernetes-operator/quick-start/
# https://docs.ververica.com/vvp/installation-and-upgrades/install-with-helm/configuration
CHARTS: dict[str, tuple[str, str, str]] = {
    "helm-values/flink-kubernetes-operator": (
        "flinkKubernetesOperator",
        "flink-kubernetes-operator",
        "https://downloads.apache.org/flink/flink-kubernetes-operator-{version}/",
    ),
    "helm-values/ververica-platform": ("ververicaPlatform", "ververica-platform", "https://charts.ververica.com"),
}


def _settings(contexts: Sequence[EnvNamespace]) -> tuple[dict[str, Any], Effective] | None:
    """The environment's delivery settings (every namespace must see the same), or None."""
    found: dict[str, Any] | None = None
    first: Effective | None = None
    problems: list[Problem] = []
    for ctx in contexts:
        eff = ctx.effective
        value = eff.get(DELIVERY)
        if first is None:
            found, first = value, eff
        elif value != found:
            problems.append(
                paths.problem(
                    eff.provenance,
                    DELIVERY,
                    f"namespace {ctx.namespace} delivers environment {ctx.env} differently from namespace "
                    f"{first.namespace}: one environment is delivered one way",
                    "set platform.delivery in the baseline or the environment file, not in a namespace file",
                    eff.home_file(),
                )
            )
    if problems:
        raise InputError(problems)
    if not isinstance(found, dict) or first is None:
        return None
    return found, first


def _repo_path(settings: Mapping[str, Any], *parts: str) -> str:
    return posixpath.normpath(posixpath.join(str(settings.get("path", "out")), *parts))


def _patches(keep: Mapping[str, str]) -> list[dict[str, Any]]:
    """Kustomize patches giving every job object ``keep``'s annotations (the name is ignored when
    the patch names a target: https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/patches/)."""
    lines = "".join(f"    {key}: {value}\n" for key, value in keep.items())
    return [
        {
            "patch": f"apiVersion: {group}/{version}\nkind: {kind}\nmetadata:\n  name: any\n  annotations:\n{lines}",
            "target": {"group": group, "version": version, "kind": kind},
        }
        for group, version, kind in JOB_KINDS
    ]


def _meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(MANAGED)}


def _charts(env_docs: Sequence[Doc], settings: Mapping[str, Any], eff: Effective) -> list[dict[str, str]]:
    """The platform charts of the environment, from the Helm values files its targets rendered."""
    found = []
    problems: list[Problem] = []
    for doc in env_docs:
        chart = CHARTS.get(doc.kind_key or "")
        if chart is None:
            continue
        key, name, default_repo = chart
        given = settings.get("charts", {}).get(key, {})
        version = given.get("version")
        if not version:
            candidates = ((*DELIVERY, "charts", key), (*DELIVERY, "charts"))
            written = (p for p in candidates if any(k[: len(p)] == p for k in eff.provenance))
            problems.append(
                paths.problem(
                    eff.provenance,
                    next(written, DELIVERY),
                    f"environment {eff.env} renders the {name} chart's values: its version is needed to deliver it",
                    f"set platform.delivery.charts.{key}.version (the chart version you install)",
                    eff.home_file(),
                )
            )
            continue
        if key == "flinkKubernetesOperator":
            namespace = model.of(eff).operator.operator_namespace or "flink-operator"
        else:
            namespace = str(given.get("namespace", "vvp"))
        values = doc.file or kinds.of(doc.content, doc.kind_key).file_name(doc.content)
        found.append(
            {
                "name": name,
                "version": str(version),
                "repo": str(given.get("repoURL", default_repo.format(version=version))),
                "namespace": namespace,
                "values": posixpath.basename(values),
            }
        )
    if problems:
        raise InputError(problems)
    return sorted(found, key=lambda c: c["name"])


def _kustomization(resources: Sequence[str], **more: Any) -> dict[str, Any]:
    return {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "resources": list(resources), **more}


def _argocd(
    env: str, folders: Sequence[tuple[str, str]], charts: Sequence[Mapping[str, str]], settings: Mapping[str, Any]
) -> list[Doc]:
    argo = settings.get("argocd", {})
    home = str(argo.get("namespace", "argocd"))
    project = str(argo.get("project", "default"))
    server = str(argo.get("server", "https://kubernetes.default.svc"))
    repo, revision = str(settings["repoURL"]), str(settings.get("revision", "HEAD"))
    own_namespaces = bool(settings.get("namespaces", False))
    docs: list[Doc] = []
    for folder, namespace in folders:
        options = ["PruneLast=true"] + ([] if own_namespaces else ["CreateNamespace=true"])
        docs.append(
            Doc(
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": _meta(f"{env}-{folder}", home),
                    "spec": {
                        "project": project,
                        "source": {
                            "repoURL": repo,
                            "targetRevision": revision,
                            "path": _repo_path(settings, env, folder),
                            "kustomize": {"patches": _patches(ARGOCD_KEEP)},
                        },
                        "destination": {"server": server, "namespace": namespace},
                        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": options},
                    },
                }
            )
        )
    if own_namespaces:
        docs.append(_argocd_app(f"{env}-namespaces", home, project, server, {
            "repoURL": repo, "targetRevision": revision, "path": _repo_path(settings, env, "namespaces"),
            "directory": {"recurse": False},
        }, "default", prune=False))  # fmt: skip
    for chart in charts:
        sources = [
            {
                "repoURL": chart["repo"],
                "chart": chart["name"],
                "targetRevision": chart["version"],
                "helm": {
                    "releaseName": chart["name"],
                    "valueFiles": [f"$values/{_repo_path(settings, env, 'helm', chart['values'])}"],
                },
            },
            {"repoURL": repo, "targetRevision": revision, "ref": "values"},
        ]
        docs.append(
            _argocd_app(f"{env}-{chart['name']}", home, project, server, sources, chart["namespace"], prune=False)
        )
    return docs


def _argocd_app(name: str, home: str, project: str, server: str, source: Any, namespace: str, *, prune: bool) -> Doc:
    spec: dict[str, Any] = {"project": project}
    spec["sources" if isinstance(source, list) else "source"] = source
    spec["destination"] = {"server": server, "namespace": namespace}
    spec["syncPolicy"] = {
        "automated": {"prune": prune, "selfHeal": True},
        "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
    }
    return Doc(
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": _meta(name, home), "spec": spec}
    )


def _flux_kustomization(
    name: str, home: str, settings: Mapping[str, Any], path: str, *, prune: bool, after: Sequence[str] = (), keep: bool
) -> Doc:
    flux = settings.get("flux", {})
    spec: dict[str, Any] = {
        "interval": str(flux.get("interval", "10m")),
        "path": f"./{path}" if path != "." else "./",
        "prune": prune,
        "sourceRef": {"kind": "GitRepository", "name": str(flux.get("gitRepository", "flux-system"))},
    }
    if after:
        spec["dependsOn"] = [{"name": n} for n in after]
    if keep:
        spec["patches"] = _patches(FLUX_KEEP)
    return Doc(
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": _meta(name, home),
            "spec": spec,
        }
    )


def _flux(
    env: str, folders: Sequence[tuple[str, str]], charts: Sequence[Mapping[str, str]], settings: Mapping[str, Any]
) -> list[Doc]:
    flux = settings.get("flux", {})
    home = str(flux.get("namespace", "flux-system"))
    interval = str(flux.get("interval", "10m"))
    docs: list[Doc] = []
    first: list[str] = []
    if settings.get("namespaces", False):
        first.append(f"{env}-namespaces")
        path = _repo_path(settings, env, "namespaces")
        docs.append(_flux_kustomization(first[-1], home, settings, path, prune=False, keep=False))
    if charts:
        first.append(f"{env}-charts")
        path = _repo_path(settings, env, "helm")
        docs.append(_flux_kustomization(first[-1], home, settings, path, prune=False, after=first[:-1], keep=False))
    for folder, _ in folders:
        path = _repo_path(settings, env, folder)
        docs.append(_flux_kustomization(f"{env}-{folder}", home, settings, path, prune=True, after=first, keep=True))
    for chart in charts:
        meta = _meta(chart["name"], home)
        docs.append(
            Doc(
                {
                    "apiVersion": "source.toolkit.fluxcd.io/v1",
                    "kind": "HelmRepository",
                    "metadata": meta,
                    "spec": {"interval": "1h", "url": chart["repo"]},
                }
            )
        )
        release = {
            "interval": interval,
            "releaseName": chart["name"],
            "targetNamespace": chart["namespace"],
            "chart": {
                "spec": {
                    "chart": chart["name"],
                    "version": chart["version"],
                    "sourceRef": {"kind": "HelmRepository", "name": chart["name"]},
                }
            },
            "install": {"crds": "CreateReplace", "createNamespace": True},
            "upgrade": {"crds": "CreateReplace"},
            "valuesFrom": [{"kind": "ConfigMap", "name": f"{chart['name']}-values", "valuesKey": "values.yaml"}],
        }
        docs.append(
            Doc(
                {
                    "apiVersion": "helm.toolkit.fluxcd.io/v2",
                    "kind": "HelmRelease",
                    "metadata": dict(meta),
                    "spec": release,
                }
            )
        )
    if charts:
        resources = [_file(d) for d in docs if d.content["kind"] in ("HelmRepository", "HelmRelease")]
        generators = [
            {"name": f"{c['name']}-values", "namespace": home, "files": [f"values.yaml={c['values']}"]} for c in charts
        ]
        options = {"disableNameSuffixHash": True, "labels": {"reconcile.fluxcd.io/watch": "Enabled"}}
        docs.append(
            Doc(
                _kustomization(
                    sorted(posixpath.basename(r) for r in resources),
                    configMapGenerator=generators,
                    generatorOptions=options,
                ),
                kind_key="kustomization/helm",
            )
        )
    return docs


def _file(doc: Doc) -> str:
    return doc.file or kinds.of(doc.content, doc.kind_key).file_name(doc.content)


def environment_docs(env: str, contexts: Sequence[EnvNamespace], env_docs: Sequence[Doc]) -> list[Doc]:
    """The delivery documents of environment ``env``: none without ``platform.delivery``."""
    found = _settings(contexts)
    if found is None:
        return []
    settings, eff = found
    engine = str(settings.get("engine", "none"))
    folders = sorted({(c.namespace, c.effective.kubernetes_namespace) for c in contexts})
    docs: list[Doc] = []
    if settings.get("namespaces", False):
        for namespace in sorted({k for _, k in folders}):
            docs.append(
                Doc({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": dict(MANAGED)}})
            )
    if engine in ("argocd", "flux"):
        if engine == "argocd" and not settings.get("repoURL"):
            raise InputError(
                [
                    paths.problem(
                        eff.provenance,
                        DELIVERY,
                        "Argo CD needs the Git repository the Applications point at",
                        "set platform.delivery.repoURL",
                        eff.home_file(),
                    )
                ]
            )
        charts = _charts(env_docs, settings, eff)
        wiring = (_argocd if engine == "argocd" else _flux)(env, folders, charts, settings)
        gitops = sorted(posixpath.basename(_file(d)) for d in wiring if _file(d).startswith("gitops/"))
        docs += [*wiring, Doc(_kustomization(gitops), kind_key="kustomization/gitops")]
    own = [_file(d) for d in docs if d.content.get("kind") == "Namespace"]
    docs.append(Doc(_kustomization(sorted(own) + [f for f, _ in folders]), kind_key="kustomization/environment"))
    return docs
