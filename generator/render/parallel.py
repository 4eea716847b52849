"""Render a large selection in several processes; the result is the one of a single process.

The unit of work is one namespace in one environment: resolving its deployments, rendering,
validating and serialising their documents and the namespace's own. That is most of a run, and
it depends on nothing outside the namespace. This process renders the first unit itself (which
loads the layers, compiles the templates and the schema validators once, before the fork, so the
workers share them), then forks ``jobs`` workers for the others and collects their files in
order. Environment renderers (Helm values) need every namespace of their environment: workers
send each namespace as those renderers see it (:func:`steps.env_namespace`: its configuration and
a view of each deployment) and the environment's documents are rendered here, while the workers go
on with the next environment.

Anything unusual — an input problem, a failed validation, a bug, a context that cannot be pickled —
makes :func:`render` return ``None``: the caller then renders in one process, which reports
exactly what a sequential run reports, in the same order. What is not an input problem (a
:class:`GenError` or an ``OSError``) is a bug that the slower run hides: it is logged to the
``generator.render.parallel`` logger (``GEN_DEBUG=1`` prints it, and the tests fail on it).
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol, TypeVar

from generator import credentials
from generator.config.resolve import Effective, Resolver
from generator.errors import GenError, Problem
from generator.output import OutFile
from generator.render import shares, steps
from generator.render.collisions import Placed
from generator.render.context import Doc, EnvNamespace, NamespaceContext
from generator.render.selection import Selection
from generator.render.shares import Kept
from generator.validate import kubernetes as k8s


@dataclass(frozen=True)
class _Work:
    resolver: Resolver
    selection: Selection
    units: tuple[tuple[str, str], ...]  # (env, namespace), in the order of a sequential run
    by_namespace: dict[str, list[str]]
    ship_contexts: bool  # the caller asked for the namespaces' contexts
    documents: bool = True  # ship the contexts with their documents
    env_level: bool = False  # ship what the environment renderers read (steps.env_namespace)


_WORK: _Work | None = None  # set before the fork; the workers inherit it
_log = logging.getLogger(__name__)


def _failed(what: str) -> None:
    """The exception being handled stopped rendering ``what`` apart (in a worker, or reusing a unit's
    parts); the caller renders again in one process. An input problem (a :class:`GenError` or an
    ``OSError``) that run reports; anything else is a bug it would hide, so it is logged."""
    if not isinstance(sys.exc_info()[1], GenError | OSError):
        _log.debug("%s failed other than on an input problem; rendering again in one process", what, exc_info=True)


def _render_unit(work: _Work, index: int) -> tuple[list[OutFile], list[Placed], NamespaceContext] | None:
    env, namespace = work.units[index]
    try:
        names = work.by_namespace.get(namespace, [])
        ctx = steps.namespace_context(work.resolver, work.selection, env, namespace, names)
        problems: list[Problem] = []
        objects: list[Placed] = []
        files = steps.namespace_files(work.selection, ctx, problems, objects)
    except Exception:
        _failed(f"{env}/{namespace}")
        return None
    return None if problems else (files, objects, ctx)


C = TypeVar("C", NamespaceContext, EnvNamespace)


def strip_context(ctx: C, resolver: Resolver) -> tuple[C, tuple[str, ...]]:
    """The context without references to the resolver (this process has the same one), and the names
    of the fields that held it."""
    names = tuple(f.name for f in fields(ctx) if getattr(ctx, f.name) is resolver)
    none: dict[str, Any] = dict.fromkeys(names)
    return replace(ctx, **none), names


def restore_context(shipped: tuple[C, tuple[str, ...]], resolver: Resolver) -> C:
    """A context :func:`strip_context` stripped, with this process's resolver put back."""
    stripped, names = shipped
    restored: dict[str, Any] = dict.fromkeys(names, resolver)
    return replace(stripped, **restored)


def _worker(index: int) -> bytes | None:
    work = _WORK
    assert work is not None
    result = _render_unit(work, index)
    if result is None:
        return None
    files, objects, ctx = result
    if not work.documents:
        ctx = steps.without_documents(ctx)
    shipped = strip_context(ctx, work.resolver) if work.ship_contexts else None
    try:
        view = strip_context(steps.env_namespace(ctx), work.resolver) if work.env_level else None
        return pickle.dumps((files, objects, shipped, view), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a renderer put something unpicklable in the context
        _failed(f"sending {work.units[index][0]}/{work.units[index][1]} between processes")
        return None


def render(
    resolver: Resolver,
    selection: Selection,
    envs: Sequence[str],
    spaces: Sequence[str],
    by_namespace: dict[str, list[str]],
    progress: Callable[[int, int], None] | None,
    jobs: int,
    *,
    contexts: bool,
    documents: bool = True,
) -> tuple[list[OutFile], list[Placed], list[NamespaceContext]] | None:
    """(files, objects, contexts) as :func:`plan.render_run` computes them, or ``None``: render
    sequentially. ``documents=False``: the contexts need not hold their documents (the workers do
    not send them)."""
    global _WORK
    if "fork" not in multiprocessing.get_all_start_methods():  # workers inherit the loaded configuration
        return None
    env_level = selection.namespace is None
    units = tuple((env, namespace) for env in envs for namespace in spaces)
    work = _Work(resolver, selection, units, by_namespace, contexts, contexts and documents, env_level)
    first = _render_unit(work, 0)
    if first is None:
        return None
    files, objects, ctx = first
    per_env: dict[str, list[EnvNamespace]] = {env: [] for env in envs}  # what the environment renderers read
    if env_level:
        per_env[ctx.env].append(steps.env_namespace(ctx))
    found = [ctx if documents else steps.without_documents(ctx)] if contexts else []
    done, total = 1, len(units)
    if progress is not None:
        progress(done, total)
    if env_level and units[1][0] != ctx.env and not _env_files(selection, ctx.env, per_env[ctx.env], files, objects):
        return None
    _WORK = work
    credentials.load_here()  # the workers inherit it
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, total - 1)) as pool:
            results = pool.imap(_worker, range(1, total), chunksize=1)
            for index, blob in enumerate(results, 1):
                if blob is None:
                    pool.terminate()
                    return None
                unit_files, unit_objects, shipped, view = pickle.loads(blob)
                files.extend(unit_files)
                objects.extend(unit_objects)
                env = units[index][0]
                if shipped is not None:
                    found.append(restore_context(shipped, resolver))
                if view is not None:
                    per_env[env].append(restore_context(view, resolver))
                done += 1
                if progress is not None:
                    progress(done, total)
                last_of_env = index + 1 == total or units[index + 1][0] != env
                if last_of_env and env_level and not _env_files(selection, env, per_env[env], files, objects):
                    pool.terminate()
                    return None
    finally:
        _WORK = None
    return files, objects, found


def _env_files(
    selection: Selection, env: str, ctxs: list[EnvNamespace], files: list[OutFile], objects: list[Placed]
) -> bool:
    problems: list[Problem] = []
    try:
        found = steps.env_files(selection, env, ctxs, problems, objects)
    except Exception:
        _failed(f"the documents of {env}")
        return False
    if problems:
        return False
    files.extend(found)
    return True


@dataclass(frozen=True)
class Part:
    """One deployment of a unit as a render computed it: the next render of the unit reuses it when
    none of the layer files it read (``reads``: (kind, where) and the digest of the text) changed."""

    reads: tuple[tuple[tuple[str, str], str], ...]
    effective: Effective
    documents: tuple[Doc, ...]
    files: tuple[OutFile, ...]
    objects: tuple[Placed, ...]
    valid_templates: frozenset[str] = frozenset()  # its pod templates found valid (kubernetes.known_valid_templates)


@dataclass(frozen=True)
class UnitParts:
    """What a render of a unit computed that its next render may reuse: each deployment, and the
    namespace's own documents by their digests (:data:`steps.Made`)."""

    deployments: Mapping[str, Part] = field(default_factory=dict)
    made: Mapping[str, tuple[OutFile, Placed | None]] = field(default_factory=dict)
    valid_templates: frozenset[str] = frozenset()  # the namespace's own pod templates found valid
    shares: Kept = field(default_factory=dict)  # what the namespace renderers computed per deployment


class Parts(Protocol):
    """Where the parts of units are kept between renders (:mod:`generator.render.incremental`)."""

    def previous(self, env: str, namespace: str) -> UnitParts: ...

    def keep(self, env: str, namespace: str, parts: UnitParts) -> None: ...


# one unit rendered for the cache: its files, objects, context (None if not asked for) and the layer
# files it read with their digests (see ConfigRepo.recording)
UnitResult = tuple[list[OutFile], list[Placed], NamespaceContext | None, dict[tuple[str, str], str]]


def render_one(
    resolver: Resolver,
    selection: Selection,
    env: str,
    namespace: str,
    by_namespace: dict[str, list[str]],
    parts: Parts | None = None,
) -> UnitResult | None:
    """One (environment, namespace) in this process, noting what it read; ``None`` on any problem.

    With ``parts``, each deployment whose layer files did not change since the unit was last
    rendered is reused as it was (its configuration, documents and files), and the parts of this
    render are kept for the next; so is what the namespace renderers computed for each deployment
    (:mod:`generator.render.shares`), which the next render reuses for the deployments it reuses."""
    repo = resolver.repo
    previous = parts.previous(env, namespace) if parts is not None else UnitParts()
    done: dict[str, Part] = {}
    reused: set[str] = set()
    made: steps.Made = {}
    try:
        with repo.recording() as reads:
            for name in by_namespace.get(namespace, []):
                part = previous.deployments.get(name)
                if part is not None and repo.unchanged(part.reads):
                    reads.update(part.reads)  # what it read is read by the unit
                    reused.add(name)
                else:
                    known = part.valid_templates if part is not None else frozenset()
                    with repo.recording() as own, k8s.known_valid_templates(known) as valid:
                        eff = resolver.deployment(env, namespace, name)
                        docs = steps.deployment_documents(selection, eff)
                        objects: list[Placed] = []
                        files = steps.deployment_files(selection, env, eff, docs, objects)
                    part = Part(tuple(sorted(own.items())), eff, docs, tuple(files), tuple(objects), frozenset(valid))
                done[name] = part
            with repo.recording() as ns_reads:
                ns_eff = resolver.namespace(env, namespace)
            effs = tuple(p.effective for p in done.values())
            documents = {name: p.documents for name, p in done.items()}
            ctx = NamespaceContext(env, namespace, selection.target or ns_eff.target, ns_eff, effs, documents, resolver)
            problems: list[Problem] = []
            unit_objects = [o for p in done.values() for o in p.objects]
            unit_files = [f for p in done.values() for f in p.files]
            with (
                k8s.known_valid_templates(previous.valid_templates) as ns_valid,
                shares.keeping(repo, previous.shares, frozenset(reused), ns_reads) as now,
            ):
                unit_files += steps.namespace_own_files(selection, ctx, problems, unit_objects, previous.made, made)
    except Exception:
        _failed(f"{env}/{namespace}")
        return None
    if problems:
        return None
    if parts is not None:
        parts.keep(env, namespace, UnitParts(done, made, frozenset(ns_valid), now))
    return unit_files, unit_objects, ctx, dict(reads)


_UNITS: tuple[_Work, bool, Parts | None] | None = None  # set before the fork; the workers inherit it


def _unit_worker(index: int) -> bytes | None:
    assert _UNITS is not None
    work, ship, parts = _UNITS
    env, namespace = work.units[index]
    result = render_one(work.resolver, work.selection, env, namespace, work.by_namespace, parts)
    if result is None:
        return None
    files, objects, ctx, reads = result
    shipped = strip_context(steps.without_documents(ctx), work.resolver) if ship and ctx is not None else None
    try:
        return pickle.dumps((files, objects, shipped, reads), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        _failed(f"sending {env}/{namespace} between processes")
        return None


def render_units(
    resolver: Resolver,
    selection: Selection,
    units: Sequence[tuple[str, str]],
    by_namespace: dict[str, list[str]],
    jobs: int,
    contexts: bool,
    parts: Parts | None = None,
) -> list[UnitResult] | None:
    """Several (environment, namespace) units: the first here (warming what the workers share), the
    others in ``jobs`` forked workers (each keeping its units' ``parts`` itself); in order, or ``None``
    on any problem."""
    global _UNITS
    if "fork" not in multiprocessing.get_all_start_methods() or not units:
        return None
    first = render_one(resolver, selection, *units[0], by_namespace, parts)
    if first is None:
        return None
    results: list[UnitResult] = [first]
    _UNITS = (_Work(resolver, selection, tuple(units), by_namespace, contexts), contexts, parts)
    credentials.load_here()  # the workers inherit it
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(units) - 1)) as pool:
            for blob in pool.imap(_unit_worker, range(1, len(units)), chunksize=1):
                if blob is None:
                    pool.terminate()
                    return None
                files, objects, shipped, reads = pickle.loads(blob)
                ctx = restore_context(shipped, resolver) if shipped is not None else None
                results.append((files, objects, ctx, reads))
    finally:
        _UNITS = None
    return results


__all__ = [
    "Part",
    "Parts",
    "UnitParts",
    "UnitResult",
    "render",
    "render_one",
    "render_units",
    "restore_context",
    "strip_context",
]
