"""The one registry of output kinds: every kind of document gen writes is declared here, once.

A kind says how a document of that kind is validated before it is written, which file it goes
to (relative to its owner's folder), whether the namespace's ``kustomization.yaml`` lists it, and
which level of the render owns it (a deployment, a namespace, an environment). Kubernetes objects
and VVP resources are recognised by ``apiVersion`` and ``kind``; files that are not objects (Helm
values, the kustomization) name their kind on the document (:attr:`generator.render.context.Doc.kind`).

Adding a kind is one :func:`register` call (plus its schema or validator); a document whose kind
is not registered is a clear error, never a ``KeyError``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from generator.errors import RenderError

Validator = Callable[[Mapping[str, Any]], list[str]]


class Owner(StrEnum):
    DEPLOYMENT = "deployment"
    NAMESPACE = "namespace"
    ENVIRONMENT = "environment"


@dataclass(frozen=True)
class Kind:
    """One kind of output document.

    ``key`` names the kind in the registry: ``"<apiVersion> <kind>"`` for objects, a free name for
    files that are not objects. ``validator`` is ``"module:function"`` (imported on first use, so
    ``gen --help`` stays fast) returning problem lines. ``folder`` prefixes the default file name
    ``<kind>-<name>.yaml``; ``file`` replaces it."""

    key: str
    validator: str
    owner: Owner
    listed: bool  # listed in the namespace folder's kustomization.yaml
    folder: str = ""
    file: str | None = None
    api_version: str | None = None
    kind: str | None = None

    def validate(self, content: Mapping[str, Any]) -> list[str]:
        return _function(self.validator)(content)

    def file_name(self, content: Mapping[str, Any]) -> str:
        if self.file is not None:
            return f"{self.folder}{self.file}"
        return f"{self.folder}{str(content['kind']).lower()}-{content['metadata']['name']}.yaml"


_KINDS: dict[str, Kind] = {}
_FUNCTIONS: dict[str, Validator] = {}


def _function(name: str) -> Validator:
    fn = _FUNCTIONS.get(name)
    if fn is None:
        module, _, attr = name.partition(":")
        fn = getattr(importlib.import_module(module), attr)
        _FUNCTIONS[name] = fn
    return fn


def object_key(api_version: str, kind: str) -> str:
    return f"{api_version} {kind}"


def register(kind: Kind) -> Kind:
    """Declare a kind (objects: ``api_version`` and ``kind`` set, ``key`` derived from them)."""
    if (kind.api_version is None) != (kind.kind is None):
        raise ValueError(f"output kind {kind.key}: set both api_version and kind, or neither")
    if kind.api_version is not None and kind.kind is not None and kind.key != object_key(kind.api_version, kind.kind):
        raise ValueError(f"output kind {kind.key}: the key of an object kind is '<apiVersion> <kind>'")
    existing = _KINDS.get(kind.key)
    if existing is not None and existing != kind:
        raise ValueError(f"output kind {kind.key} is registered twice, differently")
    _KINDS[kind.key] = kind
    return kind


def unregister(key: str) -> None:
    """Remove a kind (for tests that register throw-away kinds)."""
    _KINDS.pop(key, None)


def object_kind(
    api_version: str,
    kind: str,
    validator: str,
    owner: Owner,
    *,
    listed: bool = True,
    folder: str = "",
    file: str | None = None,
) -> Kind:
    return register(
        Kind(object_key(api_version, kind), validator, owner, listed, folder, file, api_version, kind)
    )


def file_kind(key: str, validator: str, owner: Owner, file: str, *, listed: bool = False) -> Kind:
    return register(Kind(key, validator, owner, listed, "", file))


def of(content: Mapping[str, Any], kind: str | None = None) -> Kind:
    """The registered kind of a document: ``kind`` when the document names it, else its
    ``apiVersion`` and ``kind``."""
    _builtin()
    key = kind if kind is not None else object_key(str(content.get("apiVersion", "")), str(content.get("kind", "")))
    found = _KINDS.get(key)
    if found is None:
        raise RenderError(
            f"no output kind is registered for {key!r}: every kind gen writes is declared once in generator.kinds "
            "(docs/architecture.md, 'Where to add an output kind')"
        )
    return found


def registered() -> dict[str, Kind]:
    _builtin()
    return dict(_KINDS)


_loaded = False


def _builtin() -> None:
    """Register the built-in kinds on first use (their module imports nothing heavy)."""
    global _loaded
    if not _loaded:
        _loaded = True
        importlib.import_module("generator.builtin_kinds")
