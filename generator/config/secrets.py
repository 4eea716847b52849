"""Secret hygiene: credentials reach Flink by reference only, never as text in gen's files.

Every string of a resolved configuration (deployment or namespace, every layer, after templates)
is checked by the one credential detector (:mod:`generator.credentials`): by the name of its
key (a Flink option, an environment variable, a setting) and by its text (URIs with a password,
known key and token formats, credential assignments and command-line flags inside larger strings).
A credential must be a reference instead:

- ``${secret_values.NAME}``: a Ververica Platform secret value of the namespace;
- ``${NAME}``: an environment variable of the Flink pods that comes from a Kubernetes Secret
  (``spec.template.spec.kubernetes.pods.envVars[]`` with ``valueFrom.secretKeyRef``), or a VVP 2
  secret value the namespace declares in ``platform.vvp.secretValues``.

Anything else is reported as a located problem (file, line, column of the layer that wrote it)
with a hint on how to reference it instead. Problems never repeat the offending value, so the
secret does not leak into logs or CI output either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache as memoize
from typing import Any

from generator import credentials
from generator.config.effective import Effective
from generator.config.layers import FLINK_CONF
from generator.config.merge import nearest_origin
from generator.config.yamlload import Path_, dotted
from generator.credentials import REFERENCE, is_credential_key
from generator.errors import Problem

ENV_VARS: Path_ = ("spec", "template", "spec", "kubernetes", "pods", "envVars")
DATASOURCE_URL: Path_ = ("platform", "vvp", "helm", "persistence", "datasource", "url")

__all__ = ["DATASOURCE_URL", "ENV_VARS", "HINT", "REFERENCE", "is_credential_key", "problems"]

# Keys whose values name Secrets (or keys in them), never hold their contents.
_NAMES_SECRETS = frozenset({"secretKeyRef", "secretRef", "imagePullSecrets", "secretValues", "apiTokenSecret"})
_NAME_FIELDS = frozenset({"name", "key", "secretName"})
_JAAS_SECRET = re.compile(r"""\b(password|secret|token)\s*=\s*("[^"]*"|'[^']*'|[^\s;"']+)""", re.IGNORECASE)

HINT = (
    "store it in a VVP secret value and write '${secret_values.NAME}', or in a Kubernetes Secret exposed to the "
    "pods as spec.template.spec.kubernetes.pods.envVars[] {name: NAME, valueFrom: {secretKeyRef: {name, key}}} "
    "and write '${NAME}'"
)


def _problem(eff: Effective, path: Path_, message: str, hint: str, fallback: str) -> Problem:
    origin = nearest_origin(eff.provenance, path)
    if origin is None:
        return Problem(fallback or eff.home_file(), 1, 1, dotted(path), message, hint)
    return Problem(origin.file, origin.line, origin.col, dotted(path), message, hint)


def _env_vars(eff: Effective) -> dict[str, Mapping[str, Any]]:
    found = eff.get(ENV_VARS) or []
    return {str(v.get("name")): v for v in found if isinstance(v, Mapping)}


def _references(value: str) -> Iterator[re.Match[str]]:
    for token in re.findall(r"\$\{[^}]*\}", value):
        match = REFERENCE.match(token)
        if match is not None:
            yield match


def _check_reference(
    eff: Effective, match: re.Match[str], path: Path_, env_vars: Mapping[str, Mapping[str, Any]], fallback: str
) -> list[Problem]:
    """A reference to an environment variable must resolve to a Secret, not to a literal value."""
    name = match.group("env")
    if name is None:  # ${secret_values.NAME}
        return []
    declared = eff.get(("platform", "vvp", "secretValues")) or []
    if name in declared:
        return []
    var = env_vars.get(name)
    if var is None:
        return [
            _problem(
                eff,
                path,
                f"refers to ${{{name}}}, but no envVars entry named {name} brings it from a Kubernetes Secret "
                "and platform.vvp.secretValues does not declare it",
                f"add {{name: {name}, valueFrom: {{secretKeyRef: {{name: <secret>, key: <key>}}}}}} to "
                "spec.template.spec.kubernetes.pods.envVars, or declare the VVP secret value in "
                "platform.vvp.secretValues, or write ${secret_values." + name + "}",
                fallback,
            )
        ]
    source = var.get("valueFrom") or {}
    if not isinstance(source, Mapping) or "secretKeyRef" not in source:
        where = "a literal value" if "value" in var else "something other than a Secret"
        return [
            _problem(
                eff,
                path,
                f"refers to ${{{name}}}, but envVars entry {name} takes {where}, not a Kubernetes Secret",
                f"give {name} valueFrom.secretKeyRef instead",
                fallback,
            )
        ]
    return []


def _strings(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))
    elif isinstance(value, str):
        yield path, value


@memoize  # a pure function of the path; the same paths recur in every configuration
def _names_a_secret(path: Path_) -> bool:
    """A value that names a Secret or a key in one (secretKeyRef.name, tls.password.key ...)."""
    if any(part in _NAMES_SECRETS for part in path):
        return True
    leaf = path[-1] if path else ""
    if leaf == "secretName":
        return True
    parent = path[-2] if len(path) > 1 else ""
    return leaf in _NAME_FIELDS and isinstance(parent, str) and is_credential_key(parent)


def _key_name(eff: Effective, path: Path_) -> str:
    """The name a value is known by: its Flink option, its environment variable, else its key."""
    if path[: len(ENV_VARS)] == ENV_VARS and len(path) == len(ENV_VARS) + 2 and path[-1] == "value":
        var = eff.get(path[:-1]) or {}
        return str(var.get("name", "")) if isinstance(var, Mapping) else ""
    return _path_name(path)


@memoize  # a pure function of the path
def _path_name(path: Path_) -> str:
    if path[: len(FLINK_CONF)] == FLINK_CONF and len(path) > len(FLINK_CONF):
        return str(path[len(FLINK_CONF)])
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return ""


def _jaas_secrets_are_references(value: str) -> bool:
    """The JAAS line names a login module and options; its secret options must be references."""
    return all(REFERENCE.match(raw.strip("\"'")) for _, raw in _JAAS_SECRET.findall(value))


def _message(eff: Effective, path: Path_, key: str, what: str) -> tuple[str, str]:
    if path[: len(ENV_VARS)] == ENV_VARS:
        return (
            f"environment variable {key} holds a credential in plain text",
            "use valueFrom: {secretKeyRef: {name: <secret>, key: <key>}} instead of value",
        )
    if path == DATASOURCE_URL:
        return (
            "the JDBC URL contains a password; gen writes credentials only as references",
            "give the datasource password to Helm from your secret store, not in the URL",
        )
    if what == "a credential":
        return "holds a credential in plain text; gen writes credentials only as references", HINT
    if what == "an AWS access key":
        return "contains an AWS access key id in plain text", HINT
    if what == "a password in a URI":
        return "contains a password in a URI; gen writes credentials only as references", HINT
    return f"holds a credential in plain text ({what}); gen writes credentials only as references", HINT


def problems(eff: Effective, fallback: str = "") -> list[Problem]:
    """Every plain-text credential in an effective configuration (deployment or namespace), and
    every reference to an environment variable that does not come from a Secret."""
    found: list[Problem] = []
    env_vars = _env_vars(eff)
    leaves = list(_strings(eff.data))
    credentials.prefetch(value for _, value in leaves)  # scanned together where they are scanned apart
    for path, value in leaves:
        if _names_a_secret(path):
            continue
        key = _key_name(eff, path)
        what = credentials.finding(key, value)
        if what is None and key.lower().endswith("jaas.config") and not _jaas_secrets_are_references(value):
            what = "a credential assignment"
        if what is not None:
            message, hint = _message(eff, path, key, what)
            found.append(_problem(eff, path, message, hint, fallback))
            continue
        if is_credential_key(key) and path[: len(FLINK_CONF)] == FLINK_CONF:
            for match in _references(value):
                found.extend(_check_reference(eff, match, path, env_vars, fallback))
    return found
