"""Which deployments a command selects, and rendering them into output files.

Per namespace and environment, the selected deployments are resolved and rendered by their target
(:mod:`generator.targets`): each deployment's documents, then the namespace's (the target's own and
the Kubernetes objects around the jobs, :mod:`generator.render.kubernetes`), then the environment's.
The namespace context holds every deployment of the namespace and their documents, whatever the
selection. Every document is validated as its output kind says (:mod:`generator.kinds`) before it
becomes an output file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from generator import kinds, targets
from generator.config.layers import ConfigRepo
from generator.config.resolve import Effective, Resolver
from generator.errors import InputError, Problem, RenderError, UsageError
from generator.output import OutFile, Owner, Scope, dump_yaml
from generator.render import kubernetes
from generator.render.context import Doc, EnvContext, NamespaceContext


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
    if selection.target is not None:
        targets.get(selection.target)  # an unknown target is a usage error naming the available ones
    if selection.deployment is not None:
        pairs = repo.deployments()
        if selection.namespace is not None:
            pairs = [p for p in pairs if p[0] == selection.namespace]
        if selection.deployment not in {d for _, d in pairs}:
            available = sorted({d for _, d in pairs})
            raise UsageError(f"unknown deployment '{selection.deployment}'", hint=f"available: {', '.join(available)}")


def _out_file(prefix: str, doc: Doc, owner: Owner, where: str) -> OutFile:
    """Validate a document as its output kind says and make it a file."""
    kind = kinds.of(doc.content, doc.kind_key)
    name = doc.file or kind.file_name(doc.content)
    found = kind.validate(doc.content)
    if found:
        what = f"{doc.content.get('kind')} {doc.content.get('metadata', {}).get('name', '?')}" if kind.kind else name
        raise RenderError(f"rendered {what} ({where}) failed validation: {'; '.join(found[:5])}")
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
    jobs: int = 1,
    *,
    contexts: bool = True,
) -> RenderRun:
    """Render the selection; all input problems of the run are reported together.

    With ``jobs`` > 1 a large selection renders in that many processes, one (environment,
    namespace) at a time each, merged in order: the same files, byte for byte, as one process.
    ``contexts=False`` says the caller only wants the files (the run's ``contexts`` may then be
    incomplete). Any problem or error in a parallel run is reported by rendering again in one
    process, so the messages are exactly those of a sequential run."""
    _check_selection(repo, selection)
    envs = environments(repo, selection)
    spaces = namespaces(repo, selection)
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in repo.deployments():
        by_namespace.setdefault(namespace, []).append(name)
    if jobs > 1:
        units = len(envs) * sum(len(by_namespace.get(ns, ())) for ns in spaces)
        if units >= PARALLEL_MIN_UNITS and len(envs) * len(spaces) > 1:
            from generator.render import parallel

            done_in_parallel = parallel.render(
                resolver, selection, envs, spaces, by_namespace, progress, jobs, contexts=contexts
            )
            if done_in_parallel is not None:
                return _finish_run(*done_in_parallel)
    problems: list[Problem] = []
    files: list[OutFile] = []
    all_contexts: list[NamespaceContext] = []
    total, done = len(envs) * len(spaces), 0
    for env in envs:
        env_contexts: list[NamespaceContext] = []
        for namespace in spaces:
            try:
                ctx = namespace_context(resolver, selection, env, namespace, by_namespace.get(namespace, []))
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            env_contexts.append(ctx)
            if problems:
                continue
            files.extend(namespace_files(selection, ctx, problems))
            done += 1
            if progress is not None:
                progress(done, total)
        all_contexts.extend(env_contexts)
        if selection.namespace is None and not problems:
            files.extend(env_files(selection, env, env_contexts, problems))
    if problems:
        raise InputError(problems)
    return _finish_run(files, all_contexts)


# (deployments x environments) below which one process is faster than starting workers
PARALLEL_MIN_UNITS = 48


def namespace_files(selection: Selection, ctx: NamespaceContext, problems: list[Problem]) -> list[OutFile]:
    """The validated files of one namespace in one environment: its selected deployments'
    documents, then the namespace's own. Input problems of namespace renderers go to ``problems``."""
    env, namespace = ctx.env, ctx.namespace
    files: list[OutFile] = []
    prefix = f"{env}/{namespace}"
    for eff in ctx.deployments:
        if not selection.wants(eff):
            continue
        owner = Owner(env, namespace, eff.deployment, eff.profile)
        for doc in ctx.documents[eff.deployment]:
            files.append(_out_file(prefix, doc, owner, f"{prefix}/{eff.deployment}"))
    namespace_docs: list[Doc] = []
    for render_ns in (targets.get(ctx.target).namespace_docs, kubernetes.namespace_docs):
        try:
            ns_docs = render_ns(ctx)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        namespace_docs.extend(ns_docs)
    if not problems:
        namespace_docs.extend(kubernetes.kustomization(ctx, tuple(namespace_docs)))
    for doc in namespace_docs:
        files.append(_out_file(prefix, doc, Owner(env, namespace), prefix))
    return files


def env_files(
    selection: Selection, env: str, env_contexts: Sequence[NamespaceContext], problems: list[Problem]
) -> list[OutFile]:
    """The validated files of one environment's renderers (Helm values), per target."""
    files: list[OutFile] = []
    names = sorted({c.target for c in env_contexts}) or [selection.target or "vvp"]
    for target in names:
        env_ctx = EnvContext(env, tuple(c for c in env_contexts if c.target == target))
        try:
            env_docs = targets.get(target).environment_docs(env_ctx)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for doc in env_docs:
            files.append(_out_file(env, doc, Owner(env, ""), env))
    return files


def _finish_run(files: list[OutFile], contexts: list[NamespaceContext]) -> RenderRun:
    paths = [f.path for f in files]
    duplicates = sorted({p for p in paths if paths.count(p) > 1}) if len(set(paths)) != len(paths) else []
    if duplicates:
        from generator.errors import RenderError

        raise RenderError(f"two documents would be written to the same file: {', '.join(duplicates[:5])}")
    return RenderRun(sorted(files, key=lambda f: f.path), contexts)


def namespace_context(
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
    ns_target = selection.target or ns_eff.target
    documents: dict[str, tuple[Doc, ...]] = {}
    for eff in effs:
        target = targets.get(selection.target or eff.target)
        docs: list[Doc] = []
        try:
            docs.extend(target.deployment_docs(eff))
        except InputError as exc:  # a target's own rules: report every deployment's problems at once
            problems.extend(exc.problems)
        documents[eff.deployment] = tuple(docs)
    if problems:
        raise InputError(problems)
    return NamespaceContext(env, namespace, ns_target, ns_eff, tuple(effs), documents, resolver)


def render(
    repo: ConfigRepo,
    resolver: Resolver,
    selection: Selection,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> list[OutFile]:
    return render_run(repo, resolver, selection, progress, jobs, contexts=False).files


def iter_effective(repo: ConfigRepo, resolver: Resolver, selection: Selection) -> Iterator[Effective]:
    """Every selected deployment's effective configuration."""
    for ctx in render_run(repo, resolver, selection).contexts:
        for eff in ctx.deployments:
            if selection.wants(eff):
                yield eff
