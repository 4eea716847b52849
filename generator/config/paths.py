"""Key paths and locations: one parser for the dotted paths users write, and one rule for which file
and line a problem is blamed on, used by every stage (resolving, rendering, checking).

Paths are tuples of map keys and list indexes. Users write them dotted, with brackets for keys that
contain dots or for list items: ``spec.template.spec.kubernetes.pods.nodeSelector["node-pool.acme.io/name"]``,
``spec.template.spec.kubernetes.pods.envVars[0].name``. Below ``flinkConfiguration`` the rest of a
plain dotted path is one Flink option key (``...flinkConfiguration.state.backend.type``).

The blame rule: a value is blamed on the line that wrote it in the most recent layer that set it.
A map (or a value nobody wrote at that exact path) is blamed on the first line below it in the
highest layer that wrote something below it; a list item on its list's line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from generator.config.yamlload import Path_, dotted
from generator.errors import Problem

FLINK_CONF: Path_ = ("spec", "template", "spec", "flinkConfiguration")

#: Layers in merge order: a layer's label starts with one of these.
LAYER_RANK = ("baseline", "namespace", "profile", "environment", "deployment", "command line")


class PathError(ValueError):
    """A key path that cannot be parsed."""


_TOKEN = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def parse(text: str) -> Path_:
    """``a.b["c.d"][0].e`` -> ``("a", "b", "c.d", 0, "e")``; the rest of a plain dotted path below
    ``flinkConfiguration`` is one key."""
    text = text.strip()
    parts: list[str | int] = []
    pos = 0
    plain = True
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or (match.group(1) is not None and pos > 0 and not text.startswith(".", pos)):
            raise PathError(f"cannot read the key path {text!r} at character {pos + 1}")
        name, index, quoted = match.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(int(index))
            plain = False
        else:
            parts.append(json.loads(f'"{quoted}"'))
            plain = False
        pos = match.end()
    if not parts:
        raise PathError("an empty key path")
    n = len(FLINK_CONF)
    if plain and tuple(parts[:n]) == FLINK_CONF and len(parts) > n:
        return (*FLINK_CONF, ".".join(str(p) for p in parts[n:]))
    return tuple(parts)


def show(path: Path_) -> str:
    """The dotted form of a path, as messages print it."""
    return dotted(path)


class _Origin(Protocol):
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def col(self) -> int: ...
    @property
    def layer(self) -> str: ...


Provenance = Mapping[Path_, Sequence[_Origin]]


def _rank(origin: _Origin) -> int:
    return next((i for i, prefix in enumerate(LAYER_RANK) if origin.layer.startswith(prefix)), 0)


def blame(provenance: Provenance, path: Path_, layers: Sequence[str] = LAYER_RANK) -> _Origin | None:
    """The origin a problem at ``path`` is blamed on (only layers whose label starts with one of
    ``layers``), or None when no such layer wrote it or anything below or above it."""
    prefixes = tuple(layers)
    chain = provenance.get(path)
    if chain and chain[-1].layer.startswith(prefixes):
        return chain[-1]
    n = len(path)
    below = [c[-1] for key, c in provenance.items() if key[:n] == path and c and c[-1].layer.startswith(prefixes)]
    if not below:
        for end in range(n - 1, 0, -1):  # a list item, or a key nobody wrote: the nearest written ancestor
            chain = provenance.get(path[:end])
            if chain and chain[-1].layer.startswith(prefixes):
                return chain[-1]
        return None
    top = max(_rank(o) for o in below)
    return min((o for o in below if _rank(o) == top), key=lambda o: (o.file, o.line, o.col))


def problem(
    provenance: Provenance, path: Path_, message: str, hint: str = "", fallback: str = "<configuration>"
) -> Problem:
    """A problem at the line ``path`` is blamed on; ``fallback`` (a file, line 1) when nobody wrote it."""
    origin = blame(provenance, path)
    if origin is None:
        return Problem(fallback or "<configuration>", 1, 1, dotted(path), message, hint)
    return Problem(origin.file, origin.line, origin.col, dotted(path), message, hint)


def difference(a: object, b: object, path: Path_ = ()) -> Path_:
    """The path of the first value where ``a`` and ``b`` differ (``path`` itself when they differ
    as a whole), so a disagreement is blamed on the line that wrote the differing value."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted({*a, *b}, key=str):
            if a.get(key) != b.get(key):
                return difference(a.get(key), b.get(key), (*path, key))
    return path


def is_set(data: Mapping[str, Any], path: Path_) -> bool:
    """Whether ``path`` leads to a value in nested mappings ``data``."""
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True
