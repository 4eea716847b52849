"""Validate built-in Kubernetes objects against the Kubernetes OpenAPI schemas, strictly.

The schemas are the ones ``kubernetes-validate`` bundles (``<version>-local-strict``: every object
``additionalProperties: false``, so a misspelt key is an error instead of being dropped by the API
server). ``kubernetes_validate.validate`` re-reads and re-parses its schema files on every call; here
each version's shared definitions are loaded once and each (version, kind) validator is compiled once
per process.

Every object is checked against every Kubernetes version gen claims (``KUBERNETES_VERSIONS``): a field
that only a newer version knows, or one that an older version requires, is an error. The OpenAPI
schemas do not check names and labels; the syntax rules of the API server for those are checked here.

Validators are accelerated with ``generator.config.fastschema`` (a compiled yes/no check; only an
object it rejects goes through ``jsonschema`` for the messages): about 1 ms per object for all
versions instead of about 30.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Protocol

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from generator.config.fastschema import accelerate

__all__ = ["KUBERNETES_VERSIONS", "is_builtin", "problems", "validator"]

#: Kubernetes versions every rendered object must be valid for (oldest and newest supported first).
KUBERNETES_VERSIONS: tuple[str, ...] = ("1.29", "1.30", "1.31", "1.32", "1.33")

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# kinds whose names are DNS labels (Services, Namespaces) rather than DNS subdomains
_LABEL_NAMED_KINDS = frozenset({"Namespace", "Service"})


def is_builtin(doc: Mapping[str, Any]) -> bool:
    """A built-in Kubernetes kind: the core group (``v1``) or a ``*.k8s.io`` / unqualified group."""
    api = str(doc.get("apiVersion", ""))
    group, sep, _ = api.rpartition("/")
    if not sep:
        return api == "v1"
    return "." not in group or group.endswith(".k8s.io")


def _schema_root(version: str) -> Traversable:
    return files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}.0-local-strict"


@cache
def _registry(version: str) -> Registry[Any]:
    root = _schema_root(version)
    definitions = root / "_definitions.json"
    if not definitions.is_file():
        raise RuntimeError(f"kubernetes-validate has no strict schemas for Kubernetes {version}")
    contents = json.loads(definitions.read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        str(contents["$id"]), Resource.from_contents(contents, default_specification=DRAFT202012)
    )
    return registry


def _schema_file(api_version: str, kind: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1, networking.k8s.io/v1 -> networking-v1, v1 -> v1
    group, sep, version = api_version.rpartition("/")
    suffix = f"{group.split('.')[0]}-{version}" if sep else api_version
    return f"{kind.lower()}-{suffix}.json"


class SchemaValidator(Protocol):
    def iter_errors(self, instance: Any) -> Iterator[ValidationError]: ...


@cache
def validator(version: str, api_version: str, kind: str) -> SchemaValidator | None:
    """The compiled strict validator of one kind for one Kubernetes version (None: unknown kind)."""
    path = _schema_root(version) / _schema_file(api_version, kind)
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    registry = _registry(version)
    compiled: SchemaValidator = accelerate(Draft202012Validator(schema, registry=registry), registry)
    return compiled


def _path(parts: Iterator[Any] | Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def _deepest(error: ValidationError) -> ValidationError:
    """oneOf/anyOf errors: report the branch that got furthest (IntOrString, Quantity)."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if len(deepest.absolute_path) <= len(error.absolute_path):
            break
        error = deepest
    return error


def _schema_problems(doc: Mapping[str, Any]) -> list[str]:
    api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    found: dict[str, list[str]] = {}
    for version in KUBERNETES_VERSIONS:
        compiled = validator(version, api, kind)
        if compiled is None:
            found.setdefault(f"kind: no Kubernetes schema for {api} {kind}", []).append(version)
            continue
        for error in compiled.iter_errors(dict(doc)):
            error = _deepest(error)
            message = f"{_path(error.absolute_path)}: {error.message}"
            found.setdefault(message, []).append(version)
    return [
        message if len(versions) == len(KUBERNETES_VERSIONS) else f"{message} (Kubernetes {', '.join(versions)})"
        for message, versions in found.items()
    ]


def _name_problems(doc: Mapping[str, Any]) -> Iterator[str]:
    metadata = doc.get("metadata")
    if not isinstance(metadata, Mapping):
        yield "metadata: is required"
        return
    kind = str(doc.get("kind", ""))
    name = metadata.get("name")
    pattern = _DNS_LABEL if kind in _LABEL_NAMED_KINDS else _DNS_SUBDOMAIN
    if not isinstance(name, str) or len(name) > 253 or not pattern.match(name):
        yield f"metadata.name: {json.dumps(name)} is not a valid {kind} name (lower case letters, digits, '-', '.')"
    namespace = metadata.get("namespace")
    if kind != "Namespace" and (not isinstance(namespace, str) or not _DNS_LABEL.match(namespace)):
        yield f"metadata.namespace: {json.dumps(namespace)} is not a namespace name (every object names its namespace)"
    yield from _label_problems("metadata.labels", metadata.get("labels"))
    yield from _label_problems_in(doc.get("spec"), "spec")


def _label_key_ok(key: str) -> bool:
    prefix, sep, name = key.rpartition("/")
    if sep and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return bool(_LABEL_NAME.match(name))


def _label_problems(where: str, labels: Any) -> Iterator[str]:
    if not isinstance(labels, Mapping):
        return
    for key, value in labels.items():
        if not isinstance(key, str) or not _label_key_ok(key):
            yield f"{where}: {json.dumps(key)} is not a valid label key"
        if isinstance(value, str) and not _LABEL_VALUE.match(value):
            yield f"{where}.{key}: {json.dumps(value)} is not a valid label value"


def _label_problems_in(value: Any, where: str) -> Iterator[str]:
    """matchLabels anywhere in a spec (selectors of NetworkPolicies) follow the label syntax."""
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if key == "matchLabels":
                yield from _label_problems(f"{where}.matchLabels", sub)
            else:
                yield from _label_problems_in(sub, f"{where}.{key}")
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _label_problems_in(sub, f"{where}[{index}]")


def _network_policy_problems(doc: Mapping[str, Any]) -> Iterator[str]:
    spec = doc.get("spec")
    if not isinstance(spec, Mapping):
        return
    for direction in ("ingress", "egress"):
        for r_index, rule in enumerate(spec.get(direction) or []):
            for p_index, port in enumerate(rule.get("ports") or [] if isinstance(rule, Mapping) else []):
                if not isinstance(port, Mapping) or "endPort" not in port:
                    continue
                where = f"spec.{direction}[{r_index}].ports[{p_index}]"
                start = port.get("port")
                if not isinstance(start, int):
                    yield f"{where}.endPort: needs a numeric port"
                elif port["endPort"] < start:
                    yield f"{where}.endPort: {port['endPort']} is below port {start}"


def problems(doc: Mapping[str, Any]) -> list[str]:
    """Schema and syntax violations of one built-in Kubernetes object, as ``path: message`` lines."""
    found = _schema_problems(doc)
    found.extend(_name_problems(doc))
    if doc.get("kind") == "NetworkPolicy":
        found.extend(_network_policy_problems(doc))
    return sorted(set(found))
