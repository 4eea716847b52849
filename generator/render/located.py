"""Input problems found while rendering, located in the layer file that set (or should set) a value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from generator.config import paths
from generator.config.merge import Origin
from generator.config.resolve import Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem


def layer_file(eff: Effective, label: str) -> str | None:
    return eff.layer_file(label)


def fallback_file(eff: Effective) -> str:
    """Where a missing setting belongs (:meth:`Effective.home_file`)."""
    return eff.home_file()


def origin_of(eff: Effective, path: Path_, layers: Sequence[str] = paths.LAYER_RANK) -> Origin | None:
    """Where the value at ``path`` comes from, by the blame rule (:func:`generator.config.paths.blame`)."""
    found = paths.blame(eff.provenance, path, layers)
    return found if isinstance(found, Origin) else None


def _problem(origin: Origin | None, eff: Effective, key: str, message: str, hint: str) -> Problem:
    if origin is None:
        return Problem(fallback_file(eff), 1, 1, key, message, hint)
    return Problem(origin.file, origin.line, origin.col, key, message, hint)


def problem_at(eff: Effective, path: Path_, message: str, hint: str = "", *, near: Path_ | None = None) -> Problem:
    """A problem at the line that set ``path``. A value nobody set is reported where a related value
    is set (``near``), else at the top of the file it belongs in."""
    origin = origin_of(eff, path) if eff.get(path) is not None else None
    if origin is None and near is not None and eff.get(near) is not None:
        origin = origin_of(eff, near)
    return _problem(origin, eff, dotted(path), message, hint)


def problem_in_layers(eff: Effective, path: Path_, layers: Sequence[str], message: str, hint: str = "") -> Problem:
    """A problem at the line below ``path`` that one of ``layers`` set (e.g. a deployment overriding a
    namespace-wide setting)."""
    return _problem(origin_of(eff, path, layers), eff, dotted(path), message, hint)


def problem_at_item(
    eff: Effective, list_path: Path_, name: str, sub_path: Path_, message: str, hint: str = ""
) -> Problem:
    """A problem in the item called ``name`` of a list merged by name: located at the list of the most
    recent layer that wrote that item, keyed by the item's index in that layer."""
    for origin in reversed(eff.provenance.get(list_path, ())):
        items: Any = origin.value
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if isinstance(item, Mapping) and item.get("name") == name:
                return _problem(origin, eff, dotted((*list_path, index, *sub_path)), message, hint)
    return _problem(origin_of(eff, list_path), eff, dotted((*list_path, *sub_path)), message, hint)
