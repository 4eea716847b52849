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

from collections.abc import Mapping, Sequence
from dataclasses import replace

from generator import kinds, model
from generator.config.resolve import Effective, Resolver, name_set_problems
from generator.digest import value_digest
from generator.errors import InputError, Problem, RenderError
from generator.model.keys import SERVICE_ACCOUNTS
from generator.output import OutFile, Owner, dump_yaml
from generator.render import collisions, delivery, kubernetes, own, pods
from generator.render import target as targets
from generator.render.collisions import Placed
from generator.render.context import DeploymentView, Doc, EnvContext, EnvNamespace, NamespaceContext
from generator.render.selection import Selection

# validated files by the digest of the document that made them (:func:`_made_key`): an incremental
# render passes what the last render of a namespace made, so an unchanged document is neither
# validated nor serialised again (the digest covers everything validation and serialisation read)
Made = dict[str, tuple[OutFile, Placed | None]]


def _made_key(prefix: str, doc: Doc, owner: Owner) -> str | None:
    """A digest of the document with where it goes: the same keys, values and types, in the same
    order (``None`` for something a renderer made that cannot be digested: validated as it is)."""
    return value_digest((prefix, owner, doc.file, doc.kind_key, doc.content))


def _out_file(
    prefix: str,
    doc: Doc,
    owner: Owner,
    where: str,
    objects: list[Placed],
    before: Mapping[str, tuple[OutFile, Placed | None]] | None = None,
    made: Made | None = None,
) -> OutFile:
    """Validate a document as its output kind says and make it a file; note the object it is.
    With ``made``, note the file by the document's digest; with ``before``, reuse the file made
    from an equal document."""
    key = _made_key(prefix, doc, owner) if made is not None else None
    if key is not None and before is not None and key in before:
        out, identity = before[key]
    else:
        kind = kinds.of(doc.content, doc.kind_key)
        name = doc.file or kind.file_name(doc.content)
        found = kind.validate(doc.content)
        if found:
            named = doc.content.get("metadata", {}).get("name", "?")
            what = f"{doc.content.get('kind')} {named}" if kind.kind else name
            raise RenderError(f"rendered {what} ({where}) failed validation: {'; '.join(found[:5])}")
        path = f"{prefix}/{name}"
        identity = collisions.placed(doc.content, kind, owner.env, path, owner)
        out = OutFile(path, dump_yaml(doc.content), owner)
    if identity is not None:
        objects.append(identity)
    if key is not None and made is not None:
        made[key] = (out, identity)
    return out


def _listed(doc: Doc) -> bool:
    """A document the namespace's kustomization lists (the same rule as the kustomization's)."""
    return kinds.of(doc.content, doc.kind_key).listed


def namespace_files(
    selection: Selection, ctx: NamespaceContext, problems: list[Problem], objects: list[Placed] | None = None
) -> list[OutFile]:
    """The validated files of one namespace in one environment: its deployments' documents, then the
    namespace's own. Input problems of namespace renderers go to ``problems``, the objects rendered
    to ``objects``."""
    objects = [] if objects is None else objects
    files: list[OutFile] = []
    for eff in ctx.deployments:
        files.extend(deployment_files(selection, ctx.env, eff, ctx.documents[eff.deployment], objects))
    return files + namespace_own_files(selection, ctx, problems, objects)


def deployment_files(
    selection: Selection, env: str, eff: Effective, docs: Sequence[Doc], objects: list[Placed]
) -> list[OutFile]:
    """The validated files of one deployment's documents (noting their objects in ``objects``).

    Of a deployment the selection leaves out, the documents the kustomization lists are rendered too:
    the kustomization lists every deployment's, and a folder must hold every file its kustomization
    lists, whatever the selection (kustomize applies the folder as a whole)."""
    prefix = f"{env}/{eff.namespace}"
    selected = selection.wants(eff)
    owner = Owner(env, eff.namespace, eff.deployment, eff.profile)
    where = f"{prefix}/{eff.deployment}"
    return [_out_file(prefix, doc, owner, where, objects) for doc in docs if selected or _listed(doc)]


def namespace_own_files(
    selection: Selection,
    ctx: NamespaceContext,
    problems: list[Problem],
    objects: list[Placed],
    before: Mapping[str, tuple[OutFile, Placed | None]] | None = None,
    made: Made | None = None,
) -> list[OutFile]:
    """The validated files of the namespace's own documents (its target's, the Kubernetes objects
    around the jobs, its own resources, the kustomization); ``before`` and ``made`` as
    :func:`_out_file` takes them."""
    namespace_docs: list[Doc] = []
    for render_ns in (targets.get(ctx.target).namespace_docs, kubernetes.namespace_docs, own.namespace_docs):
        try:
            ns_docs = render_ns(ctx)
        except InputError as exc:
            problems.extend(name_set_problems(exc.problems, f"namespace {ctx.namespace}"))
            continue
        namespace_docs.extend(ns_docs)
    if not problems:
        namespace_docs.extend(kubernetes.kustomization(ctx, tuple(namespace_docs)))
    prefix = f"{ctx.env}/{ctx.namespace}"
    owner = Owner(ctx.env, ctx.namespace)
    return [_out_file(prefix, doc, owner, prefix, objects, before, made) for doc in namespace_docs]


def env_files(
    selection: Selection,
    env: str,
    env_namespaces: Sequence[EnvNamespace],
    problems: list[Problem],
    objects: list[Placed] | None = None,
) -> list[OutFile]:
    """The validated files of one environment's renderers (Helm values), per target, then its GitOps
    wiring (:mod:`generator.render.delivery`).

    The renderers get each namespace's configuration and a view of each deployment
    (:func:`env_namespace`), nothing more: an incremental render keys their documents by those."""
    objects = [] if objects is None else objects
    files: list[OutFile] = []
    rendered: list[Doc] = []
    names = sorted({c.target for c in env_namespaces}) or [selection.target or "vvp"]
    for target in names:
        env_ctx = EnvContext(env, tuple(c for c in env_namespaces if c.target == target))
        try:
            env_docs = targets.get(target).environment_docs(env_ctx)
        except InputError as exc:
            problems.extend(name_set_problems(exc.problems, f"environment {env}"))
            continue
        rendered.extend(env_docs)
    try:
        rendered.extend(delivery.environment_docs(env, env_namespaces, rendered))
    except InputError as exc:
        problems.extend(name_set_problems(exc.problems, f"environment {env}"))
    for doc in rendered:
        files.append(_out_file(env, doc, Owner(env, ""), env, objects))
    return files


def deployment_view(eff: Effective) -> DeploymentView:
    """What the environment renderers read of a deployment (:class:`DeploymentView`)."""
    m = model.of(eff)
    return DeploymentView(
        eff.deployment,
        m.kubernetes_namespace,
        bool(m.session),
        m.artifact.jar_scheme,
        pods.service_account(eff, "jobmanager"),
        eff.located(_JOBMANAGER_ACCOUNT),  # as the operator's problem_at locates it
    )


_JOBMANAGER_ACCOUNT = (*SERVICE_ACCOUNTS, "jobmanager")


def env_namespace(ctx: NamespaceContext) -> EnvNamespace:
    """The namespace as the environment renderers see it."""
    views = tuple(deployment_view(eff) for eff in ctx.deployments)
    return EnvNamespace(ctx.env, ctx.namespace, ctx.target, ctx.effective, views, ctx.resolver)


def without_documents(ctx: NamespaceContext) -> NamespaceContext:
    """The context without its rendered documents (what a caller reading configurations needs)."""
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
        try:
            documents[eff.deployment] = deployment_documents(selection, eff)
        except InputError as exc:  # a target's own rules: report every deployment's problems at once
            problems.extend(exc.problems)
            documents[eff.deployment] = ()
    if problems:
        raise InputError(problems)
    return NamespaceContext(env, namespace, ns_target, ns_eff, tuple(effs), documents, resolver)


def deployment_documents(selection: Selection, eff: Effective) -> tuple[Doc, ...]:
    """The documents of one deployment, rendered by its target."""
    try:
        return tuple(targets.get(selection.target or eff.target).deployment_docs(eff))
    except InputError as exc:
        raise InputError(name_set_problems(exc.problems, f"deployment {eff.namespace}/{eff.deployment}")) from None
