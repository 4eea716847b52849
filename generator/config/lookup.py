"""Finding the key a user asks about in an effective configuration (``gen explain``).

A key is found by its full path; else, when it is the end of exactly one path (``parallelism``,
``nodeSelector["node-pool.acme.io/name"]``), by that path. A key that is not there gets the closest
key as a suggestion. The value of a map is explained key by key, each with its own chain; a
templated value names the inputs its template read.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.meta

from generator.config.effective import Effective
from generator.config.layers import FLINK_CONF
from generator.config.merge import DELETED, Origin
from generator.config.resolve import explain_chain
from generator.config.yamlload import Path_, dotted
from generator.errors import UsageError

#: the variables a template in a value may use besides ``platform``, and what each is
TEMPLATE_VARIABLES = {"env": "the environment, --env", "namespace": "the namespace, its file name"}


@dataclass(frozen=True)
class Read:
    """One input a templated value's template read."""

    key: str
    value: Any
    origin: Origin | None  # where it was written; None for env and namespace
    what: str = ""  # for env and namespace: what the variable is


@dataclass(frozen=True)
class Explained:
    path: Path_
    value: Any  # DELETED when not set
    chain: tuple[Origin, ...]  # most recent first
    reads: tuple[Read, ...] = ()
    keys: tuple[Explained, ...] = ()  # a map's keys, each with its own chain


def known(eff: Effective, path: Path_) -> bool:
    value, chain = explain_chain(eff, path)
    return value is not DELETED or bool(chain)


def _paths(eff: Effective) -> set[Path_]:
    """Every path the effective configuration has or a layer wrote (maps included)."""
    found: set[Path_] = set()

    def walk(node: Any, path: Path_) -> None:
        if path:
            found.add(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))

    walk(eff.data, ())
    for path in eff.provenance:
        found.update(path[:end] for end in range(1, len(path) + 1))
    return found


def find(eff: Effective, path: Path_, shown: str) -> tuple[Path_, str]:
    """The path of ``path`` in ``eff`` and a note on how it was read ('' when it is the full path)."""
    if known(eff, path):
        return path, ""
    for end in range(len(path) - 1, 0, -1):  # a key that holds dots, written without brackets
        if all(isinstance(part, str) for part in path[end:]):
            joined = (*path[:end], ".".join(str(part) for part in path[end:]))
            if known(eff, joined):
                return joined, f"'{shown}' is {bracketed(joined)}"
    paths = _paths(eff)
    n = len(path)
    ends = sorted((p for p in paths if len(p) > n and p[-n:] == path), key=lambda p: (len(p), dotted(p)))
    if len(ends) == 1:
        return ends[0], f"'{shown}' is {bracketed(ends[0])}"
    if ends:
        listed = ", ".join(bracketed(p) for p in ends[:8]) + (", ..." if len(ends) > 8 else "")
        raise UsageError(f"'{shown}' ends several keys: {listed}", hint="write the full path of the one you mean")
    raise UsageError(f"'{shown}' is not set in the effective configuration", hint=suggestion(eff, path, paths))


def suggestion(eff: Effective, path: Path_, paths: set[Path_] | None = None) -> str:
    """The closest key to ``path``: the first step that leaves the configuration, corrected (or the
    closest full path), as a hint."""
    node: Any = eff.data
    for index, part in enumerate(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
            continue
        if isinstance(node, dict) and isinstance(part, str):
            options = [str(k) for k in node]
            lowered = {o.lower(): o for o in options}
            close = [lowered[part.lower()]] if part.lower() in lowered else difflib.get_close_matches(part, options, 1)
            if close:
                return f"did you mean {bracketed((*path[:index], close[0], *path[index + 1 :]))}?"
        break
    texts = {bracketed(p): p for p in (paths if paths is not None else _paths(eff))}
    close = difflib.get_close_matches(dotted(path), list(texts), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else "gen list and the layer files show the keys there are"


def explain(eff: Effective, path: Path_) -> Explained:
    value, chain = explain_chain(eff, path)
    keys: tuple[Explained, ...] = ()
    if isinstance(value, dict) and value:
        keys = tuple(explain(eff, (*path, key)) for key in sorted(value, key=str))
    return Explained(path, value, tuple(chain), tuple(reads(eff, path, chain)), keys)


def reads(eff: Effective, path: Path_, chain: list[Origin]) -> Iterator[Read]:
    """The inputs the template of a templated value read: the ``platform`` values (with where each
    was written) and the ``env`` and ``namespace`` variables."""
    source = chain[0].value if chain else None
    if not isinstance(source, str) or ("{{" not in source and "{%" not in source):
        return
    for read, origin in eff.template_reads.get(path, ()):
        yield Read(dotted(read), eff.get(read), origin)
    context = {"env": eff.env, "namespace": eff.namespace}
    for name in sorted(_variables(source) & set(TEMPLATE_VARIABLES)):
        yield Read(name, context[name], None, TEMPLATE_VARIABLES[name])


_PARSER = jinja2.Environment()  # parses only, never renders
_PARSER.globals.clear()  # Jinja2's own globals (namespace, range, ...) would hide the variables of the same name


def _variables(source: str) -> set[str]:
    try:
        return set(jinja2.meta.find_undeclared_variables(_PARSER.parse(source)))
    except jinja2.TemplateSyntaxError:
        return set()


def bracketed(path: Path_) -> str:
    """A path as a user writes it: keys that hold dots in brackets (``nodeSelector["a.b/c"]``)."""
    text = ""
    n = len(FLINK_CONF)
    for index, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
        elif ("." in part and not (index == n and path[:n] == FLINK_CONF)) or not part:
            text += f"[{json.dumps(part)}]"
        else:
            text += ("." if text else "") + part
    return text


def shown(value: Any) -> str:
    return "(not set)" if value is DELETED else json.dumps(value)
