"""Which input line a changed output line comes from.

gen knows where every value of an effective configuration was written (its provenance). A line of a
rendered file such as ``parallelism: 4`` is traced to the input value of the same key and value
among the effective configurations its file is rendered from (the deployment's, or for a namespace's
or environment's files every configuration of that namespace or environment). When both sides of a
comparison are rendered from configurations (``gen diff --base``), only the input values that changed
between them are candidates, so the line is explained by the input line that changed; a value
rendered under another key (a renamed field) is then matched by its value alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from generator.config.effective import Effective
from generator.config.merge import DELETED, Origin
from generator.config.resolve import iter_leaves
from generator.config.yamlload import Path_, dotted
from generator.output import Owner

#: at most this many input lines are named for one output line
MAX_CAUSES = 3


@dataclass(frozen=True)
class Cause:
    """An input value behind a change: the key, where it is written, its value (before, with a base)."""

    key: str
    file: str
    line: int
    column: int
    value: Any
    old: Any = DELETED  # the value in the base configuration (DELETED: not set there, or no base)
    changed: bool = False  # the input itself changed between base and working tree

    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class _Leaf:
    path: Path_
    value: Any
    cause: Cause


def _text(value: Any) -> str:
    """A scalar as its YAML line reads, for comparing an input value with a rendered one."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_line(text: str) -> tuple[str | None, str] | None:
    """The key (None for a list item) and the scalar value of one line of rendered YAML, or None for
    a line that holds no scalar (a map's or list's key, a block, a comment)."""
    body = text.strip()
    while body.startswith("- "):
        body = body[2:].lstrip()
    if not body or body.startswith("#"):
        return None
    try:
        loaded = yaml.safe_load(body)
    except yaml.YAMLError:
        return None
    if isinstance(loaded, dict):
        if len(loaded) != 1:
            return None
        ((key, value),) = loaded.items()
        if isinstance(value, (dict, list)) or value is None or value == "":  # '' also: a block scalar's key
            return None
        return str(key), _text(value)
    if isinstance(loaded, (dict, list)) or loaded is None:
        return None
    return None, _text(loaded)


def _origin(eff: Effective, path: Path_) -> Origin | None:
    """The line that wrote the value at ``path`` (the blame rule)."""
    return eff.origin(path)


def _leaves(eff: Effective) -> dict[Path_, Any]:
    return {path: value for path, value in iter_leaves(eff.data) if not isinstance(value, (dict, list))}


def _unit(eff: Effective) -> tuple[str, str, str]:
    return eff.env, eff.namespace, eff.deployment


class Explainer:
    """Names the input line behind each changed line of a rendered file.

    ``new`` are the effective configurations the new files are rendered from; ``old`` those of the
    base (None when the old side is an output folder, whose inputs are unknown); ``old_file`` names
    a file of the base (:func:`generator.diff.source.revision_file`)."""

    def __init__(
        self,
        new: Sequence[Effective],
        old: Sequence[Effective] | None = None,
        old_file: Callable[[str], str] = str,
    ) -> None:
        self.based = old is not None
        self._units: dict[tuple[str, str, str], list[_Leaf]] = {}
        before = {_unit(eff): eff for eff in old or ()}
        for eff in new:
            unit = _unit(eff)
            if unit in self._units:
                continue
            leaves = _leaves(eff)
            previous = before.get(unit)
            found: list[_Leaf] = []
            if previous is None and self.based:
                continue  # a new deployment: its own file is the cause, named by the file's status
            old_leaves = _leaves(previous) if previous is not None else {}
            for path, value in leaves.items():
                old_value = old_leaves.get(path, DELETED)
                if self.based and old_value == value:
                    continue
                origin = _origin(eff, path)
                if origin is None:
                    continue
                cause = Cause(dotted(path), origin.file, origin.line, origin.col, value, old_value, self.based)
                found.append(_Leaf(path, value, cause))
            if previous is not None:
                for path, old_value in old_leaves.items():
                    if path in leaves:
                        continue
                    origin = _origin(previous, path)
                    if origin is not None:
                        file = old_file(origin.file)
                        cause = Cause(dotted(path), file, origin.line, origin.col, DELETED, old_value, True)
                        found.append(_Leaf(path, DELETED, cause))
            self._units[unit] = found

    def _candidates(self, owner: Owner) -> Iterable[_Leaf]:
        for (env, namespace, deployment), leaves in self._units.items():
            if env != owner.env:
                continue
            if owner.namespace and namespace != owner.namespace:
                continue
            if owner.deployment and deployment != owner.deployment:
                continue
            yield from leaves

    def line(self, owner: Owner, text: str, removed: Sequence[str] = ()) -> list[Cause]:
        """The input lines behind one added line of a file ``owner`` owns (by file and line).

        ``removed`` are the lines the hunk removes: with a base, a line whose key is not the input's
        (``replicas`` from ``numberOfTaskManagers``) is traced to a changed input when the hunk
        replaces that key's old value by the new one: both values must match."""
        parsed = parse_line(text)
        if parsed is None:
            return []
        key, value = parsed
        candidates = [leaf for leaf in self._candidates(owner) if leaf.value is not DELETED]
        by_key = [
            leaf
            for leaf in candidates
            if _text(leaf.value) == value and (isinstance(leaf.path[-1], int) if key is None else leaf.path[-1] == key)
        ]
        if not by_key and self.based:
            before = {parse_line(line) for line in removed}
            by_key = [
                leaf
                for leaf in candidates
                if _text(leaf.value) == value
                and leaf.cause.old is not DELETED
                and (key, _text(leaf.cause.old)) in before
            ]
        return _distinct(leaf.cause for leaf in by_key)

    def file(self, owner: Owner) -> list[Cause]:
        """Every changed input of a file (with a base only): for a file none of whose lines was traced."""
        if not self.based:
            return []
        return _distinct((leaf.cause for leaf in self._candidates(owner)), limit=0)


def _distinct(causes: Iterable[Cause], limit: int = MAX_CAUSES) -> list[Cause]:
    seen: dict[tuple[str, int], Cause] = {}
    for cause in causes:
        seen.setdefault((cause.file, cause.line), cause)
    ordered = sorted(seen.values(), key=lambda c: (c.file, c.line))
    return ordered[:limit] if limit else ordered
