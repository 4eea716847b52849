"""One namespace of one environment, rendered: the steps a sequential and a parallel render share.

Every deployment of the namespace is resolved and rendered by its target
(:mod:`generator.render.target`): each deployment's documents, then the namespace's (the target's own
and the Kubernetes objects around the jobs, :mod:`generator.render.kubernetes`), then the
environment's. Every document is validated as its output kind says (:mod:`generator.kinds`) before it
becomes an output file, and notes the object it is (:mod:`generator.render.collisions`).

A selection (``--deployment``, ``--profile``) writes the selected deployments' documents and, of the
others, those the namespace's kustomization lists: a namespace folder a render touches always holds
every file its kustomization lists. ``--set`` reaches only the selected deployments
(:meth:`Selection.resolver`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from generator import kinds
from generator.config.layers import ConfigRepo
from generator.config.resolve import Effective, Resolver, name_set_problems
from generator.errors import InputError, Problem, RenderError
from generator.output import OutFile, Owner, Scope, dump_yaml
from generator.render import collisions, delivery, kubernetes, own
from generator.render import target as targets
from generator.render.collisions import Placed
from generator.render.context import Doc, EnvContext, NamespaceContext


@dataclass(frozen=True)
class Selection:
    env: str | None = None
    profile: str | None = None
    namespace: str | None = None
    deployment: str | None = None
    target: str | None = None  # overrides platform.target

    def resolver(self, resolver: Resolver) -> Resolver:
        """``resolver`` with ``--set`` applied only to what this selection renders."""
        return resolver.for_selection(self.namespace, self.profile, self.deployment)

    def scope(self, repo: ConfigRepo, files: Sequence[OutFile] = ()) -> Scope:
        """What the run may replace and remove; ``files`` (what it renders) name the namespace
        folders whose kustomization it wrote, all of whose direct files it answers for."""
        folders = frozenset(f.path.rpartition("/")[0] for f in files if f.path.endswith("/kustomization.yaml"))
        existing = frozenset(repo.deployments())
        return Scope(self.env, self.namespace, self.profile, self.deployment, existing, folders)

    def wants(self, unit: Effective) -> bool:
        return (self.profile is None or unit.profile == self.profile) and (
            self.deployment is None or unit.deployment == self.deployment
        )


def _out_file(prefix: str, doc: Doc, owner: Owner, where: str, objects: list[Placed]) -> OutFile:
    """Validate a document as its output kind says and make it a file; note the object it is."""
    kind = kinds.of(doc.content, doc.kind_key)
    name = doc.file or kind.file_name(doc.content)
    found = kind.validate(doc.content)
    if found:
        what = f"{doc.content.get('kind')} {doc.content.get('metadata', {}).get('name', '?')}" if kind.kind else name
        raise RenderError(f"rendered {what} ({where}) failed validation: {'; '.join(found[:5])}")
    path = f"{prefix}/{name}"
    identity = collisions.placed(doc.content, kind, owner.env, path, owner)
    if identity is not None:
        objects.append(identity)
    return OutFile(path, dump_yaml(doc.content), owner)


def _listed(doc: Doc) -> bool:
    """A document the namespace's kustomization lists (the same rule as the kustomization's)."""
    return kinds.of(doc.content, doc.kind_key).listed


def namespace_files(
    selection: Selection, ctx: NamespaceContext, problems: list[Problem], objects: list[Placed] | None = None
) -> list[OutFile]:
    """The validated files of one namespace in one environment: its deployments' documents, then the
    namespace's own. Input problems of namespace renderers go to ``problems``, the objects rendered
    to ``objects``.

    Of a deployment the selection leaves out, the documents the kustomization lists are rendered too:
    the kustomization lists every deployment's, and a folder must hold every file its kustomization
    lists, whatever the selection (kustomize applies the folder as a whole)."""
    env, namespace = ctx.env, ctx.namespace
    objects = [] if objects is None else objects
    files: list[OutFile] = []
    prefix = f"{env}/{namespace}"
    for eff in ctx.deployments:
        selected = selection.wants(eff)
        owner = Owner(env, namespace, eff.deployment, eff.profile)
        for doc in ctx.documents[eff.deployment]:
            if selected or _listed(doc):
                files.append(_out_file(prefix, doc, owner, f"{prefix}/{eff.deployment}", objects))
    namespace_docs: list[Doc] = []
    for render_ns in (targets.get(ctx.target).namespace_docs, kubernetes.namespace_docs, own.namespace_docs):
        try:
            ns_docs = render_ns(ctx)
        except InputError as exc:
            problems.extend(name_set_problems(exc.problems, f"namespace {namespace}"))
            continue
        namespace_docs.extend(ns_docs)
    if not problems:
        namespace_docs.extend(kubernetes.kustomization(ctx, tuple(namespace_docs)))
    for doc in namespace_docs:
        files.append(_out_file(prefix, doc, Owner(env, namespace), prefix, objects))
    return files


def env_files(
    selection: Selection,
    env: str,
    env_contexts: Sequence[NamespaceContext],
    problems: list[Problem],
    objects: list[Placed] | None = None,
) -> list[OutFile]:
    """The validated files of one environment's renderers (Helm values), per target, then its GitOps
    wiring (:mod:`generator.render.delivery`).

    The renderers get the namespace contexts without their documents: they read configurations, and
    an incremental render keeps no more of the namespaces it reuses (:mod:`generator.render.incremental`)."""
    objects = [] if objects is None else objects
    files: list[OutFile] = []
    rendered: list[Doc] = []
    names = sorted({c.target for c in env_contexts}) or [selection.target or "vvp"]
    for target in names:
        env_ctx = EnvContext(env, tuple(without_documents(c) for c in env_contexts if c.target == target))
        try:
            env_docs = targets.get(target).environment_docs(env_ctx)
        except InputError as exc:
            problems.extend(name_set_problems(exc.problems, f"environment {env}"))
            continue
        rendered.extend(env_docs)
    try:
        rendered.extend(delivery.environment_docs(env, env_contexts, rendered))
    except InputError as exc:
        problems.extend(name_set_problems(exc.problems, f"environment {env}"))
    for doc in rendered:
        files.append(_out_file(env, doc, Owner(env, ""), env, objects))
    return files


def without_documents(ctx: NamespaceContext) -> NamespaceContext:
    """The context as environment renderers see it: configurations, no rendered documents."""
    return replace(ctx, documents={}) if ctx.documents else ctx


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
            problems.extend(name_set_problems(exc.problems, f"deployment {namespace}/{eff.deployment}"))
        documents[eff.deployment] = tuple(docs)
    if problems:
        raise InputError(problems)
    return NamespaceContext(env, namespace, ns_target, ns_eff, tuple(effs), documents, resolver)
