"""Incremental renders: reuse what an earlier render computed from the same inputs, byte for byte.

The unit of reuse is the unit of a parallel render: one namespace in one environment (its
deployments' documents and the namespace's own, validated and serialised), plus the environment's
documents and the check that no two namespaces share a Kubernetes namespace. Each is stored in the
cache (:mod:`generator.output.cache`) under a key computed from everything it can depend on:

- gen itself (:func:`generator.render.identity.code_identity`): the source of every module, the
  templates and schemas it ships, the versions of Python and of the libraries that shape the output;
- the run: which layer files exist, the selection, ``--set``, the configuration folder as messages
  name it;
- the unit: its environment, namespace and deployments, and **the text of every layer file its
  computation read**. Those are not listed here: while a unit is computed the configuration records
  every layer it reads (:meth:`ConfigRepo.recording`), and the key is made of those files' digests.
  A new kind of layer, a profile a deployment starts to extend, a namespace view with a profile:
  whatever is read is in the key, without this module knowing about it.

A lookup therefore has two steps: a small entry for the unit says which layer files it read last
time; their current digests give the key of the unit's documents. An environment's documents are
keyed by what its renderers read of each namespace (:class:`EnvNamespace`: the namespace's
configuration and a view of each deployment, stored with the unit and digested), and by any layer
file they read themselves: a change to a deployment that leaves its view as it was (its arguments,
its resources) does not render them again. When it does, a namespace whose documents were reused
provides its :class:`EnvNamespace` from the cache.

Only successful computations are stored. A run that meets any problem is rendered again without
the cache (:func:`render` returns ``None``), so every message is a cold run's.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.digest import value_digest
from generator.output.cache import Cache
from generator.output.index import ContentGone, OutFile, Owner, contents_ready
from generator.render import identity, parallel
from generator.render.collisions import Placed
from generator.render.context import EnvNamespace, NamespaceContext
from generator.render.selection import Selection


def _hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class RenderCache:
    """The keys of one run's units, and their entries in a :class:`Cache`."""

    def __init__(self, store: Cache, repo: ConfigRepo, resolver: Resolver, selection: Selection) -> None:
        from generator.config.layers import _shown

        self.store = store
        self.repo = repo
        cli = resolver.cli
        sets = None if cli is None else (repr(cli.data), cli.file)
        self.base = _hash(identity.code_identity(), repo.listing_digest(), _shown(repo.root), sets, selection)

    def ident(self, *parts: object) -> str:
        return _hash(self.base, *parts)

    def _key(self, ident: str, reads: Sequence[tuple[tuple[str, str], str]]) -> str:
        return _hash(ident, tuple(reads))

    def key_of(self, ident: str, reads: dict[tuple[str, str], str]) -> str:
        """The key :meth:`put` stores a value computed from ``reads`` under."""
        return self._key(ident, sorted(reads.items()))

    def key(self, ident: str) -> str | None:
        """The key of a unit's value from the layer files it read last time, as they are now; ``None``
        when the unit was never stored or one of those files cannot be read."""
        read = self.store.get("r" + ident)
        if not isinstance(read, tuple):
            return None
        reads = []
        for kind, where in read:
            digest = self.repo.current_digest(kind, where)
            if digest is None:
                return None
            reads.append(((kind, where), digest))
        return self._key(ident, reads)

    def put(self, ident: str, reads: dict[tuple[str, str], str], value: Any) -> str:
        """Store a value computed from ``reads``; return its key."""
        key = self.key_of(ident, reads)
        self.store.put(key, value)
        self.store.put("r" + ident, tuple(sorted(reads)))
        return key


@dataclass
class _Unit:
    env: str
    namespace: str
    ident: str
    key: str | None = None
    files: list[Any] | None = None
    objects: list[Placed] | None = None
    ctx: NamespaceContext | None = None
    view: EnvNamespace | None = None  # what the environment renderers read of the unit
    view_digest: str | None = None  # its digest (None: a run without environment documents)


def view_digest(view: EnvNamespace) -> str | None:
    """A digest of what the environment renderers read of a namespace (``None``: it cannot be
    digested, and the environment is rendered). The namespace's configuration counts by its fields,
    not by what a renderer cached on it."""
    eff = view.effective
    state = tuple(getattr(eff, f.name) for f in fields(eff))
    return value_digest((view.env, view.namespace, view.target, state, view.deployments))


def render(
    repo: ConfigRepo,
    resolver: Resolver,
    selection: Selection,
    envs: Sequence[str],
    spaces: Sequence[str],
    by_namespace: dict[str, list[str]],
    progress: Callable[[int, int], None] | None,
    jobs: int,
    store: Cache,
    parallel_min: int,
    *,
    cached_only: bool = False,
    contexts: list[NamespaceContext] | None = None,
    lazy: bool = False,
) -> tuple[list[Any], list[Placed]] | None:
    """(files, objects) of the run as :func:`plan.render_run` computes them, reusing the cache;
    ``None`` when anything in the run has a problem (the caller renders cold and reports it).
    ``cached_only``: ``None`` as well when anything is not in the cache (nothing is rendered).
    ``contexts``: filled with every unit's context without its documents, in the order of a cold
    run (``None`` when one is not in the cache). ``lazy``: the files reused from the cache read their
    contents when first asked for (which raises :class:`ContentGone` if the cache no longer holds
    them); else they are read before this returns, and ``None`` is returned if they cannot be."""
    from generator.render import steps

    keys = RenderCache(store, repo, resolver, selection)
    if not _namespaces_apart(keys, repo, resolver, envs, cached_only):
        return None
    units = [
        _Unit(env, ns, keys.ident("unit", env, ns, tuple(by_namespace.get(ns, ())))) for env in envs for ns in spaces
    ]
    missed: list[int] = []
    for i, unit in enumerate(units):
        unit.key = keys.key(unit.ident)
        value = store.get(unit.key) if unit.key is not None else None
        if not (isinstance(value, tuple) and len(value) == 3) or unit.key is None:
            missed.append(i)
        else:
            stubs, unit.objects, unit.view_digest = value
            unit.files = _Contents(store, unit.key, stubs).files()
    if missed and cached_only:
        return None
    env_level = selection.namespace is None
    rendered = not missed or _render_missed(
        keys, resolver, selection, units, missed, by_namespace, jobs, parallel_min, env_level
    )
    if not rendered:
        return None
    files: list[Any] = []
    objects: list[Placed] = []
    done = 0
    for env in envs:
        env_units = [u for u in units if u.env == env]
        for unit in env_units:
            assert unit.files is not None and unit.objects is not None
            files.extend(unit.files)
            objects.extend(unit.objects)
            done += 1
            if progress is not None:
                progress(done, len(units))
        if not env_level:
            continue
        # keyed by what the renderers read of its namespaces and, like a unit, by any layer file they read
        digests = tuple(u.view_digest for u in env_units)
        ident = keys.ident("environment", env, digests) if None not in digests else None
        key = keys.key(ident) if ident is not None else None
        value = store.get(key) if key is not None else None
        if value is None and cached_only:
            return None
        if value is None:
            views = [_view(keys, u, resolver) for u in env_units]
            if any(v is None for v in views):
                return None
            problems: list[Any] = []
            env_objects: list[Placed] = []
            with repo.recording() as reads:
                found = steps.env_files(selection, env, [v for v in views if v is not None], problems, env_objects)
            if problems:
                return None
            value = (found, env_objects)
            if ident is not None:
                keys.put(ident, reads, value)
        files.extend(value[0])
        objects.extend(value[1])
    if not lazy and not contents_ready(files):
        return None
    if contexts is not None:
        for unit in units:
            ctx = _context(keys, unit, resolver)
            if ctx is None:
                return None
            contexts.append(steps.without_documents(ctx))
    return files, objects


def _namespaces_apart(
    keys: RenderCache, repo: ConfigRepo, resolver: Resolver, envs: Sequence[str], cached_only: bool = False
) -> bool:
    """Whether no two namespaces render into one Kubernetes namespace (cached like a unit;
    ``cached_only``: False when it is not in the cache)."""
    from generator.render import collisions

    ident = keys.ident("namespaces apart", tuple(envs))
    key = keys.key(ident)
    if key is not None and keys.store.get(key) is True:
        return True
    if cached_only:
        return False
    with repo.recording() as reads:
        problems = collisions.namespace_problems(repo, resolver, envs)
    if problems:
        return False
    keys.put(ident, reads, True)
    return True


def _stored(keys: RenderCache, prefix: str, unit: _Unit, resolver: Resolver) -> Any | None:
    """A unit's context (``"c"``) or view (``"v"``) as the cache holds it, with this process's resolver."""
    shipped = keys.store.get(prefix + str(unit.key))
    return None if shipped is None else parallel.restore_context(shipped, resolver)


def _context(keys: RenderCache, unit: _Unit, resolver: Resolver) -> NamespaceContext | None:
    if unit.ctx is None:
        unit.ctx = _stored(keys, "c", unit, resolver)
    return unit.ctx


def _view(keys: RenderCache, unit: _Unit, resolver: Resolver) -> EnvNamespace | None:
    if unit.view is None:
        unit.view = _stored(keys, "v", unit, resolver)
    return unit.view


def _put_unit(
    keys: RenderCache,
    ident: str,
    reads: dict[tuple[str, str], str],
    files: list[OutFile],
    objects: list[Placed],
    view: str | None,
) -> str:
    """Store a unit's documents: its files by path, digest and owner with its objects (what most
    renders read of a reused unit), and the files' contents apart (``"t"``), read only when a file must
    be written; return the unit's key."""
    keys.store.put("t" + keys.key_of(ident, reads), tuple(f.content for f in files))
    return keys.put(ident, reads, (tuple((f.path, f.sha256, f.owner) for f in files), objects, view))


class _Contents:
    """The files of a unit reused from the cache. Their contents are one entry, read when the first
    is asked for and checked against the digests the unit's entry gave: a content that is gone, or
    not the one the plan compared, is never written (:class:`ContentGone`), and the unit's entry is
    removed, so that the render that follows computes the unit again and stores it whole."""

    def __init__(self, store: Cache, key: str, stubs: tuple[tuple[str, str, Owner], ...]) -> None:
        self.store = store
        self.key = key
        self.stubs = stubs
        self.texts: tuple[str, ...] | None = None
        self.gone = False
        store.touch("t" + key)  # used with the unit's entry: pruned with it, not before it

    def files(self) -> list[OutFile]:
        load = self.text
        return [OutFile.stored(path, sha, owner, partial(load, i)) for i, (path, sha, owner) in enumerate(self.stubs)]

    def text(self, i: int) -> str:
        if self.texts is None:
            found = None if self.gone else self.store.get("t" + self.key)
            if not (
                isinstance(found, tuple)
                and len(found) == len(self.stubs)
                and all(
                    isinstance(text, str) and hashlib.sha256(text.encode()).hexdigest() == sha
                    for text, (_, sha, _) in zip(found, self.stubs, strict=True)
                )
            ):
                if not self.gone:
                    self.gone = True
                    self.store.forget(self.key)
                raise ContentGone(
                    f"the render cache {self.store.folder} no longer holds the content of {self.stubs[i][0]}, "
                    "which this run reused from it (another run sharing the cache removed or replaced it)",
                    hint="run gen again: it renders what the cache no longer holds",
                )
            self.texts = found
        return self.texts[i]


@dataclass(frozen=True)
class _Delta:
    """A unit's parts as a whole set an earlier render stored (``base``: its entry's key) and what
    changed since: the deployments and the shares per deployment that differ from the base's, and
    those that are gone; the namespace's own documents whole (text, cheap to store)."""

    base: str
    deployments: dict[str, parallel.Part]
    shares: dict[str, Mapping[str, Any]]
    gone: frozenset[str]  # deployments (and shares per deployment) of the base no longer in the unit
    made: Mapping[str, Any] | None = None  # None: the base's
    valid_templates: frozenset[str] | None = None


class _Parts:
    """The deployments of each unit as its last render computed them (stored under the unit's
    identity, not its key: they are what the unit's next render may reuse, each checked against the
    layer files it read, :func:`parallel.render_one`).

    After one deployment changed, storing a unit's parts whole again took most of the time the run's
    cache entries took to store (a unit's parts are a megabyte of configurations and documents).
    So they are stored whole once, as a base entry, and then as what changed since the base
    (:class:`_Delta`), until that is a quarter of the unit; then whole again."""

    def __init__(self, keys: RenderCache, idents: dict[tuple[str, str], str]) -> None:
        self.keys = keys
        self.idents = idents
        self._loaded: dict[tuple[str, str], parallel.UnitParts] = {}
        self._bases: dict[tuple[str, str], tuple[str, parallel.UnitParts]] = {}  # the base each was made of

    def previous(self, env: str, namespace: str) -> parallel.UnitParts:
        if (env, namespace) not in self._loaded:  # loaded once (before a fork, for the workers too)
            self._loaded[env, namespace] = self._load(env, namespace)
        return self._loaded[env, namespace]

    def _load(self, env: str, namespace: str) -> parallel.UnitParts:
        store = self.keys.store
        found = store.get("p" + self.idents[env, namespace])
        if not isinstance(found, _Delta):
            return parallel.UnitParts()
        base = store.get(found.base)
        if not isinstance(base, parallel.UnitParts):
            return parallel.UnitParts()
        self._bases[env, namespace] = (found.base, base)
        deployments = {n: p for n, p in base.deployments.items() if n not in found.gone}
        shares = {d: s for d, s in base.shares.items() if d not in found.gone}
        return parallel.UnitParts(
            {**deployments, **found.deployments},
            base.made if found.made is None else found.made,
            base.valid_templates if found.valid_templates is None else found.valid_templates,
            {**shares, **found.shares},
        )

    def stale(self, env: str, namespace: str, names: Sequence[str]) -> int:
        """How many of these deployments the unit's next render computes anew (the others it reuses)."""
        previous = self.previous(env, namespace).deployments
        repo = self.keys.repo
        try:
            return sum(1 for n in names if n not in previous or not repo.unchanged(previous[n].reads))
        except Exception:  # a bug: the render that follows meets it too, logs it and renders cold
            return len(names)

    def keep(self, env: str, namespace: str, parts: parallel.UnitParts) -> None:
        store, ident = self.keys.store, self.idents[env, namespace]
        based = self._bases.get((env, namespace))
        if based is not None:
            key, base = based
            deployments = {n: p for n, p in parts.deployments.items() if base.deployments.get(n) is not p}
            shares = {
                d: kept
                for d, kept in parts.shares.items()
                if kept.keys() != base.shares.get(d, {}).keys()
                or any(base.shares[d][tag] is not share for tag, share in kept.items())
            }
            gone = frozenset(base.deployments.keys() - parts.deployments.keys())
            gone |= frozenset(base.shares.keys() - parts.shares.keys())
            if 4 * (len(deployments) + len(gone)) <= max(len(parts.deployments), 4):
                store.touch(key)  # used with the unit's entry: pruned with it, not before it
                store.put("p" + ident, _Delta(key, deployments, shares, gone, parts.made, parts.valid_templates))
                return
        key = "P" + hashlib.sha256(f"{ident} {os.getpid()} {time.time_ns()}".encode()).hexdigest()
        store.put(key, parts)
        store.put("p" + ident, _Delta(key, {}, {}, frozenset()))
        self._bases[env, namespace] = (key, parts)


def _render_missed(
    keys: RenderCache,
    resolver: Resolver,
    selection: Selection,
    units: list[_Unit],
    missed: list[int],
    by_namespace: dict[str, list[str]],
    jobs: int,
    parallel_min: int,
    env_level: bool,
) -> bool:
    """Render the units not in the cache and store them: in workers when they have at least
    ``parallel_min`` deployments to compute (those a unit reuses from its last render cost nearly
    nothing, while every worker starts by loading the libraries and schemas the first one needs)."""
    from generator.render import steps

    pairs = [(units[i].env, units[i].namespace) for i in missed]
    parts = _Parts(keys, {(u.env, u.namespace): u.ident for u in units})
    results: list[parallel.UnitResult] | None = None
    work = sum(parts.stale(env, ns, by_namespace.get(ns, ())) for env, ns in pairs) if jobs > 1 else 0
    if work >= parallel_min and len(missed) > 1:
        results = parallel.render_units(resolver, selection, pairs, by_namespace, jobs, env_level, parts)
    if results is None:
        results = []
        for env, namespace in pairs:
            result = parallel.render_one(resolver, selection, env, namespace, by_namespace, parts)
            if result is None:
                return False
            results.append(result)
    for i, (unit_files, unit_objects, ctx, reads) in zip(missed, results, strict=True):
        unit = units[i]
        unit.files, unit.objects, unit.ctx = unit_files, unit_objects, ctx
        if env_level and ctx is not None:
            unit.view = steps.env_namespace(ctx)
            unit.view_digest = view_digest(unit.view)
        unit.key = _put_unit(keys, unit.ident, reads, unit_files, unit_objects, unit.view_digest)
        if unit.view is not None and ctx is not None:  # ctx: for mypy (a view is made from it)
            keys.store.put("c" + unit.key, parallel.strip_context(steps.without_documents(ctx), resolver))
            keys.store.put("v" + unit.key, parallel.strip_context(unit.view, resolver))
    return True


__all__ = ["RenderCache", "render"]
