"""Validate built-in Kubernetes objects against the Kubernetes OpenAPI schemas, strictly.

The schemas are the ones ``kubernetes-validate`` bundles (``<version>-local-strict``: every object
``additionalProperties: false``, so a misspelt key is an error instead of being dropped by the API
server). ``kubernetes_validate.validate`` re-reads and re-parses its schema files on every call; here
each version's shared definitions are loaded once and each (version, kind) validator is compiled once
per process.

Every object is checked against every Kubernetes version gen claims (``KUBERNETES_VERSIONS``): a field
that only a newer version knows, or one that an older version requires, is an error. The OpenAPI
schemas do not check names and labels; the syntax rules of the API server for those are checked here.

Versions whose schemas for a kind are the same schema share one check (:func:`schema_groups`): the
schema of the kind with every ``$ref`` it reaches, reduced to what ``jsonschema`` acts on (its
validation keywords, the subschemas under them and the identifiers that ``$ref`` resolves against;
descriptions and ``x-kubernetes-*`` annotations are not checks), compared between versions. An object
gets the answer of every distinct schema, credited to every version that has it, exactly as if
each version had checked it; it is never checked twice against the same schema.

Validators are accelerated with ``generator.config.fastcheck`` (a compiled yes/no check; only an
object it rejects goes through ``jsonschema`` for the messages): about 1 ms per object for all
versions instead of about 30.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any, Protocol

from generator.config import fastcheck
from generator.digest import value_digest

if TYPE_CHECKING:  # jsonschema is imported for an object the compiled check refuses, not before
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

__all__ = [
    "KUBERNETES_VERSIONS",
    "compare_schemas",
    "is_builtin",
    "known_valid_templates",
    "pod_template_problems",
    "problems",
    "schema_files_digest",
    "schema_groups",
    "validator",
]

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
def _definitions(version: str) -> dict[str, Any]:
    definitions = _schema_root(version) / "_definitions.json"
    if not definitions.is_file():
        raise RuntimeError(f"kubernetes-validate has no strict schemas for Kubernetes {version}")
    contents: dict[str, Any] = json.loads(definitions.read_text(encoding="utf-8"))
    return contents


@cache
def _resources(version: str) -> dict[str, Any]:
    """The definitions by their ``$id`` (what the kinds' ``$ref``s reach)."""
    contents = _definitions(version)
    return {str(contents["$id"]): contents}


@cache
def _registry(version: str) -> Registry[Any]:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    contents = _definitions(version)
    registry: Registry[Any] = Registry().with_resource(
        str(contents["$id"]), Resource.from_contents(contents, default_specification=DRAFT202012)
    )
    return registry


def _schema_file(api_version: str, kind: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1, networking.k8s.io/v1 -> networking-v1, v1 -> v1
    group, sep, version = api_version.rpartition("/")
    suffix = f"{group.split('.')[0]}-{version}" if sep else api_version
    return f"{kind.lower()}-{suffix}.json"


@cache
def _kind_schema(version: str, api_version: str, kind: str) -> dict[str, Any] | None:
    path = _schema_root(version) / _schema_file(api_version, kind)
    if not path.is_file():
        return None
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


# What a subschema holds under each keyword jsonschema acts on (every other keyword's value is data).
_SCHEMA_KEYWORDS = frozenset(
    {"additionalProperties", "contains", "if", "then", "else", "items", "not", "propertyNames",
     "unevaluatedItems", "unevaluatedProperties"}
)  # fmt: skip
_SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs"})
# Keywords that change what a $ref means: kept as they are, and a reason not to share checks.
_IDENTIFIERS = frozenset({"$id", "$schema", "$anchor", "$dynamicAnchor", "$dynamicRef", "$vocabulary"})
# The keywords of JSON Schema draft 2020-12 that validate (jsonschema's ``Draft202012Validator.VALIDATORS``,
# which the tests compare with this list)
VALIDATION_KEYWORDS = frozenset(
    {"$dynamicRef", "$ref", "additionalProperties", "allOf", "anyOf", "const", "contains", "dependentRequired",
     "dependentSchemas", "enum", "exclusiveMaximum", "exclusiveMinimum", "format", "if", "items", "maxItems",
     "maxLength", "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum", "multipleOf",
     "not", "oneOf", "pattern", "patternProperties", "prefixItems", "properties", "propertyNames", "required",
     "type", "unevaluatedItems", "unevaluatedProperties", "uniqueItems"}
)  # fmt: skip
_ACTING = VALIDATION_KEYWORDS | _SCHEMA_KEYWORDS | _IDENTIFIERS
# How the kind files ($ref from the kind's $id) and the definitions (a local $ref) name a definition.
_KIND_REF = re.compile(r"^/api/_definitions\.json#/\$defs/([^/~%]+)$")
_DEFINITION_REF = re.compile(r"^#/\$defs/([^/~%]+)$")


class _NotComparable(Exception):
    """A $ref this module does not follow: the versions of this kind are not compared."""


def _acting(schema: Any, refs: set[str], ref_form: re.Pattern[str], nested: bool = False) -> Any:
    """``schema`` reduced to what jsonschema acts on; the definitions its ``$ref`` name go to ``refs``."""
    if not isinstance(schema, dict):
        return schema  # true / false
    reduced: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword not in _ACTING:
            continue  # an annotation: description, default, x-kubernetes-*, ...
        if keyword == "$ref":
            found = ref_form.match(str(value))
            if found is None:
                raise _NotComparable(str(value))
            refs.add(found.group(1))
        elif keyword == "$dynamicRef" or (nested and keyword in _IDENTIFIERS and keyword != "$schema"):
            raise _NotComparable(keyword)
        if keyword in _SCHEMA_KEYWORDS:
            value = _acting(value, refs, ref_form, True)
        elif keyword in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            value = [_acting(sub, refs, ref_form, True) for sub in value]
        elif keyword in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            value = {name: _acting(sub, refs, ref_form, True) for name, sub in value.items()}
        reduced[keyword] = value
    return reduced


def _acting_schema(version: str, api_version: str, kind: str) -> str | None:
    """The kind's schema and every definition it reaches, reduced to what jsonschema acts on, as
    canonical JSON (None: no schema for the kind in this version)."""
    root = _kind_schema(version, api_version, kind)
    if root is None:
        return None
    contents = _definitions(version)
    definitions: dict[str, Any] = contents["$defs"]
    refs: set[str] = set()
    kind_schema = _acting(root, refs, _KIND_REF)
    reached: dict[str, Any] = {}
    while pending := refs - reached.keys():
        for name in pending:
            if name not in definitions:
                raise _NotComparable(name)
            reached[name] = _acting(definitions[name], refs, _DEFINITION_REF, True)
    return json.dumps({"kind": kind_schema, "$id": contents["$id"], "definitions": reached}, sort_keys=True)


def schema_files_digest(api_version: str, kind: str) -> str:
    """SHA-256 over the schema files of the kind in every claimed version (shared definitions
    included): what :data:`_KNOWN_GROUPS` was worked out from."""
    digest = hashlib.sha256()
    for version in KUBERNETES_VERSIONS:
        path = _schema_root(version) / _schema_file(api_version, kind)
        digest.update(f"{version}\0".encode())
        digest.update(_definitions_digest(version))
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-")
    return digest.hexdigest()


@cache
def _definitions_digest(version: str) -> bytes:
    return hashlib.sha256((_schema_root(version) / "_definitions.json").read_bytes()).digest()


_ALL = (KUBERNETES_VERSIONS,)
#: :func:`compare_schemas` of the kinds gen renders, worked out ahead (the test of this module works
#: them out again) for the schema files with this digest: a process that renders them reads the
#: definitions of one version instead of all. With other schema files, the versions are compared.
_KNOWN_GROUPS: dict[tuple[str, str], tuple[str, tuple[tuple[str, ...], ...]]] = {
    # every pod template gen renders is checked as a PodTemplate; its schema differs in every version
    ("v1", "PodTemplate"): (
        "fc9cb8e2a3de956b96665419f9cc51395e4d483bfc8dc04ee3fb2e96cd80dd6a",
        tuple((version,) for version in KUBERNETES_VERSIONS),
    ),
    ("v1", "ServiceAccount"): (
        "8f669bfb41fa8a100df8e2a4f5ab95847035b3b9a6094ddb0fe90d7381329a63",
        _ALL,
    ),
    ("rbac.authorization.k8s.io/v1", "Role"): (
        "b9c953daa905b15479d7112a43a3f9cc79573136b9e707a77abd07da299d8ae6",
        _ALL,
    ),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): (
        "85226f6bae5766d67147ea48071a9766a7994717a0b028596e6c7efab07457af",
        _ALL,
    ),
    ("networking.k8s.io/v1", "NetworkPolicy"): (
        "360f6a6b4eb49ca4138a3258f8273aac8e905eb6d200d4e8d85b1f48de11d51b",
        _ALL,
    ),
    ("v1", "ResourceQuota"): (
        "dfa0331521c815d728c5cab943b592c9594ae193704d7423d6a31421e5123bc5",
        _ALL,
    ),
    ("v1", "LimitRange"): (
        "770e70c35b13f1fcc1bce47ece1c3a07ebf5c0cab395faad01d564c9f71a7e9f",
        _ALL,
    ),
}


@cache
def schema_groups(api_version: str, kind: str) -> tuple[tuple[str, ...], ...]:
    """``KUBERNETES_VERSIONS`` grouped by the kind's schema (:func:`compare_schemas`), from
    :data:`_KNOWN_GROUPS` when the schema files are the ones it was worked out from."""
    known = _KNOWN_GROUPS.get((api_version, kind))
    if known is not None and known[0] == schema_files_digest(api_version, kind):
        return known[1]
    return compare_schemas(api_version, kind)


def compare_schemas(api_version: str, kind: str) -> tuple[tuple[str, ...], ...]:
    """``KUBERNETES_VERSIONS`` grouped by the kind's schema: the versions of a group have the same
    schema for it (in what jsonschema acts on), so one check answers for all of them. The groups
    are in version order, each in version order; versions without the kind share a group."""
    try:
        keys = [_acting_schema(version, api_version, kind) for version in KUBERNETES_VERSIONS]
    except _NotComparable:
        return tuple((version,) for version in KUBERNETES_VERSIONS)
    groups: dict[str | None, list[str]] = {}
    for version, key in zip(KUBERNETES_VERSIONS, keys, strict=True):
        groups.setdefault(key, []).append(version)
    return tuple(tuple(group) for group in groups.values())


class SchemaValidator(Protocol):
    def iter_errors(self, instance: Any) -> Iterator[ValidationError]: ...


@cache
def validator(version: str, api_version: str, kind: str) -> SchemaValidator | None:
    """The compiled strict validator of one kind for one Kubernetes version (None: unknown kind)."""
    schema = _kind_schema(version, api_version, kind)
    if schema is None:
        return None
    return fastcheck.validator(schema, _resources(version), lambda: _registry(version))


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


def _group_problems(version: str, api: str, kind: str, doc: Mapping[str, Any]) -> list[str]:
    """The messages of one schema (that of ``version``) about ``doc``."""
    compiled = validator(version, api, kind)
    if compiled is None:
        return [f"kind: no Kubernetes schema for {api} {kind}"]
    messages = []
    for error in compiled.iter_errors(dict(doc)):
        error = _deepest(error)
        messages.append(f"{_path(error.absolute_path)}: {error.message}")
    return messages


def _schema_problems(doc: Mapping[str, Any]) -> list[str]:
    api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    by_version: dict[str, list[str]] = {}
    for group in schema_groups(api, kind):
        messages = _group_problems(group[0], api, kind, doc)
        by_version.update(dict.fromkeys(group, messages))
    found: dict[str, list[str]] = {}
    for version in KUBERNETES_VERSIONS:
        for message in by_version[version]:
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


#: a PodTemplateSpec is checked as the ``template`` of a PodTemplate object
_POD_TEMPLATE_PREFIX = ("template",)

# Pod templates found valid, by the digest of their pickle (equal pickles are equal templates: the
# same keys, values and types). Checking the first one loads every claimed version's definitions
# (7 MB of JSON) and compiles five validators, a tenth of a second; an incremental render gives the
# digests its last render of a deployment found valid (:func:`known_valid_templates`), so a deployment
# whose pods did not change loads none of that.
_VALID: set[str] = set()
_RECORDING: list[set[str]] = []


def _key_sorted(value: Any) -> Any:
    if type(value) is dict:
        return {key: _key_sorted(value[key]) for key in sorted(value)}
    if type(value) is list:
        return [_key_sorted(item) for item in value]
    return value


def _template_digest(template: Mapping[str, Any]) -> str | None:
    """The digest of the template's pickle (exact about every type), with every map's keys sorted
    (validity does not depend on their order, which differs between renders) and written without
    the pickler's memo (equal templates have equal bytes whether or not they share equal strings)."""
    try:
        ordered = _key_sorted(template)
    except Exception:  # keys that do not sort, a structure that contains itself
        return None
    return value_digest(ordered)


@contextmanager
def known_valid_templates(known: Iterable[str]) -> Iterator[set[str]]:
    """Trust ``known`` (digests of pod templates a render of this gen found valid) for the rest of
    the process; yield the digests of the pod templates found valid inside the block, trusted ones
    included, for the next render to pass here."""
    _VALID.update(known)
    found: set[str] = set()
    _RECORDING.append(found)
    try:
        yield found
    finally:
        _RECORDING.pop()  # this block's (blocks nest); list.remove would take the first equal set


def pod_template_problems(template: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Violations of a Kubernetes PodTemplateSpec (strict, every claimed version), each as the path
    inside the template and a message; label keys and values are checked as the API server does."""
    key = _template_digest(template)
    if key is None or key not in _VALID:
        found = _pod_template_problems(template)
        if found or key is None:
            return found
        _VALID.add(key)
    for recording in _RECORDING:
        recording.add(key)
    return []


def _pod_template_problems(template: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    doc = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "pod-template"}, "template": template}
    found: dict[tuple[tuple[str | int, ...], str], None] = {}
    for group in schema_groups("v1", "PodTemplate"):
        compiled = validator(group[0], "v1", "PodTemplate")
        if compiled is None:  # pragma: no cover - every claimed version has PodTemplate
            continue
        for error in compiled.iter_errors(doc):
            error = _deepest(error)
            path = tuple(error.absolute_path)
            if path[: len(_POD_TEMPLATE_PREFIX)] == _POD_TEMPLATE_PREFIX:
                found[(path[len(_POD_TEMPLATE_PREFIX) :], error.message)] = None
    metadata = template.get("metadata")
    if isinstance(metadata, Mapping):
        for message in _label_problems("metadata.labels", metadata.get("labels")):
            found[(("metadata", "labels"), message)] = None
    return list(found)
