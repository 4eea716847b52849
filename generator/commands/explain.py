"""``gen explain KEY``: the effective value of a key and every layer that set it, most recent first.

KEY is a path of the input (``spec.template.spec.parallelism``; keys that hold dots in brackets:
``...nodeSelector["node-pool.acme.io/name"]``), the end of exactly one such path (``parallelism``),
or a field of the target's own resource (``spec.taskManager.replicas`` on the flink-operator
target), which the target maps to the input key it is written from. A map is shown key by key; a
templated value with the inputs its template read. A profile's view in a repository of several
namespaces is explained in each namespace, and what they share is shown once.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from generator.commands.base import (
    ConfigOpt,
    DeploymentOpt,
    ExampleOpt,
    Format,
    NamespaceOpt,
    ProfileOpt,
    SetOpt,
    _repo,
    _run,
    app,
)

if TYPE_CHECKING:
    from generator.config.effective import Effective
    from generator.config.lookup import Explained
    from generator.config.merge import Origin
    from generator.config.yamlload import Path_


def parse_key(key: str) -> Path_:
    """A key as the user wrote it; a deprecated Flink option name reads as its current name."""
    from generator.config import paths
    from generator.errors import UsageError
    from generator.flink import options

    try:
        path = paths.parse(key)
    except paths.PathError as exc:
        hint = 'write a key that holds dots in brackets: nodeSelector["node-pool.acme.io/name"]'
        raise UsageError(str(exc), hint=hint) from None
    n = len(paths.FLINK_CONF)
    if path[:n] == paths.FLINK_CONF and len(path) == n + 1:
        return (*paths.FLINK_CONF, options.canonical_key(str(path[n])))
    return path


def _one_flink_option(path: Path_) -> Path_:
    """Below ``flinkConfiguration`` the rest of a mapped path is one Flink option, by its current name."""
    from generator.config import paths
    from generator.flink import options

    n = len(paths.FLINK_CONF)
    if path[:n] == paths.FLINK_CONF and len(path) > n:
        return (*paths.FLINK_CONF, options.canonical_key(".".join(str(part) for part in path[n:])))
    return path


def locate(eff: Effective, path: Path_, key: str) -> tuple[Path_, str]:
    """The input path KEY means in ``eff``, and a note on how it was read ('' for a full input path):
    the input key itself, a field of the target's resource mapped by the target, or the end of
    exactly one input path."""
    from generator.config import lookup
    from generator.config.yamlload import dotted
    from generator.errors import UsageError
    from generator.render import target as targets

    if lookup.known(eff, path):
        return path, ""
    mapped = targets.input_path(targets.get(eff.target), path)
    if mapped is not None:
        found, field = mapped
        found = _one_flink_option(found)
        if lookup.known(eff, found):
            return found, f"the {eff.target} field {lookup.bracketed(path)} is written from {lookup.bracketed(found)}"
        raise UsageError(
            f"'{key}' (the {eff.target} field {dotted(field)}, written from {lookup.bracketed(found)}) is not set",
            hint=lookup.suggestion(eff, found),
        )
    try:
        return lookup.find(eff, path, key)
    except UsageError as exc:
        fields = [dotted(field) for field in targets.get(eff.target).input_fields]
        close = difflib.get_close_matches(dotted(path), fields, n=1, cutoff=0.8)
        if not close:
            raise
        raise UsageError(exc.message, hint=f"did you mean the {eff.target} field {close[0]}?") from None


@dataclass(frozen=True)
class _Result:
    scope: str
    note: str
    explained: Explained
    profile: str = ""  # of a profile's view


def _origin_json(o: Origin) -> dict[str, Any]:
    from generator.config.merge import DELETED

    return {
        "layer": o.layer,
        "file": o.file,
        "line": o.line,
        "column": o.col,
        "value": None if o.value is DELETED else o.value,
        "deleted": o.value is DELETED,
    }


def _written(o: Origin) -> dict[str, Any]:
    """Where an input a template read was written (its value is the resolved one, beside)."""
    return {"layer": o.layer, "file": o.file, "line": o.line, "column": o.col}


def _json(key: str, env: str, result: _Result) -> dict[str, Any]:
    from generator.config.merge import DELETED
    from generator.config.yamlload import dotted

    def body(e: Explained) -> dict[str, Any]:
        data: dict[str, Any] = {
            "value": None if e.value is DELETED else e.value,
            "set": e.value is not DELETED,
            "chain": [_origin_json(o) for o in e.chain],
        }
        if e.reads:
            data["reads"] = [
                {"key": r.key, "value": r.value, **(_written(r.origin) if r.origin else {"what": r.what})}
                for r in e.reads
            ]
        if e.keys:
            data["keys"] = {str(k.path[-1]): body(k) for k in e.keys}
        return data

    e = result.explained
    head = {"key": key, "path": dotted(e.path), "scope": result.scope, "env": env}
    return {**head, **({"note": result.note} if result.note else {}), **body(e)}


def _text(key: str, env: str, result: _Result) -> list[str]:
    from generator.config import lookup

    e = result.explained
    lines = [f"{key} = {lookup.shown(e.value)}    [{result.scope}, env {env}]"]
    if result.note:
        lines.append(f"  ({result.note})")
    if not e.keys:  # a map: each key with its own chain
        lines += _chain_lines(e, "  ")
    for child in e.keys:
        lines.append(f"  [{json.dumps(child.path[-1])}] = {lookup.shown(child.value)}")
        lines += _chain_lines(child, "    ")
    return lines


def _chain_lines(e: Explained, indent: str) -> list[str]:
    from generator.config.merge import DELETED

    lines = []
    for i, origin in enumerate(e.chain):
        verb = "set by" if i == 0 else "overrode"
        written = "null (deleted)" if origin.value is DELETED else json.dumps(origin.value)
        lines.append(f"{indent}{verb:<9} {written:<28} {origin.layer:<34} {origin.where()}")
        if i == 0:
            for read in e.reads:  # what the template read, and where each input was written
                what = f"{read.key} = {json.dumps(read.value)}"
                where = read.origin.where() if read.origin else ""
                source = f"(written by {read.origin.layer})" if read.origin else f"({read.what})"
                lines.append(f"{indent}{'reads':<9} {what:<28} {source:<34} {where}".rstrip())
    return lines


def _grouped(results: list[tuple[str, _Result]]) -> list[_Result]:
    """Results of several namespaces: the ones that say the same thing once, naming every namespace."""
    if len(results) == 1:
        return [results[0][1]]
    groups: list[tuple[list[str], _Result]] = []
    for namespace, result in results:
        for names, first in groups:
            if first.explained == result.explained and first.note == result.note:
                names.append(namespace)
                break
        else:
            groups.append(([namespace], result))
    shown = []
    for names, first in groups:
        where = f"namespace {names[0]}" if len(names) == 1 else f"namespaces {', '.join(names)}"
        scope = where + (f", profile {first.profile}" if first.profile else "")
        shown.append(_Result(scope, first.note, first.explained, first.profile))
    return shown


@app.command()
def explain(
    key: Annotated[
        str,
        typer.Argument(
            help="Path of a value, e.g. spec.template.spec.resources.taskmanager.memory, its end "
            '(parallelism, nodeSelector["node-pool.acme.io/name"]) or a field of the target\'s resource.'
        ),
    ],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment.")],
    profile: ProfileOpt = None,
    namespace: NamespaceOpt = None,
    deployment: DeploymentOpt = None,
    config: ConfigOpt = None,
    example: ExampleOpt = False,
    sets: SetOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="text or json.")] = Format.text,
) -> None:
    """Show a value and every layer that set it, most recent first."""

    def body() -> int:
        from generator.config import lookup
        from generator.config.resolve import Resolver
        from generator.config.scope import select_scopes

        repo = _repo(config, example)
        resolver = Resolver(repo, sets or ())
        scopes = select_scopes(repo, resolver, env, profile, namespace, deployment, command="explain")
        path = parse_key(key)
        found: list[tuple[str, _Result]] = []
        for scope in scopes:
            eff = scope.effective
            where, note = locate(eff, path, key)
            explained = lookup.explain(eff, where)
            found.append((eff.namespace, _Result(scope.description, note, explained, eff.profile)))
        results = _grouped(found)
        if fmt is Format.json:
            objects = [_json(key, env, r) for r in results]
            data = objects[0] if len(objects) == 1 else {"key": key, "env": env, "results": objects}
            typer.echo(json.dumps(data, indent=2))
            return 0
        blocks = ["\n".join(_text(key, env, r)) for r in results]
        typer.echo("\n\n".join(blocks))
        return 0

    _run(body, json_errors=fmt is Format.json)
