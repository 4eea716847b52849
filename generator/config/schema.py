"""Input JSON Schemas (draft 2020-12): loading, custom formats, and errors as located problems."""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin

from generator import credentials, units
from generator.config import fastcheck
from generator.config.schemafiles import schema_folder
from generator.config.yamlload import Document, Path_, dotted

if TYPE_CHECKING:  # jsonschema is imported when a layer needs its messages (fastcheck), not before
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError
    from referencing import Registry
from generator.errors import Problem

LAYER_KINDS = ("baseline", "namespace", "profile", "environment", "deployment")
SCHEMA_BASE = "https://gen.schemas/input/"

MIN_CPU = 0.1
MAX_MEMORY = 16 << 40


def _is_memory(value: object) -> bool:
    if isinstance(value, str | int) and not isinstance(value, bool):
        nbytes = units.parse_memory(value)
        if nbytes > MAX_MEMORY:  # far beyond any machine, and Flink's sizes overflow a Java long at 8 EiB
            raise units.UnitError(f"{value} is more than the maximum of {MAX_MEMORY >> 40}t")
        if nbytes % (1 << 20):  # VVP takes m or g, Kubernetes requests are written in Mi
            raise units.UnitError(f"{value} is not a whole number of mebibytes: write it in m or g, e.g. 1536m")
    return True


def _is_cpu(value: object) -> bool:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        cores = units.parse_cpu(value)
        if not math.isfinite(cores):  # .nan and .inf are YAML floats
            raise units.UnitError(f"'{value}' is not a CPU amount: write cores (0.5, 2) or millicores (500m)")
        if cores < MIN_CPU:  # what Ververica Platform accepts for a JobManager or a TaskManager
            raise units.UnitError(f"{value} is less than the minimum of {MIN_CPU} CPU (100m)")
    return True


def _is_duration(value: object) -> bool:
    if isinstance(value, str):
        units.parse_duration_ms(value)
    return True


# gen's own formats: a function answering whether a value conforms, and what it raises (with the
# message) when it does not
_OWN_FORMATS: dict[str, tuple[Callable[[object], bool], type[Exception]]] = {
    "gen-memory": (_is_memory, units.UnitError),
    "gen-cpu": (_is_cpu, units.UnitError),
    "gen-duration": (_is_duration, units.UnitError),
}


@cache
def format_checker() -> FormatChecker:
    """jsonschema's format checker (every standard format it knows) with gen's own formats."""
    from jsonschema import FormatChecker

    checker = FormatChecker()
    for name, (check, raises) in _OWN_FORMATS.items():
        checker.checks(name, raises=raises)(check)
    return checker


class _Formats:
    """Formats as :func:`format_checker` decides them (``FormatChecker.conforms``), gen's own without
    importing jsonschema: a compiled check of a layer file calls them for every value with a format."""

    def conforms(self, instance: object, format: str) -> bool:
        own = _OWN_FORMATS.get(format)
        if own is None:  # a standard format (date): jsonschema's own check
            return format_checker().conforms(instance, format)
        check, raises = own
        try:
            return bool(check(instance))
        except raises:
            return False


FORMATS = _Formats()


def input_schema_texts() -> dict[str, str]:
    """File name -> text of every input schema shipped with the package."""
    folder = resources.files("generator") / "_data" / "schemas" / "input"
    return {entry.name: entry.read_text("utf-8") for entry in folder.iterdir() if entry.name.endswith(".json")}


def _registry() -> Registry:
    return schema_folder("input").registry


@cache
def validator(kind: str) -> Draft202012Validator:
    """The ``jsonschema`` validator of a layer kind or ``effective``; built once per process."""
    from jsonschema import Draft202012Validator

    schema = schema_folder("input").resources[SCHEMA_BASE + kind + ".json"]
    return Draft202012Validator(schema, registry=_registry(), format_checker=format_checker())


@cache
def fast_validator(kind: str) -> fastcheck.FastValidator:
    """``validator(kind)`` with a compiled fast path (:mod:`generator.config.fastcheck`): valid
    instances are confirmed in microseconds, without jsonschema; errors still come from it."""
    folder = schema_folder("input")
    return fastcheck.FastValidator(
        folder.resources[SCHEMA_BASE + kind + ".json"], lambda: validator(kind), folder.resources, FORMATS
    )


def _follow(schema: Any, base: str) -> tuple[Mapping[str, Any], str]:
    """Follow ``$ref`` chains through gen's own input schemas (``base``: the URI of the file the
    schema is in); returns the schema and the URI of its file. The ``$ref``s are all ``file.json``,
    ``#/json/pointer`` or both: merges and messages follow them without ``referencing``."""
    own = schema_folder("input").resources
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
        file, _, pointer = schema["$ref"].partition("#")
        base = urljoin(base, file) if file else base
        schema = own[base]
        for token in pointer.split("/")[1:]:
            token = unquote(token).replace("~1", "/").replace("~0", "~")
            schema = schema[int(token)] if isinstance(schema, list) else schema[token]
    return (schema if isinstance(schema, Mapping) else {}), base


def resolve_subschema(schema: Any) -> Mapping[str, Any]:
    """Follow ``$ref`` from a subschema whose file is unknown (error reports): refs are resolved
    as if written in ``_defs.json``, which is where every shared definition lives."""
    return _follow(schema, SCHEMA_BASE + "_defs.json")[0]


@cache
def keyed_list_paths() -> dict[Path_, str]:
    """Paths (with ``*`` for any key) of lists that merge item by item on a key (``x-merge-key``)."""
    found: dict[Path_, str] = {}

    def walk(schema: Any, base: str, path: Path_, depth: int) -> None:
        if depth > 30:
            return
        schema, base = _follow(schema, base)
        if schema.get("type") == "array" and "x-merge-key" in schema:
            found[path] = str(schema["x-merge-key"])
        for sub in schema.get("allOf", []):
            walk(sub, base, path, depth + 1)
        for key, sub in schema.get("properties", {}).items():
            walk(sub, base, (*path, key), depth + 1)

    root = SCHEMA_BASE + "deployment.json"
    walk(schema_folder("input").resources[root], root, (), 0)
    return found


def _allowed_keys(schema: Any) -> list[str]:
    schema = resolve_subschema(schema)
    keys = list(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        keys.extend(_allowed_keys(sub))
    return keys


def _did_you_mean(word: str, options: list[str]) -> str:
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return f"did you mean '{lowered[word.lower()]}'? keys are case-sensitive"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"allowed keys: {', '.join(sorted(options))}" if options and len(options) <= 12 else ""


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "map"


def _leaf_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    for error in errors:
        if error.validator in ("anyOf", "oneOf") and error.context:
            # report the branch that got furthest, not "not valid under any of the given schemas"
            deepest = max(error.context, key=lambda e: len(e.absolute_path))
            if len(deepest.absolute_path) > len(error.absolute_path):
                yield from _leaf_errors(iter([deepest]))
                continue
        yield error


def problems_from_errors(errors: Iterator[ValidationError], locate: Any, *, prefix: Path_ = ()) -> list[Problem]:
    """Turn schema errors into problems. ``locate(path) -> (file, line, col)``."""
    problems: list[Problem] = []
    for error in _leaf_errors(errors):
        path: Path_ = (*prefix, *error.absolute_path)
        hint = ""
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = _allowed_keys(error.schema)
            for key in error.instance:
                if key not in allowed and not _matches_patterns(key, error.schema):
                    file, line, col = locate((*path, key))
                    problems.append(
                        Problem(file, line, col, dotted((*path, key)), "unknown key", _did_you_mean(key, allowed))
                    )
            continue
        where = path
        if error.validator == "required":
            quoted = error.message.split(" is a required")[0]
            message = f"missing required key: {quoted}"
            hint = "set it in this file or in a lower layer (baseline, namespace, profile, environment)"
            where = (*path, quoted.strip("'\""))  # where a layer deleted it with null, if one did
        elif error.validator == "format" and error.cause is not None:
            message = str(error.cause)
        elif error.validator == "type":
            expected = error.validator_value
            expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
            message = f"expected {expected_text}, got {_type_name(error.instance)} {_shown(path, error.instance)}"
            if error.instance is None:
                hint = "an empty value is null; null deletes a key set by a lower layer only where a map allows it"
        elif error.validator == "enum":
            choices = [str(c) for c in error.validator_value]  # type: ignore[union-attr]
            message = f"{_shown(path, error.instance)} is not one of {', '.join(choices)}"
            if isinstance(error.instance, str) and not _secret(path, error.instance):
                close = difflib.get_close_matches(error.instance, choices, n=1, cutoff=0.5)
                hint = f"did you mean '{close[0]}'?" if close else ""
        elif error.validator == "pattern":
            description = resolve_subschema(error.schema).get("description", "")
            message = f"{_shown(path, error.instance)} does not have the expected form"
            hint = description or f"must match {error.validator_value}"
        elif error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            message = error.message
        else:
            message = error.message
        file, line, col = locate(where)
        problems.append(Problem(file, line, col, dotted(path), message, hint))
    return problems


def _secret(path: Path_, instance: Any) -> bool:
    """Whether a refused value may be a credential: its key, a key above it or its text says so."""
    if any(isinstance(part, str) and credentials.is_credential_key(part) for part in path):
        return True
    texts = [instance] if isinstance(instance, str) else [v for v in _leaf_strings(instance)]
    key = next((str(part) for part in reversed(path) if isinstance(part, str)), "")
    return any(credentials.finding(key, text) is not None for text in texts)


def _leaf_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaf_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _leaf_strings(v)]
    return [value] if isinstance(value, str) else []


def _shown(path: Path_, instance: Any) -> str:
    """A refused value as a message shows it: never a value that may be a credential."""
    if _secret(path, instance):
        return "(a value not shown: it may be a credential)"
    return json.dumps(instance)


def _matches_patterns(key: str, schema: Any) -> bool:
    import re

    return any(re.search(p, key) for p in resolve_subschema(schema).get("patternProperties", {}))


def validate_document(kind: str, doc: Document) -> list[Problem]:
    def locate(path: Path_) -> tuple[str, int, int]:
        mark = doc.mark(path)
        return mark.file, mark.line, mark.col

    errors = (e for e in fast_validator(kind).iter_errors(_without_nulls(doc.data)) if not _templated(e))
    return problems_from_errors(errors, locate)


def _without_nulls(value: Any) -> Any:
    """null in a layer deletes a key set below; it is valid wherever a key is."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _templated(error: ValidationError) -> bool:
    """A Jinja2 string is checked after it renders (in the effective configuration), not before."""
    return (
        isinstance(error.instance, str)
        and ("{{" in error.instance or "{%" in error.instance)
        and error.validator in ("pattern", "format", "enum", "minLength", "maxLength", "const")
    )


def unknown_setting(path: Path_) -> tuple[str, str]:
    """('', '') when ``path`` can be a setting of the layer files (a free-form map, such as labels,
    takes any key); otherwise its first unknown key and a hint (the closest known key)."""
    root = SCHEMA_BASE + "namespace.json"
    schemas = [_follow(schema_folder("input").resources[root], root)]
    for i, part in enumerate(path):
        found: list[tuple[Mapping[str, Any], str]] = []
        known: list[str] = []
        free = False
        pending = list(schemas)
        while pending:
            schema, base = pending.pop()
            pending.extend(_follow(sub, base) for sub in schema.get("allOf", []))
            properties = schema.get("properties", {})
            known.extend(properties)
            if part in properties:
                found.append(_follow(properties[part], base))
            elif schema.get("additionalProperties", True) is not False or _matches_patterns(str(part), schema):
                free = True
        if found:
            schemas = found
            continue
        if free:
            return "", ""
        return dotted(path[: i + 1]), _did_you_mean(str(part), known)
    return "", ""


def is_valid(kind: str, data: Any) -> bool:
    return bool(fast_validator(kind).is_valid(data))


__all__ = [
    "FORMATS",
    "LAYER_KINDS",
    "fast_validator",
    "format_checker",
    "input_schema_texts",
    "is_valid",
    "keyed_list_paths",
    "problems_from_errors",
    "unknown_setting",
    "validate_document",
    "validator",
]
