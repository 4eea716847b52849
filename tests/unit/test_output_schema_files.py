"""Every schema gen ships is itself a valid JSON Schema 2020-12 (checked here once, not per run)."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

FOLDERS = ("input", "output/vvp", "output/crd", "output/helm", "output/gitops")


def schema_files() -> list[tuple[str, str]]:
    root = resources.files("generator") / "_data" / "schemas"
    found = []
    for folder in FOLDERS:
        node = root
        for part in folder.split("/"):
            node = node / part
        found.extend(
            (f"{folder}/{entry.name}", entry.read_text("utf-8"))
            for entry in node.iterdir()
            if entry.name.endswith(".json")
        )
    return sorted(found)


@pytest.mark.parametrize(("name", "text"), schema_files(), ids=[n for n, _ in schema_files()])
def test_schema_is_valid_2020_12(name: str, text: str) -> None:
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    assert schema.get("$id", "").endswith(name.rsplit("/", 1)[-1]) or name.endswith("_defs.json")
