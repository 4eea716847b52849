"""The JSON Schemas gen ships, one folder at a time: read and parsed once per process.

Every schema of ``schemas/<folder>/`` has the ``$id`` ``https://gen.schemas/<folder>/<file>``
and finds the others of its folder (``_defs.json`` above all) by relative ``$ref``; the folder's
:class:`referencing.Registry` resolves them without any network access. The schemas themselves are
checked against the JSON Schema metaschema by the tests (tests/test_output_schema_files.py), not at
every start.

The registry is built when first asked for: the compiled checks (:mod:`generator.config.fastcheck`)
take the schemas by ``$id`` (:attr:`SchemaFolder.resources`), and a run whose documents they all
accept never imports ``jsonschema`` or ``referencing``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from referencing import Registry

__all__ = ["SCHEMA_BASE", "SchemaFolder", "schema_folder"]

SCHEMA_BASE = "https://gen.schemas/"


@dataclass(frozen=True)
class SchemaFolder:
    """The schemas of one folder, by file name; by ``$id``; and the registry holding each under it."""

    folder: str
    schemas: Mapping[str, Mapping[str, Any]]

    def uri(self, file_name: str) -> str:
        return f"{SCHEMA_BASE}{self.folder}/{file_name}"

    @cached_property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        """Every schema of the folder by its ``$id``."""
        return {str(schema["$id"]): schema for schema in self.schemas.values()}

    @cached_property
    def registry(self) -> Registry[Any]:
        """A :class:`referencing.Registry` of the folder (for ``jsonschema``), crawled."""
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        registry: Registry[Any] = Registry().with_resources(
            (uri, Resource.from_contents(schema, default_specification=DRAFT202012))
            for uri, schema in self.resources.items()
        )
        return registry.crawl()


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
    return SchemaFolder(folder, schemas)
