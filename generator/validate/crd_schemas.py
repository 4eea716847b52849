"""Validate emitted custom resources against our own strict JSON Schemas.

The schemas live in ``schemas/output/crd`` (draft 2020-12, one file per kind plus
``_defs.json``).  They are deliberately stricter than the upstream CRDs: the API server prunes
unknown fields silently, so every object is ``additionalProperties: false``.  A few rules JSON
Schema cannot express (uniqueness keyed on a property, comparing two durations, rules that depend
on ``flinkConfiguration`` values) are checked in Python here.

Usage::

    errors = check_crd(doc)   # [] when the document is valid
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from generator.config import fastcheck
from generator.config.fastcheck import FastValidator
from generator.config.schemafiles import schema_folder
from generator.validate import kubernetes

if TYPE_CHECKING:  # jsonschema is imported for a document the compiled check refuses, not before
    from jsonschema.exceptions import ValidationError

__all__ = ["CRD_KINDS", "check_crd", "load_crd_validators", "parse_duration_ms"]

#: Kinds for which a schema ships in ``schemas/output/crd``.
CRD_KINDS: frozenset[str] = frozenset({"PodMonitor", "PrometheusRule", "FlinkDeployment", "FlinkSessionJob"})

# Custom, ignored-by-validators keyword holding our own message: a string, or a mapping from the
# failing JSON Schema keyword to a message.
_MESSAGE_KEYWORD = "x-error"

_FORBIDDEN_FLINK_KEYS: tuple[str, ...] = (
    "kubernetes.namespace",
    "kubernetes.cluster-id",
    "high-availability.cluster-id",
)
_CHECKPOINT_DIR_KEYS: tuple[str, ...] = ("execution.checkpointing.dir", "state.checkpoints.dir")
_SAVEPOINT_DIR_KEYS: tuple[str, ...] = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
_HA_KEYS: tuple[str, ...] = ("high-availability.type", "high-availability")  # new key wins
_ROLLBACK_KEY = "kubernetes.operator.deployment.rollback.enabled"
_PERIODIC_SAVEPOINT_KEY = "kubernetes.operator.periodic.savepoint.interval"

_DURATION_RE = re.compile(
    r"^(?:0|(?:(?P<y>[0-9]+)y)?(?:(?P<w>[0-9]+)w)?(?:(?P<d>[0-9]+)d)?(?:(?P<h>[0-9]+)h)?"
    r"(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?(?:(?P<ms>[0-9]+)ms)?)$"
)
_DURATION_UNIT_MS: dict[str, int] = {
    "y": 365 * 24 * 3600 * 1000,
    "w": 7 * 24 * 3600 * 1000,
    "d": 24 * 3600 * 1000,
    "h": 3600 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
_REQUIRED_MSG_RE = re.compile(r"^'(?P<prop>.+)' is a required property$")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

_Path = tuple[str | int, ...]


# --------------------------------------------------------------------------------------------------
# Loading


@cache
def _validators() -> Mapping[str, FastValidator]:
    folder = schema_folder("output/crd")
    validators: dict[str, FastValidator] = {}
    for schema in folder.schemas.values():
        kind = schema.get("properties", {}).get("kind", {}).get("const")
        if not isinstance(kind, str):
            continue  # _defs.json
        validators[kind] = fastcheck.validator(schema, folder.resources, lambda: folder.registry)
    missing = CRD_KINDS - validators.keys()
    if missing:
        raise RuntimeError(f"CRD schemas missing from package data: {sorted(missing)}")
    return validators


def load_crd_validators() -> dict[str, FastValidator]:
    """Validators keyed by kind, built once from the package data (the dict itself is a fresh copy)."""
    return dict(_validators())


# --------------------------------------------------------------------------------------------------
# Messages


def _format_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER_RE.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(root)"


def _custom_message(error: ValidationError) -> str | None:
    schema = error.schema
    if not isinstance(schema, Mapping):
        return None
    custom = schema.get(_MESSAGE_KEYWORD)
    if isinstance(custom, str):
        return custom
    if isinstance(custom, Mapping) and isinstance(error.validator, str):
        message = custom.get(error.validator)
        if isinstance(message, str):
            return message
    return None


def _unexpected_properties(error: ValidationError) -> list[str]:
    schema, instance = error.schema, error.instance
    if not isinstance(schema, Mapping) or not isinstance(instance, Mapping):
        return []
    known = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return [str(key) for key in instance if key not in known and not any(p.search(str(key)) for p in patterns)]


def _schema_messages(error: ValidationError) -> Iterator[tuple[_Path, str]]:
    path: _Path = tuple(error.absolute_path)
    custom = _custom_message(error)
    if error.validator == "required":
        match = _REQUIRED_MSG_RE.match(error.message)
        if match:
            yield (*path, match.group("prop")), custom or "is required"
            return
    if error.validator == "additionalProperties" and error.schema is not False:
        extras = _unexpected_properties(error)
        if extras and custom is None:
            for key in extras:
                yield (*path, key), "unknown field (not allowed here; the API server would drop it silently)"
            return
    yield path, custom or error.message


# --------------------------------------------------------------------------------------------------
# Helpers for the semantic rules


def parse_duration_ms(value: str) -> int | None:
    """Milliseconds of a Prometheus duration (``1m30s``), or None if it is not one."""
    match = _DURATION_RE.match(value)
    if not match or not value:
        return None
    return sum(int(amount) * _DURATION_UNIT_MS[unit] for unit, amount in match.groupdict().items() if amount)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def _conf_value(conf: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    """First key of ``keys`` present in the Flink configuration with a non-blank value."""
    for key in keys:
        value = conf.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _ha_enabled(conf: Mapping[str, Any]) -> bool:
    mode = _conf_value(conf, _HA_KEYS)
    return mode is not None and mode.upper() != "NONE"


def _keys_hint(keys: Sequence[str]) -> str:
    return " or ".join(keys)


# --------------------------------------------------------------------------------------------------
# Semantic rules per kind


def _check_pod_monitor(doc: Mapping[str, Any]) -> Iterator[tuple[_Path, str]]:
    endpoints = _sequence(_mapping(doc.get("spec")).get("podMetricsEndpoints"))
    for index, endpoint in enumerate(endpoints):
        endpoint = _mapping(endpoint)
        interval, timeout = endpoint.get("interval"), endpoint.get("scrapeTimeout")
        if not isinstance(interval, str) or not isinstance(timeout, str):
            continue
        interval_ms, timeout_ms = parse_duration_ms(interval), parse_duration_ms(timeout)
        if interval_ms is None or timeout_ms is None:
            continue  # already a schema error
        if timeout_ms > interval_ms:
            yield (
                ("spec", "podMetricsEndpoints", index, "scrapeTimeout"),
                f"{timeout} is greater than the scrape interval {interval} (prometheus-operator rejects the resource)",
            )


def _check_prometheus_rule(doc: Mapping[str, Any]) -> Iterator[tuple[_Path, str]]:
    groups = _sequence(_mapping(doc.get("spec")).get("groups"))
    first_group: dict[str, int] = {}
    for g_index, group in enumerate(groups):
        group = _mapping(group)
        name = group.get("name")
        if isinstance(name, str):
            if name in first_group:
                yield (
                    ("spec", "groups", g_index, "name"),
                    f"duplicate group name {name!r} (first used by spec.groups[{first_group[name]}])",
                )
            else:
                first_group[name] = g_index
        first_alert: dict[str, int] = {}
        for r_index, rule in enumerate(_sequence(group.get("rules"))):
            alert = _mapping(rule).get("alert")
            if not isinstance(alert, str):
                continue
            if alert in first_alert:
                yield (
                    ("spec", "groups", g_index, "rules", r_index, "alert"),
                    f"duplicate alert name {alert!r} in group {name!r} (first used by rules[{first_alert[alert]}])",
                )
            else:
                first_alert[alert] = r_index


def _check_flink_deployment(doc: Mapping[str, Any]) -> Iterator[tuple[_Path, str]]:
    spec = _mapping(doc.get("spec"))
    conf = _mapping(spec.get("flinkConfiguration"))
    yield from _check_forbidden_keys(conf)
    ha = _ha_enabled(conf)

    replicas = _mapping(spec.get("jobManager")).get("replicas")
    if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas > 1 and not ha:
        yield (
            ("spec", "jobManager", "replicas"),
            f"{replicas} JobManager replicas require high availability: set flinkConfiguration "
            "high-availability.type (e.g. kubernetes) to something other than NONE",
        )
    # taskManager.replicas >= 1 is enforced by the schema (minimum: 1).

    if str(conf.get(_ROLLBACK_KEY, "")).strip().lower() == "true" and not ha:
        yield (
            ("spec", "flinkConfiguration", _ROLLBACK_KEY),
            "rollback requires high availability: set flinkConfiguration high-availability.type",
        )

    job = spec.get("job")
    if isinstance(job, Mapping):
        yield from _check_job_state_dirs(job, conf)

    # every pod template is a Kubernetes PodTemplateSpec, checked strictly (the CRD leaves it open; the
    # operator's examples also write the Pod's apiVersion and kind, which it ignores)
    for where in (("podTemplate",), ("jobManager", "podTemplate"), ("taskManager", "podTemplate")):
        node: Any = spec
        for key in where:
            node = _mapping(node).get(key)
        if isinstance(node, Mapping):
            template = {k: v for k, v in node.items() if k not in ("apiVersion", "kind")}
            for path, message in kubernetes.pod_template_problems(template):
                yield ("spec", *where, *path), message


def _check_forbidden_keys(conf: Mapping[str, Any]) -> Iterator[tuple[_Path, str]]:
    for key in _FORBIDDEN_FLINK_KEYS:
        if key in conf:
            yield (
                ("spec", "flinkConfiguration", key),
                "must not be set: the Flink Kubernetes Operator sets it",
            )


def _check_job_state_dirs(job: Mapping[str, Any], conf: Mapping[str, Any]) -> Iterator[tuple[_Path, str]]:
    mode = job.get("upgradeMode", "stateless")
    if mode != "stateless" and _conf_value(conf, _CHECKPOINT_DIR_KEYS) is None:
        yield (
            ("spec", "job", "upgradeMode"),
            f"{mode!r} requires a checkpoint directory: set flinkConfiguration {_keys_hint(_CHECKPOINT_DIR_KEYS)}",
        )
    if _conf_value(conf, _SAVEPOINT_DIR_KEYS) is not None:
        return
    hint = f"set flinkConfiguration {_keys_hint(_SAVEPOINT_DIR_KEYS)}"
    if mode == "savepoint":
        yield ("spec", "job", "upgradeMode"), f"'savepoint' requires a savepoint directory: {hint}"
    if job.get("savepointTriggerNonce") is not None:
        yield (
            ("spec", "job", "savepointTriggerNonce"),
            f"a manual savepoint needs a savepoint directory: {hint}",
        )
    if _PERIODIC_SAVEPOINT_KEY in conf:
        yield (
            ("spec", "flinkConfiguration", _PERIODIC_SAVEPOINT_KEY),
            f"periodic savepoints need a savepoint directory: {hint}",
        )


def _check_flink_session_job(doc: Mapping[str, Any]) -> Iterator[tuple[_Path, str]]:
    yield from _check_forbidden_keys(_mapping(_mapping(doc.get("spec")).get("flinkConfiguration")))


_SEMANTIC_CHECKS: dict[str, Callable[[Mapping[str, Any]], Iterator[tuple[_Path, str]]]] = {
    "PodMonitor": _check_pod_monitor,
    "PrometheusRule": _check_prometheus_rule,
    "FlinkDeployment": _check_flink_deployment,
    "FlinkSessionJob": _check_flink_session_job,
}


# --------------------------------------------------------------------------------------------------
# Entry point


def check_crd(doc: Mapping[str, Any]) -> list[str]:
    """Validate one emitted custom resource; return human-readable errors (empty when valid).

    Each message reads ``"<kind>/<name>: <path>: <message>"``, e.g.
    ``"PodMonitor/flink: spec.podMetricsEndpoints[0].targetPort: is deprecated ..."``.
    A document whose kind has no schema (see ``CRD_KINDS``) yields a single error.
    """
    obj: object = doc  # callers may hand us whatever a YAML file contained
    if not isinstance(obj, Mapping):
        return [f"?/?: (root): expected a mapping, got {type(obj).__name__}"]
    kind = doc.get("kind")
    raw_name = _mapping(doc.get("metadata")).get("name")
    label = f"{kind if isinstance(kind, str) else '?'}/{raw_name if isinstance(raw_name, str) else '?'}"
    if not isinstance(kind, str) or kind not in _validators():
        return [f"{label}: kind: no CRD schema for kind {kind!r} (known: {', '.join(sorted(CRD_KINDS))})"]
    validator = _validators()[kind]

    found: set[tuple[str, str]] = set()
    for error in validator.iter_errors(doc):
        for path, message in _schema_messages(error):
            found.add((_format_path(path), message))
    for path, message in _SEMANTIC_CHECKS[kind](doc):
        found.add((_format_path(path), message))
    return [f"{label}: {path}: {message}" for path, message in sorted(found)]
