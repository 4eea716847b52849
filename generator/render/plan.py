"""Which deployments a command selects, and rendering them into output files.

Renderers plug in here, per target, at three levels:

- deployment: ``fn(eff: Effective) -> list[Doc]`` (a VVP Deployment, a FlinkDeployment, ...)
- namespace: ``fn(ctx: NamespaceContext) -> list[Doc]`` (DeploymentTarget, ServiceAccounts,
  NetworkPolicies, PodMonitor, PrometheusRule, quotas, kustomization, ...); the context holds every
  deployment of the namespace and their documents, whatever the selection.
- environment: ``fn(ctx: EnvContext) -> list[Doc]`` (Helm values of the platform charts).

They are named as ``"module:function"`` and imported on first use, so ``gen --help`` stays fast.
Every document is validated before it becomes an output file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.config.layers import ConfigRepo
from generator.config.resolve import Effective, Resolver
from generator.errors import InputError, Problem, UsageError
from generator.output import OutFile, Owner, Scope, dump_yaml
from generator.validate import outputs

TARGETS = ("vvp", "vvp-operator", "flink-operator")
ALL = "*"

# target (or "*" for every target) -> renderers, in order
DEPLOYMENT_RENDERERS: dict[str, tuple[str, ...]] = {
    "vvp": ("generator.render.vvp:deployment_docs",),
}
NAMESPACE_RENDERERS: dict[str, tuple[str, ...]] = {}
ENV_RENDERERS: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Doc:
    """One rendered document. ``file`` overrides the default ``<kind>-<name>.yaml`` file name
    (relative to the owner's folder); ``check`` validates documents that are not Kubernetes or
    VVP resources (Helm values) and returns problem lines."""

    content: dict[str, Any]
    file: str | None = None
    check: Callable[[Mapping[str, Any]], list[str]] | None = None


@dataclass(frozen=True)
class NamespaceContext:
    env: str
    namespace: str
    target: str
    effective: Effective  # baseline + namespace + environment: what the namespace's defaults say
    deployments: tuple[Effective, ...]  # every deployment of the namespace in this environment
    documents: Mapping[str, tuple[Doc, ...]] = field(default_factory=dict)  # deployment -> its docs


@dataclass(frozen=True)
class EnvContext:
    env: str
    namespaces: tuple[NamespaceContext, ...]


@dataclass(frozen=True)
class Selection:
    env: str | None = None
    profile: str | None = None
    namespace: str | None = None
    deployment: str | None = None
    target: str | None = None  # overrides platform.target

    def scope(self, repo: ConfigRepo) -> Scope:
        return Scope(self.env, self.namespace, self.profile, self.deployment, frozenset(repo.deployments()))

    def wants(self, unit: Effective) -> bool:
        return (self.profile is None or unit.profile == self.profile) and (
            self.deployment is None or unit.deployment == self.deployment
        )


_loaded: dict[str, Callable[..., list[Doc]]] = {}


def _renderer(name: str) -> Callable[..., list[Doc]]:
    fn = _loaded.get(name)
    if fn is None:
        module, _, attr = name.partition(":")
        fn = getattr(importlib.import_module(module), attr)
        _loaded[name] = fn
    return fn


def _renderers(table: Mapping[str, tuple[str, ...]], target: str) -> Iterator[Callable[..., list[Doc]]]:
    for name in (*table.get(target, ()), *table.get(ALL, ())):
        yield _renderer(name)


def environments(repo: ConfigRepo, selection: Selection) -> list[str]:
    if selection.env is not None:
        repo.require("environment", selection.env)
        return [selection.env]
    names = repo.names("environment")
    if not names:
        raise UsageError("the configuration has no environments/*.yaml")
    return names


def namespaces(repo: ConfigRepo, selection: Selection) -> list[str]:
    """Namespaces the selection touches: every namespace defaults file, or the one named."""
    known = repo.names("namespace")
    for namespace, _ in repo.deployments():
        if namespace not in known:
            raise UsageError(
                f"deployments/{namespace}/ has no namespace defaults file namespaces/{namespace}.yaml",
                hint=f"available namespaces: {', '.join(known) or 'none'}",
            )
    if selection.namespace is not None:
        if selection.namespace not in known:
            raise UsageError(f"unknown namespace '{selection.namespace}'", hint=f"available: {', '.join(known)}")
        return [selection.namespace]
    return known


def _check_selection(repo: ConfigRepo, selection: Selection) -> None:
    if selection.profile is not None:
        repo.require("profile", selection.profile)
    if selection.target is not None and selection.target not in TARGETS:
        raise UsageError(f"unknown target '{selection.target}'", hint=f"available: {', '.join(TARGETS)}")
    if selection.deployment is not None:
        pairs = repo.deployments()
        if selection.namespace is not None:
            pairs = [p for p in pairs if p[0] == selection.namespace]
        if selection.deployment not in {d for _, d in pairs}:
            available = sorted({d for _, d in pairs})
            raise UsageError(f"unknown deployment '{selection.deployment}'", hint=f"available: {', '.join(available)}")


def default_file(doc: Mapping[str, Any]) -> str:
    kind = str(doc["kind"]).lower()
    name = str(doc["metadata"]["name"])
    folder = "vvp/" if outputs.is_vvp_rest(doc) else ""
    return f"{folder}{kind}-{name}.yaml"


def _out_file(prefix: str, doc: Doc, owner: Owner, where: str) -> OutFile:
    if doc.check is not None:
        found = doc.check(doc.content)
        if found:
            from generator.errors import RenderError

            raise RenderError(f"rendered {doc.file} ({where}) failed validation: {'; '.join(found[:5])}")
    else:
        outputs.check(doc.content, where)
    name = doc.file or default_file(doc.content)
    return OutFile(f"{prefix}/{name}", dump_yaml(doc.content), owner)


@dataclass
class RenderRun:
    """Everything one command renders, before anything is written."""

    files: list[OutFile]
    contexts: list[NamespaceContext]


def render_run(
    repo: ConfigRepo,
    resolver: Resolver,
    selection: Selection,
    progress: Callable[[int, int], None] | None = None,
) -> RenderRun:
    """Render the selection; all input problems of the run are reported together."""
    _check_selection(repo, selection)
    envs = environments(repo, selection)
    spaces = namespaces(repo, selection)
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in repo.deployments():
        by_namespace.setdefault(namespace, []).append(name)
    problems: list[Problem] = []
    files: list[OutFile] = []
    contexts: list[NamespaceContext] = []
    total, done = len(envs) * len(spaces), 0
    for env in envs:
        env_contexts: list[NamespaceContext] = []
        for namespace in spaces:
            try:
                ctx = _namespace(resolver, selection, env, namespace, by_namespace.get(namespace, []))
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            env_contexts.append(ctx)
            if problems:
                continue
            prefix = f"{env}/{namespace}"
            for eff in ctx.deployments:
                if not selection.wants(eff):
                    continue
                owner = Owner(env, namespace, eff.deployment, eff.profile)
                for doc in ctx.documents[eff.deployment]:
                    files.append(_out_file(prefix, doc, owner, f"{prefix}/{eff.deployment}"))
            for render_ns in _renderers(NAMESPACE_RENDERERS, ctx.target):
                for doc in render_ns(ctx):
                    files.append(_out_file(prefix, doc, Owner(env, namespace), prefix))
            done += 1
            if progress is not None:
                progress(done, total)
        contexts.extend(env_contexts)
        if selection.namespace is None and not problems:
            targets = sorted({c.target for c in env_contexts}) or [selection.target or "vvp"]
            for target in targets:
                env_ctx = EnvContext(env, tuple(c for c in env_contexts if c.target == target))
                for render_env in _renderers(ENV_RENDERERS, target):
                    for doc in render_env(env_ctx):
                        files.append(_out_file(env, doc, Owner(env, ""), env))
    if problems:
        raise InputError(problems)
    paths = [f.path for f in files]
    duplicates = sorted({p for p in paths if paths.count(p) > 1}) if len(set(paths)) != len(paths) else []
    if duplicates:
        from generator.errors import RenderError

        raise RenderError(f"two documents would be written to the same file: {', '.join(duplicates[:5])}")
    return RenderRun(sorted(files, key=lambda f: f.path), contexts)


def _namespace(
    resolver: Resolver, selection: Selection, env: str, namespace: str, names: Sequence[str]
) -> NamespaceContext:
    problems: list[Problem] = []
    effs: list[Effective] = []
    for name in names:
        try:
            effs.append(resolver.deployment(env, namespace, name))
        except InputError as exc:
            problems.extend(exc.problems)
    try:
        ns_eff = resolver.namespace(env, namespace)
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    target = selection.target or ns_eff.target
    documents: dict[str, tuple[Doc, ...]] = {}
    for eff in effs:
        deployment_target = selection.target or eff.target
        if deployment_target not in DEPLOYMENT_RENDERERS and not DEPLOYMENT_RENDERERS.get(ALL):
            raise UsageError(
                f"target '{deployment_target}' is not available yet",
                hint=f"available: {', '.join(sorted(DEPLOYMENT_RENDERERS))}",
            )
        docs: list[Doc] = []
        for render_deployment in _renderers(DEPLOYMENT_RENDERERS, deployment_target):
            docs.extend(render_deployment(eff))
        documents[eff.deployment] = tuple(docs)
    return NamespaceContext(env, namespace, target, ns_eff, tuple(effs), documents)


def render(
    repo: ConfigRepo,
    resolver: Resolver,
    selection: Selection,
    progress: Callable[[int, int], None] | None = None,
) -> list[OutFile]:
    return render_run(repo, resolver, selection, progress).files


def iter_effective(repo: ConfigRepo, resolver: Resolver, selection: Selection) -> Iterator[Effective]:
    """Every selected deployment's effective configuration."""
    for ctx in render_run(repo, resolver, selection).contexts:
        for eff in ctx.deployments:
            if selection.wants(eff):
                yield eff
