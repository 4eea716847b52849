"""Checking one rendered document as its registered output kind says (:mod:`generator.kinds`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator import kinds
from generator.errors import RenderError


def is_vvp_rest(doc: Mapping[str, Any]) -> bool:
    """VVP REST resources (apiVersion v1, VVP kinds) are not Kubernetes objects."""
    kind = kinds.registered().get(kinds.object_key(str(doc.get("apiVersion", "")), str(doc.get("kind", ""))))
    return kind is not None and kind.folder == "vvp/"


def problems(doc: Mapping[str, Any]) -> list[str]:
    """Schema violations of one rendered object, as ``path: message`` lines (an object of a kind
    that is not registered is an error)."""
    return kinds.of(doc).validate(doc)


def check(doc: Mapping[str, Any], where: str) -> None:
    found = problems(doc)
    if found:
        name = doc.get("metadata", {}).get("name", "?")
        lines = "; ".join(found[:5])
        raise RenderError(f"rendered {doc.get('kind')} {name} ({where}) failed validation: {lines}")
