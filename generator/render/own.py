"""Your own Kubernetes objects, written beside gen's into a namespace's folder.

The objects of ``resources/<namespace>/`` (read by :mod:`generator.config.resources`) go to
``<env>/<namespace>/resources/<kind>-<name>.yaml``, are listed in the namespace's kustomization,
owned by the namespace in ``gen-index.json`` and checked like gen's own objects, each problem
located at its line:

- a built-in Kubernetes kind against the strict Kubernetes OpenAPI schemas of every supported
  version; a kind gen renders itself (a PodMonitor, ...) with that kind's own validator;
- a kind gen has no schema for (a custom resource) is refused, unless the namespace's
  ``platform.ownResources.uncheckedKinds`` lists it: then only its apiVersion, kind and metadata
  are checked;
- ``metadata.namespace`` is the namespace's Kubernetes namespace (set when the file has none);
- no credentials: a ``Secret`` with ``data`` or ``stringData`` is refused (it would put the
  credential into the repository and the output), as is any value that looks like a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from generator import credentials, kinds
from generator.config import paths
from generator.config.resources import FOLDER, OwnResource, own_resources
from generator.config.yamlload import Path_, dotted
from generator.errors import InputError, Problem
from generator.render.context import Doc, NamespaceContext
from generator.validate import kubernetes

UNCHECKED_KINDS: Path_ = ("platform", "ownResources", "uncheckedKinds")
_KUBERNETES = "generator.validate.kubernetes:problems"
_UNCHECKED = "generator.render.own:metadata_problems"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_UNEXPECTED = re.compile(r"Additional properties are not allowed \('([^']+)' was unexpected\)(?: \(Kubernetes .*\))?")
# kinds this module registered for objects of resources/ (not kinds gen renders itself)
_registered: set[str] = set()


def metadata_problems(doc: Mapping[str, Any]) -> list[str]:
    """What gen checks of an object of a kind it has no schema for: its apiVersion, kind and name."""
    found = []
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or len(name) > 253 or not _NAME.match(name):
        found.append("metadata.name: is not a valid object name (lower case letters, digits, '-', '.')")
    return found


def _problem(res: OwnResource, path: Path_, message: str, hint: str = "") -> Problem:
    mark = res.doc.mark(path)
    return Problem(mark.file, mark.line, mark.col, dotted(path), message, hint)


def _located(res: OwnResource, line: str) -> Problem:
    """A validator's ``path: message`` line, at the line of the file that wrote the path."""
    where, _, message = line.partition(": ")
    try:
        path = () if where == "(root)" else paths.parse(where.split(" ")[0])
    except paths.PathError:
        path = ()
    unexpected = _UNEXPECTED.fullmatch(message)
    if unexpected:  # a misspelt or unknown field: at its own line
        return _problem(res, (*path, unexpected.group(1)), "unknown field (the schema of this kind has no such field)")
    return _problem(res, path, message or line)


def _leaves(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    elif isinstance(value, str):
        yield path, value


def _credentials(res: OwnResource, content: Mapping[str, Any]) -> list[Problem]:
    problems = []
    secret = content.get("apiVersion") == "v1" and content.get("kind") == "Secret"
    if secret:
        for key in ("data", "stringData"):
            if content.get(key):
                problems.append(
                    _problem(
                        res,
                        (key,),
                        "a Secret with data puts a credential into the repository and the rendered output",
                        "let the cluster create it from your secret store: an ExternalSecret (external-secrets.io) "
                        "or a SealedSecret in resources/ instead",
                    )
                )
    for path, text in _leaves(content):
        key = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
        found = credentials.finding(key, text)
        if found is not None and not (secret and path[:1] in (("data",), ("stringData",))):  # refused above
            problems.append(_problem(res, path, f"looks like a credential written as text: {found}"))
    return problems


def _kind(res: OwnResource, content: Mapping[str, Any], accepted: list[str]) -> tuple[kinds.Kind | None, list[Problem]]:
    """The output kind of an object: gen's own kind, or one registered for resources/."""
    api, kind = str(content["apiVersion"]), str(content["kind"])
    key = kinds.object_key(api, kind)
    found = kinds.registered().get(key)
    if found is not None and key not in _registered:
        if not found.listed:
            return None, [_problem(res, ("kind",), f"{key} is a Ververica Platform resource, not a Kubernetes object")]
        return found, []
    if kubernetes.is_builtin(content):
        validator = _KUBERNETES
    elif key in accepted:
        validator = _UNCHECKED
    else:
        hint = (
            f"accept it with only its metadata checked: list '{key}' in platform.ownResources.uncheckedKinds "
            "(e.g. in the namespace's file; docs/layers.md)"
        )
        return None, [_problem(res, ("kind",), f"gen has no schema for {key} and cannot check it", hint)]
    _registered.add(key)
    return kinds.object_kind(api, kind, validator, kinds.Owner.NAMESPACE, folder=f"{FOLDER}/"), []


def _doc(res: OwnResource, ctx: NamespaceContext, accepted: list[str]) -> tuple[Doc | None, list[Problem]]:
    content = res.doc.data
    if not isinstance(content, dict):
        return None, [_problem(res, (), "a file of resources/ holds one Kubernetes object (a map)")]
    missing = [key for key in ("apiVersion", "kind") if not isinstance(content.get(key), str) or not content[key]]
    metadata = content.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        missing.append("metadata.name")
    if missing:
        return None, [_problem(res, (), f"missing {', '.join(missing)}: every object names its kind and name")]
    assert isinstance(metadata, dict)
    namespace = ctx.effective.kubernetes_namespace
    if metadata.get("namespace", namespace) != namespace:
        message = f"the object is in namespace '{metadata['namespace']}', but this folder renders into '{namespace}'"
        hint = "leave metadata.namespace out (gen sets it), or move the file to the folder of that namespace"
        return None, [_problem(res, ("metadata", "namespace"), message, hint)]
    content = {**content, "metadata": {**metadata, "namespace": namespace}}
    problems = _credentials(res, content)
    kind, found = _kind(res, content, accepted)
    problems += found
    if kind is not None and not problems:
        problems += [_located(res, line) for line in kind.validate(content)]
    if problems:
        return None, problems
    file = f"{FOLDER}/{str(content['kind']).lower()}-{metadata['name']}.yaml"
    return Doc(content, file=file), []


def namespace_docs(ctx: NamespaceContext) -> list[Doc]:
    """The objects of ``resources/<namespace>/`` for this environment, checked, as documents."""
    if ctx.resolver is None:
        return []
    found = own_resources(ctx.resolver.repo, ctx.namespace, ctx.env)
    if not found:
        return []
    listed = ctx.effective.get(UNCHECKED_KINDS) or []
    accepted = [str(item) for item in listed]
    docs: list[Doc] = []
    problems: list[Problem] = []
    for res in found:
        doc, found_problems = _doc(res, ctx, accepted)
        problems.extend(found_problems)
        if doc is not None:
            docs.append(doc)
    if problems:
        raise InputError(problems)
    return docs
