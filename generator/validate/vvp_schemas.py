"""Validators for the Ververica Platform resources gen emits.

The schemas live in ``schemas/output/vvp/`` as package data (draft 2020-12).  Every file has an
``$id`` under :data:`SCHEMA_BASE_URI` and refers to the shared ``_defs.json`` by relative ``$ref``; a
:class:`referencing.Registry` over the folder resolves them without any network access.

``load_vvp_validators()`` returns one validator per resource kind (``Deployment``, ``DeploymentDefaults``,
``DeploymentTarget``, ``SessionCluster``, ``VvpDeployment``); the schemas are read and checked once.
``error_messages()`` renders validation errors as ``path: message`` lines that name the offending field.
``check_helm_values()`` checks the values file of the Ververica Platform Helm chart (``helm-values.json``)
and the DeploymentDefaults YAML string inside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from generator.config import fastcheck
from generator.config.fastcheck import FastValidator
from generator.config.schemafiles import SCHEMA_BASE, schema_folder
from generator.config.yamlload import load_plain
from generator.validate import kubernetes

if TYPE_CHECKING:  # jsonschema is imported for a document the compiled check refuses, not before
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

__all__ = [
    "HELM_VALUES",
    "SCHEMA_BASE_URI",
    "VVP_KINDS",
    "check_helm_values",
    "error_messages",
    "format_path",
    "load_vvp_validators",
    "vvp_registry",
    "vvp_schema_uri",
]

_FOLDER = "output/vvp"
SCHEMA_BASE_URI = f"{SCHEMA_BASE}{_FOLDER}/"
VVP_KINDS: tuple[str, ...] = (
    "Deployment",
    "DeploymentDefaults",
    "DeploymentTarget",
    "SessionCluster",
    "VvpDeployment",
)

HELM_VALUES = "helm-values.json"
NOT_RESOURCES = frozenset({HELM_VALUES})  # schemas in the folder that describe no VVP resource kind

JsonSchema = Mapping[str, Any]


def vvp_schema_uri(file_name: str) -> str:
    """The ``$id`` of a schema file in the VVP folder, e.g. ``vvp_schema_uri("Deployment.json")``."""
    return SCHEMA_BASE_URI + file_name


def _load_schemas() -> Mapping[str, JsonSchema]:
    """File name -> parsed schema, for every ``*.json`` in the folder (``_defs.json`` included)."""
    return schema_folder(_FOLDER).schemas


def vvp_registry() -> Registry[Any]:
    """Registry holding every VVP output schema under its ``$id``."""
    return schema_folder(_FOLDER).registry


@cache
def _build_validators() -> dict[str, FastValidator]:
    folder = schema_folder(_FOLDER)
    validators: dict[str, FastValidator] = {}
    for name, schema in _load_schemas().items():
        if name.startswith("_") or name in NOT_RESOURCES:
            continue
        kind = schema.get("properties", {}).get("kind", {}).get("const")
        if kind not in VVP_KINDS:
            raise ValueError(f"{name}: properties.kind.const is {kind!r}, expected one of {VVP_KINDS}")
        validators[kind] = fastcheck.validator(schema, folder.resources, vvp_registry)
    missing = set(VVP_KINDS) - set(validators)
    if missing:
        raise ValueError(f"no schema for VVP kind(s): {', '.join(sorted(missing))}")
    return validators


def load_vvp_validators() -> dict[str, FastValidator]:
    """Validators keyed by VVP resource kind; built on first use and shared afterwards."""
    return dict(_build_validators())


def format_path(path: Iterable[str | int]) -> str:
    """``spec.template.spec.flinkConfiguration["state.backend"]``-style rendering of an instance path."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part and all(ch.isalnum() or ch in "_-" for ch in part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "<root>"


def _message(error: ValidationError) -> str:
    if not isinstance(error.validator, str):  # a `false` subschema (jsonschema also drops its path)
        return "is not allowed here"
    if error.validator == "not" and isinstance(error.validator_value, dict):
        forbidden: dict[str, Any] = error.validator_value
        if _only_required(forbidden):
            fields = " and ".join(repr(name) for name in forbidden["required"])
            together = " together" if len(forbidden["required"]) > 1 else ""
            return f"{fields} must not be set{together} here"
        if isinstance(forbidden.get("description"), str):
            return f"not allowed: {forbidden['description']}"
    message = error.message
    if isinstance(error.instance, dict | list):
        # Spelling out a whole object hides the point; the path already says where it is.
        message = message.replace(repr(error.instance), "value")
    return message


_ANNOTATIONS = frozenset({"$comment", "description", "title"})


def _only_required(schema: Mapping[str, Any]) -> bool:
    """A subschema that only lists required properties (plus annotations)."""
    return set(schema) - _ANNOTATIONS == {"required"} and isinstance(schema["required"], list)


def _format(error: ValidationError) -> str:
    where = format_path(error.absolute_path)
    if error.context:
        alternatives = " | ".join(
            f"{format_path(sub.absolute_path)}: {_message(sub)}"
            for sub in sorted(error.context, key=lambda e: (list(map(str, e.absolute_path)), e.message))
        )
        return f"{where}: {_message(error)} ({alternatives})"
    return f"{where}: {_message(error)}"


def error_messages(validator: Validator | FastValidator, instance: Any) -> list[str]:
    """All validation errors of ``instance`` as ``path: message`` lines, sorted by path."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [_format(error) for error in errors]


@cache
def _validator_for(uri: str) -> Validator:
    from jsonschema import Draft202012Validator

    resolved = vvp_registry().resolver().lookup(uri)
    return Draft202012Validator(resolved.contents, registry=vvp_registry())


@cache
def _pod_template_validator() -> Validator:
    from jsonschema import Draft202012Validator

    schema = {"$ref": vvp_schema_uri("_defs.json") + "#/$defs/podTemplate"}
    return Draft202012Validator(schema, registry=vvp_registry())


def pod_template_problems(template: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Where the schema of a VVP pod template (``_defs.json#/$defs/podTemplate``) refuses ``template``:
    the path inside it and a message."""
    validator = _pod_template_validator()
    return [(tuple(error.absolute_path), _message(error)) for error in validator.iter_errors(template)]


def check_helm_values(values: Mapping[str, Any]) -> list[str]:
    """Problems of a Ververica Platform Helm values document, including its
    ``vvp.globalDeploymentDefaults`` string (YAML of ``{spec: DeploymentSpec}``)."""
    import yaml

    found = error_messages(_validator_for(vvp_schema_uri(HELM_VALUES)), values)
    text = values.get("vvp", {}).get("globalDeploymentDefaults") if isinstance(values.get("vvp"), Mapping) else None
    if not isinstance(text, str):
        return found
    try:
        defaults = load_plain(text)
    except yaml.YAMLError as exc:
        return [*found, f"vvp.globalDeploymentDefaults: not YAML: {exc}"]
    document = {"apiVersion": "v1", "kind": "DeploymentDefaults", "metadata": {"namespace": "default"}}
    if not isinstance(defaults, Mapping) or set(defaults) != {"spec"}:
        return [*found, "vvp.globalDeploymentDefaults: must be a YAML map with the single key 'spec'"]
    document["spec"] = defaults["spec"]
    inner = error_messages(load_vvp_validators()["DeploymentDefaults"], document)
    return [*found, *(f"vvp.globalDeploymentDefaults: {line}" for line in inner)]


_POD_TEMPLATE_KEYS = ("jobManagerPodTemplate", "taskManagerPodTemplate")


def _pod_templates(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every VVP pod template in a resource, wherever its kind nests it."""
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if key in _POD_TEMPLATE_KEYS and isinstance(sub, Mapping):
                yield (*path, key), sub
            else:
                yield from _pod_templates(sub, (*path, key))


def check_vvp(doc: Mapping[str, Any]) -> list[str]:
    """Schema violations of one rendered VVP resource (REST resource or VvpDeployment); its pod
    templates are checked strictly as Kubernetes PodTemplateSpecs too."""
    found = error_messages(_build_validators()[str(doc.get("kind"))], doc)
    for where, template in _pod_templates(doc):
        for path, message in kubernetes.pod_template_problems(template):
            found.append(f"{format_path((*where, *path))}: {message}")
    return found
