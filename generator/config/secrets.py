"""Secret hygiene: credentials reach Flink by reference only, never as text in gen's files.

A Flink option whose name says it holds a credential (``s3.secret-key``, ``*.password``,
``sasl.jaas.config``, ...) must hold a reference instead of the value:

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
from typing import Any

from generator.config.effective import Effective
from generator.config.layers import FLINK_CONF
from generator.config.merge import nearest_origin
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem

ENV_VARS: Path_ = ("spec", "template", "spec", "kubernetes", "pods", "envVars")
DATASOURCE_URL: Path_ = ("platform", "vvp", "helm", "persistence", "datasource", "url")

# Option names (lower case) that hold credentials. Suffixes match the end of the key, words any
# dot- or dash-separated part of it.
_CREDENTIAL_SUFFIXES = (
    "secret-key",
    "secret.key",
    "secret_key",
    "access_key",
    "sasl.jaas.config",
    "secretkey",
    "secret-access-key",
    "access-key",
    "access.key",
    "accesskey",
    "session-token",
    "session.token",
    "client-secret",
    "client.secret",
    "api-key",
    "apikey",
    "connection-string",
    "connectionstring",
    ".secret",
    ".token",
)
_CREDENTIAL_WORDS = ("password", "passwd", "passphrase")
_CREDENTIAL_INFIXES = (".account.key.",)  # fs.azure.account.key.<account>.blob.core.windows.net
# Options whose names look like credentials but hold names of Secrets, not their contents.
_NOT_CREDENTIALS = ("kubernetes.secrets", "kubernetes.env.secretkeyref")

_SECRET_VALUE = r"secret_values\.(?P<secret>[0-9A-Za-z_-]{1,250})"
_ENV_NAME = r"(?P<env>[A-Za-z_][A-Za-z0-9_]*)"
REFERENCE = re.compile(r"^\$\{(?:" + _SECRET_VALUE + "|" + _ENV_NAME + r")\}$")
_JAAS_SECRET = re.compile(r"""\b(password|secret|token)\s*=\s*("[^"]*"|'[^']*'|[^\s;"']+)""", re.IGNORECASE)
_AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
_URI_PASSWORD = re.compile(r"^(jdbc:)?[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")
_QUERY_PASSWORD = re.compile(r"[?&;](password|pwd)=[^&;]+", re.IGNORECASE)
_ENV_CREDENTIAL = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|ACCESS_KEY|API_KEY|APIKEY|CREDENTIAL)", re.IGNORECASE)

HINT = (
    "store it in a VVP secret value and write '${secret_values.NAME}', or in a Kubernetes Secret exposed to the "
    "pods as spec.template.spec.kubernetes.pods.envVars[] {name: NAME, valueFrom: {secretKeyRef: {name, key}}} "
    "and write '${NAME}'"
)


def is_credential_key(key: str) -> bool:
    """Whether a Flink option name says it holds a credential."""
    lowered = key.lower()
    if lowered in _NOT_CREDENTIALS:
        return False
    if any(lowered.endswith(s) for s in _CREDENTIAL_SUFFIXES):
        return True
    if any(infix in lowered for infix in _CREDENTIAL_INFIXES):
        return True
    words = re.split(r"[.\-_]", lowered)
    return any(word in _CREDENTIAL_WORDS or word.endswith(_CREDENTIAL_WORDS) for word in words)


def _problem(eff: Effective, path: Path_, message: str, hint: str, fallback: str) -> Problem:
    origin = nearest_origin(eff.provenance, path)
    if origin is None:
        return Problem(fallback or "<configuration>", 1, 1, dotted(path), message, hint)
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


def _credential_value_is_reference(key: str, value: str) -> bool:
    if key.lower().endswith("sasl.jaas.config"):
        # the JAAS line names a login module and options; only its secret options must be references
        return all(REFERENCE.match(raw.strip("\"'")) for _, raw in _JAAS_SECRET.findall(value))
    return REFERENCE.match(value.strip()) is not None


def flink_configuration_problems(eff: Effective, fallback: str = "") -> list[Problem]:
    problems: list[Problem] = []
    env_vars = _env_vars(eff)
    for key, raw in sorted(eff.flink_conf.items()):
        value = str(raw)
        path = (*FLINK_CONF, key)
        if is_credential_key(key):
            if not _credential_value_is_reference(key, value):
                problems.append(
                    _problem(
                        eff,
                        path,
                        "holds a credential in plain text; gen writes credentials only as references",
                        HINT,
                        fallback,
                    )
                )
                continue
            for match in _references(value):
                problems.extend(_check_reference(eff, match, path, env_vars, fallback))
            continue
        if _AWS_KEY_ID.search(value):
            problems.append(_problem(eff, path, "contains an AWS access key id in plain text", HINT, fallback))
        elif _URI_PASSWORD.search(value) or _QUERY_PASSWORD.search(value):
            problems.append(
                _problem(
                    eff, path, "contains a password in a URI; gen writes credentials only as references", HINT, fallback
                )
            )
    return problems


def env_var_problems(eff: Effective, fallback: str = "") -> list[Problem]:
    """An environment variable whose name says credential must come from a Secret."""
    problems: list[Problem] = []
    for index, var in enumerate(eff.get(ENV_VARS) or []):
        if not isinstance(var, Mapping):
            continue
        name = str(var.get("name", ""))
        value = var.get("value")
        if not _ENV_CREDENTIAL.search(name) or not isinstance(value, str) or not value:
            continue
        if REFERENCE.match(value):
            continue
        problems.append(
            _problem(
                eff,
                (*ENV_VARS, index),
                f"environment variable {name} holds a credential in plain text",
                "use valueFrom: {secretKeyRef: {name: <secret>, key: <key>}} instead of value",
                fallback,
            )
        )
    return problems


def platform_problems(eff: Effective, fallback: str = "") -> list[Problem]:
    url = eff.get(DATASOURCE_URL)
    if isinstance(url, str) and (_URI_PASSWORD.search(url) or _QUERY_PASSWORD.search(url)):
        return [
            _problem(
                eff,
                DATASOURCE_URL,
                "the JDBC URL contains a password; gen writes credentials only as references",
                "give the datasource password to Helm from your secret store, not in the URL",
                fallback,
            )
        ]
    return []


def problems(eff: Effective, fallback: str = "") -> list[Problem]:
    """Every plain-text credential in an effective configuration (deployment or namespace)."""
    return [
        *flink_configuration_problems(eff, fallback),
        *env_var_problems(eff, fallback),
        *platform_problems(eff, fallback),
    ]


def contains_reference_only(value: str) -> bool:
    """True when ``value`` is one reference (``${secret_values.NAME}`` or ``${NAME}``)."""
    return REFERENCE.match(value) is not None
