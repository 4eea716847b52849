"""Which deployments a command selects, and rendering them into output files.

Per namespace and environment, the selected deployments are resolved and rendered by their target
(:mod:`generator.targets`): each deployment's documents, then the namespace's (the target's own and
the Kubernetes objects around the jobs, :mod:`generator.render.kubernetes`), then the environment's.
The namespace context holds every deployment of the namespace and their documents, whatever the
selection. Every document is validated as its output kind says (:mod:`generator.kinds`) before it
becomes an output file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.config.layers import ConfigRepo
from generator.config.resolve import Effective, Resolver, iter_leaves
from generator.config.yamlload import dotted
from generator.errors import GenError, InputError, Problem, UsageError
from generator.output import OutFile
from generator.output.cache import Cache
from generator.render import collisions, engine, kubernetes
from generator.render import target as targets
from generator.render.collisions import Placed
from generator.render.context import NamespaceContext
from generator.render.selection import Selection
from generator.render.steps import env_files, env_namespace, namespace_context, namespace_files

if TYPE_CHECKING:
    from generator.output import Plan


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
    documents: bool = True,
    cache: Cache | None = None,
    lazy: bool = False,
) -> RenderRun:
    """Render the selection; all input problems of the run are reported together.

    With ``jobs`` > 1 a large selection renders in that many processes, one (environment,
    namespace) at a time each, merged in order: the same files, byte for byte, as one process.
    ``contexts=False`` says the caller only wants the files (the run's ``contexts`` may then be
    incomplete); ``documents=False`` that it reads no documents of the contexts (a parallel run
    then does not send them between processes). Any problem or error in a parallel run is
    reported by rendering again in one process, so the messages are exactly those of a sequential
    run.

    ``--set`` applies only to what the selection selects (:meth:`Selection.resolver`). Before
    anything is written, no two rendered objects may be one object (:mod:`generator.render.collisions`).

    With a ``cache`` (and ``contexts=False`` or ``documents=False``) every namespace and environment
    whose inputs did not change since a render stored it is reused (:mod:`generator.render.incremental`):
    the same files, byte for byte, and the same contexts (without documents). ``lazy``: files reused
    from the cache read their contents there when first asked for (:func:`output.contents_ready`
    says whether they still can be; a write reads them first), instead of before this returns."""
    _check_selection(repo, selection)
    resolver = selection.resolver(resolver)
    engine.keep_compiled(cache)
    if cache is not None:
        from generator.render import identity

        repo.keep_layers(cache, identity.code_identity())
    if cache is not None and not (contexts and documents):
        run = _from_cache(repo, resolver, selection, cache, progress, jobs, [] if contexts else None, lazy=lazy)
        if run is not None:
            if resolver.cli is None:  # what `gen render --check` answers from (--set values are no files)
                from generator.render import summary

                summary.keep(cache, repo, selection, run.files)
            cache.prune()
            return run
    envs, spaces, by_namespace = _units(repo, selection)
    problems = _narrowed_set_problems(resolver, selection)
    problems += collisions.namespace_problems(repo, resolver, envs)  # the whole configuration
    if jobs > 1 and not problems:
        units = len(envs) * sum(len(by_namespace.get(ns, ())) for ns in spaces)
        if units >= PARALLEL_MIN_UNITS and len(envs) * len(spaces) > 1:
            from generator.render import parallel

            done_in_parallel = parallel.render(
                resolver, selection, envs, spaces, by_namespace, progress, jobs, contexts=contexts, documents=documents
            )
            if done_in_parallel is not None:
                return _finish_run(repo, *done_in_parallel)
    files: list[OutFile] = []
    objects: list[Placed] = []
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
            files.extend(namespace_files(selection, ctx, problems, objects))
            done += 1
            if progress is not None:
                progress(done, total)
        all_contexts.extend(env_contexts)
        if selection.namespace is None and not problems:
            files.extend(env_files(selection, env, [env_namespace(c) for c in env_contexts], problems, objects))
    if problems:
        raise InputError(problems)
    return _finish_run(repo, files, objects, all_contexts)


def _narrowed_set_problems(resolver: Resolver, selection: Selection) -> list[Problem]:
    """A ``--set`` of a namespace-wide key (:data:`kubernetes.NAMESPACE_WIDE`) with ``--deployment``
    or ``--profile``: it would reach the selected deployments only, not the namespace they share."""
    doc = resolver.cli
    if doc is None or (selection.deployment is None and selection.profile is None):
        return []
    narrowed = "--deployment" if selection.deployment is not None else "--profile"
    problems: list[Problem] = []
    for path in kubernetes.NAMESPACE_WIDE:
        node: Any = doc.data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        for leaf, _ in iter_leaves(node, path) if node is not None else ():
            mark = doc.mark(leaf)
            problems.append(
                Problem(
                    mark.file,
                    mark.line,
                    mark.col,
                    dotted(leaf),
                    f"--set with {narrowed} reaches the selected deployments only, and this key configures "
                    "objects every deployment of a namespace shares",
                    f"leave out {narrowed} to set it for whole namespaces, or set it in the namespace or "
                    "environment file",
                )
            )
    return problems


# (deployments x environments) below which one process is faster than starting workers
PARALLEL_MIN_UNITS = 48


def _finish_run(
    repo: ConfigRepo, files: list[OutFile], objects: list[Placed], contexts: list[NamespaceContext]
) -> RenderRun:
    problems = collisions.object_problems(repo, objects)
    if problems:
        raise InputError(problems)
    paths = [f.path for f in files]
    duplicates = sorted({p for p in paths if paths.count(p) > 1}) if len(set(paths)) != len(paths) else []
    if duplicates:
        from generator.errors import RenderError

        raise RenderError(f"two documents would be written to the same file: {', '.join(duplicates[:5])}")
    return RenderRun(sorted(files, key=lambda f: f.path), contexts)


def render(
    repo: ConfigRepo,
    resolver: Resolver,
    selection: Selection,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 1,
    cache: Cache | None = None,
    *,
    lazy: bool = False,
) -> list[OutFile]:
    """The files of a run, in memory (nothing is written); with a ``cache``, reusing and storing the
    documents of every namespace whose inputs are unchanged (what ``gen diff`` renders with); ``lazy``
    as :func:`render_run` takes it."""
    return render_run(repo, resolver, selection, progress, jobs, contexts=False, cache=cache, lazy=lazy).files


def _units(repo: ConfigRepo, selection: Selection) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """The environments and namespaces a run renders, and every namespace's deployments."""
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in repo.deployments():
        by_namespace.setdefault(namespace, []).append(name)
    return environments(repo, selection), namespaces(repo, selection), by_namespace


def _from_cache(
    repo: ConfigRepo,
    resolver: Resolver,
    selection: Selection,
    cache: Cache,
    progress: Callable[[int, int], None] | None,
    jobs: int,
    contexts: list[NamespaceContext] | None,
    *,
    cached_only: bool = False,
    lazy: bool = False,
) -> RenderRun | None:
    """The run through the cache (:mod:`generator.render.incremental`; ``resolver`` is the
    selection's); ``None`` when it must be rendered cold."""
    if _narrowed_set_problems(resolver, selection):
        return None
    from generator.render import incremental

    envs, spaces, by_namespace = _units(repo, selection)
    found = incremental.render(
        repo,
        resolver,
        selection,
        envs,
        spaces,
        by_namespace,
        progress,
        jobs,
        cache,
        PARALLEL_MIN_UNITS,
        cached_only=cached_only,
        contexts=contexts,
        lazy=lazy,
    )
    return None if found is None else _finish_run(repo, *found, contexts or [])


def cached(repo: ConfigRepo, resolver: Resolver, selection: Selection, cache: Cache) -> list[OutFile] | None:
    """The files of a run when the cache holds every one of them for the inputs as they are now;
    ``None`` (having rendered nothing) when it does not, or when the run has a problem."""
    _check_selection(repo, selection)
    try:
        run = _from_cache(repo, selection.resolver(resolver), selection, cache, None, 1, None, cached_only=True)
    except GenError:
        return None
    return None if run is None else run.files


def changes(
    repo: ConfigRepo,
    resolver: Resolver,
    selection: Selection,
    out: Path,
    cache: Cache | None = None,
    jobs: int = 1,
) -> tuple[list[OutFile], Plan[OutFile]]:
    """Would a render change anything in ``out``? The files of the run and the plan of what a render
    would change (``plan.drift``), writing nothing. With a ``cache`` and nothing changed since it was
    filled, nothing is rendered: the answer comes from the layer files' digests, the index and the
    files in ``out`` (``gen render --check``, and what ``gen diff`` asks of each side).

    Takes the output folder's shared lock, so it never reads a folder a render is swapping."""
    from generator import output
    from generator.output.cache import planned

    files = render(repo, resolver, selection, None, jobs, cache)
    with output.locked(out, shared=True):
        result = planned(cache, out, files, selection.scope(repo, files), force=True)
    return files, result


def iter_effective(repo: ConfigRepo, resolver: Resolver, selection: Selection) -> Iterator[Effective]:
    """Every selected deployment's effective configuration."""
    for ctx in render_run(repo, resolver, selection).contexts:
        for eff in ctx.deployments:
            if selection.wants(eff):
                yield eff


__all__ = [
    "PARALLEL_MIN_UNITS",
    "RenderRun",
    "Selection",
    "cached",
    "changes",
    "environments",
    "iter_effective",
    "namespaces",
    "render",
    "render_run",
]
