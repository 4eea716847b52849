"""The JSON Schemas gen ships, one folder at a time: read and parsed once per process.

Every schema of ``schemas/<folder>/`` has the ``$id`` ``https://gen.schemas/<folder>/<file>``
and finds the others of its folder (``_defs.json`` above all) by relative ``$ref``; the folder's
:class:`referencing.Registry` resolves them without any network access. The schemas themselves are
checked against the JSON Schema metaschema by the tests (tests/test_output_schema_files.py), not at
every start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["SCHEMA_BASE", "SchemaFolder", "schema_folder"]

SCHEMA_BASE = "https://gen.schemas/"


@dataclass(frozen=True)
class SchemaFolder:
    """The schemas of one folder, by file name, and the registry holding each under its ``$id``."""

    folder: str
    schemas: Mapping[str, Mapping[str, Any]]
    registry: Registry[Any]

    def uri(self, file_name: str) -> str:
        return f"{SCHEMA_BASE}{self.folder}/{file_name}"


@cache
def schema_folder(folder: str) -> SchemaFolder:
    """Every ``*.json`` of ``schemas/<folder>`` (e.g. ``"input"``, ``"output/vvp"``)."""
    node = files("generator") / "_data" / "schemas"
    for part in folder.split("/"):
        node = node / part
    schemas: dict[str, Mapping[str, Any]] = {}
    for entry in sorted(node.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json"):
            continue
        schema = json.loads(entry.read_text(encoding="utf-8"))
        expected = f"{SCHEMA_BASE}{folder}/{entry.name}"
        if not isinstance(schema, dict) or schema.get("$id") != expected:
            found = schema.get("$id") if isinstance(schema, dict) else None
            raise ValueError(f"schemas/{folder}/{entry.name}: $id must be {expected!r}, found {found!r}")
        schemas[entry.name] = schema
    registry: Registry[Any] = Registry().with_resources(
        (str(schema["$id"]), Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in schemas.values()
    )
    return SchemaFolder(folder, schemas, registry.crawl())
