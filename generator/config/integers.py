"""Integers are written as integers: ``parallelism: 4.0`` is refused, not rendered as ``4.0``.

JSON Schema's ``integer`` accepts a number with a zero fraction (``4.0``), and the YAML reader keeps
it a float, which would reach the rendered files as ``4.0``. Wherever the effective schema takes an
integer and no other number, a float is refused, located, with the integer to write instead. The
Flink configuration's integer options refuse ``4.0`` as well (:mod:`generator.flink.options`): one
rule for every integer a layer file holds.

The check costs a walk over the values; the schema is consulted only for a configuration that holds
a float with a zero fraction somewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from generator.config.schemafiles import schema_folder
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem

if TYPE_CHECKING:  # imported for a configuration that holds such a float, not for every run
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

Locate = Callable[[Path_], tuple[str, int, int]]

__all__ = ["integral_float_problems"]


def _integral_floats(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(_integral_floats(v) for v in value.values())
    if isinstance(value, list):
        return any(_integral_floats(v) for v in value)
    return False


def _is_int(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _strict(kind: str) -> Draft202012Validator:
    """The schema of ``kind`` where ``integer`` means a Python int (never a float), formats off.

    jsonschema picks the validator class of a referenced file by its ``$schema``; the files are
    registered here without it, so the stricter class applies across every ``$ref``."""
    import jsonschema
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    folder = schema_folder("input")
    contents = {name: {k: v for k, v in doc.items() if k != "$schema"} for name, doc in folder.schemas.items()}
    registry: Registry[Any] = Registry().with_resources(
        (str(doc["$id"]), Resource.from_contents(doc, default_specification=DRAFT202012)) for doc in contents.values()
    )
    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_int)
    strict = jsonschema.validators.extend(Draft202012Validator, type_checker=checker)  # type: ignore[no-untyped-call]
    validator: Draft202012Validator = strict(contents[f"{kind}.json"], registry=registry.crawl())
    return validator


def _type_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    for error in errors:
        if error.validator == "type" and isinstance(error.instance, float) and error.instance.is_integer():
            yield error
        if error.context:
            yield from _type_errors(iter(error.context))


def integral_float_problems(data: Any, locate: Locate, kind: str = "effective") -> list[Problem]:
    """A problem at every float of ``data`` where the schema of ``kind`` takes only an integer."""
    if not _integral_floats(data):
        return []
    found: dict[Path_, Problem] = {}
    for error in _type_errors(_strict(kind).iter_errors(data)):
        path: Path_ = tuple(error.absolute_path)
        allowed = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        instance = error.instance
        if "integer" not in allowed or path in found or not isinstance(instance, float):
            continue
        file, line, col = locate(path)
        written = json.dumps(instance)
        found[path] = Problem(
            file,
            line,
            col,
            dotted(path),
            f"expected an integer, got {written}",
            f"write {int(instance)}, without a decimal point",
        )
    return list(found.values())
