"""Validate the GitOps wiring gen emits (Argo CD Applications, Flux Kustomizations, HelmRepositories,
HelmReleases, and the kustomization.yaml files of the environment and delivery folders) against our
own strict schemas in ``schemas/output/gitops`` (written from the Argo CD, Flux and kustomize
references cited in each schema)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from generator.config import fastcheck
from generator.config.fastcheck import FastValidator
from generator.config.schemafiles import schema_folder

__all__ = ["check_kustomize_file", "check_object"]

_KUSTOMIZE = "kustomize.json"


@cache
def _validators() -> dict[str, FastValidator]:
    folder = schema_folder("output/gitops")
    found: dict[str, FastValidator] = {}
    for name, schema in folder.schemas.items():
        props = schema.get("properties", {})
        api, kind = props.get("apiVersion", {}).get("const"), props.get("kind", {}).get("const")
        key = _KUSTOMIZE if name == _KUSTOMIZE else f"{api} {kind}"
        if isinstance(api, str) and isinstance(kind, str):
            found[key] = fastcheck.validator(schema, folder.resources, lambda: folder.registry)
    return found


def _messages(validator: FastValidator, doc: Mapping[str, Any], label: str) -> list[str]:
    found = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        found.append(f"{label}: {where}: {error.message}")
    return found


def check_object(doc: Mapping[str, Any]) -> list[str]:
    """One Argo CD or Flux object against its schema; problem lines, empty when valid."""
    key = f"{doc.get('apiVersion')} {doc.get('kind')}"
    validator = _validators().get(key)
    name = doc.get("metadata", {}).get("name", "?") if isinstance(doc.get("metadata"), Mapping) else "?"
    if validator is None:
        return [f"{doc.get('kind')}/{name}: no GitOps schema for {key}"]
    return _messages(validator, doc, f"{doc.get('kind')}/{name}")


def check_kustomize_file(doc: Mapping[str, Any]) -> list[str]:
    """A kustomization.yaml of the environment or delivery folders: its schema, and no file twice."""
    found = _messages(_validators()[_KUSTOMIZE], doc, "kustomization.yaml")
    for generator in doc.get("configMapGenerator", ()) if isinstance(doc.get("configMapGenerator"), list) else ():
        files = generator.get("files", []) if isinstance(generator, Mapping) else []
        if len(set(files)) != len(files):
            found.append("kustomization.yaml: configMapGenerator lists a file twice")
    return found
