"""Values from Secrets and TLS on the flink-operator target.

Flink reads its configuration as text: a ``${NAME}`` in flinkConfiguration would reach it
unexpanded. On this target such values move into the components' start commands as dynamic
properties (``-Dkey=value``); Kubernetes starts those commands with ``bash -c``, which expands
``${NAME}`` from the container's environment, where the variable comes from a Secret.
``platform.flinkOperator.tls`` mounts a cluster's keystore and truststore from a Secret and hands
Flink their password the same way.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.errors import Problem
from generator.model.keys import FLINK_CONF, FLINK_OPERATOR, PODS
from generator.targets.flink_operator.settings import operator_mode, problem_at, where

#: the environment variable of the Flink containers that holds the TLS store password (from its Secret)
TLS_PASSWORD_ENV = "FLINK_TLS_STORE_PASSWORD"
TLS_VOLUME = "flink-tls"
SSL_SCOPES = ("internal", "rest")
SSL_PASSWORD_KEYS = ("keystore-password", "key-password", "truststore-password")
#: Flink's extra arguments of each component's start command; Kubernetes runs that command with
#: ``bash -c``, so ``${NAME}`` in them is the container's environment variable NAME.
ENTRYPOINT_ARGS: Mapping[str, str] = {
    "jobmanager": "kubernetes.jobmanager.entrypoint.args",
    "taskmanager": "kubernetes.taskmanager.entrypoint.args",
}
_ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class Tls:
    """``platform.flinkOperator.tls``: the keystore and truststore of one cluster, from a Secret."""

    secret: str
    keystore: str
    truststore: str
    password: Mapping[str, str]
    mount_path: str

    def configuration(self) -> dict[str, str]:
        """Flink's keys for internal (mutual) and REST TLS; passwords as references to the container's variable."""
        base = self.mount_path.rstrip("/")
        reference = "${" + TLS_PASSWORD_ENV + "}"
        conf: dict[str, str] = {}
        for scope in SSL_SCOPES:
            prefix = f"security.ssl.{scope}."
            conf[prefix + "enabled"] = "true"
            conf[prefix + "keystore"] = f"{base}/{self.keystore}"
            conf[prefix + "truststore"] = f"{base}/{self.truststore}"
            for key in SSL_PASSWORD_KEYS:
                conf[prefix + key] = reference
        return conf

    def add_to(self, pod: dict[str, Any]) -> dict[str, Any]:
        """The pod template with the stores mounted read-only and the password variable from its Secret."""
        spec = dict(pod["spec"])
        container = dict(spec["containers"][0])
        container["env"] = [
            *container.get("env", []),
            {"name": TLS_PASSWORD_ENV, "valueFrom": {"secretKeyRef": dict(self.password)}},
        ]
        container["volumeMounts"] = [
            *container.get("volumeMounts", []),
            {"name": TLS_VOLUME, "mountPath": self.mount_path, "readOnly": True},
        ]
        items = [{"key": key, "path": key} for key in dict.fromkeys((self.keystore, self.truststore))]
        spec["containers"] = [container, *spec["containers"][1:]]
        spec["volumes"] = [
            *spec.get("volumes", []),
            {"name": TLS_VOLUME, "secret": {"secretName": self.secret, "items": items}},
        ]
        return {**pod, "spec": spec}


def tls_of(eff: Effective) -> Tls | None:
    raw = model.of(eff).operator.tls
    if raw is None:
        return None
    return Tls(
        secret=str(raw["secretName"]),
        keystore=str(raw.get("keystore", "keystore.p12")),
        truststore=str(raw.get("truststore", "truststore.p12")),
        password={"name": str(raw["password"]["name"]), "key": str(raw["password"]["key"])},
        mount_path=str(raw.get("mountPath", "/opt/flink/tls")),
    )


def reads_environment(value: str) -> bool:
    return _ENV_REFERENCE.search(value) is not None


def shell_word(text: str) -> str:
    """``text`` as one bash word in which only its ``${NAME}`` references expand."""
    parts = re.split(f"({_ENV_REFERENCE.pattern})", text)  # literal, reference, literal, ...
    return "".join(f'"{part}"' if index % 2 else shlex.quote(part) for index, part in enumerate(parts) if part)


def dynamic_properties(conf: dict[str, str]) -> dict[str, str]:
    """``conf`` with every value that reads the environment moved into both components' start
    commands (after any arguments the configuration already gives them)."""
    moved = {
        key: conf[key] for key in sorted(conf) if key not in ENTRYPOINT_ARGS.values() and reads_environment(conf[key])
    }
    if not moved:
        return conf
    result = {key: value for key, value in conf.items() if key not in moved}
    args = " ".join(shell_word(f"-D{key}={value}") for key, value in moved.items())
    for key in ENTRYPOINT_ARGS.values():
        result[key] = f"{result[key]} {args}" if result.get(key) else args
    return dict(sorted(result.items()))


def check_secrets(eff: Effective, conf_keys: Mapping[str, str], *, session_job: bool = False) -> list[Problem]:
    """Where this target cannot hand Flink a value from a Secret, and what TLS needs."""
    problems: list[Problem] = []
    m = model.of(eff)
    mode = operator_mode(m)
    mode_path, tls_path = (*FLINK_OPERATOR, "mode"), (*FLINK_OPERATOR, "tls")
    tls = None if session_job else tls_of(eff)
    tls_conf = tls.configuration() if tls is not None else {}
    for key, value in sorted(conf_keys.items()):
        if "${secret_values." in value:
            problems.append(
                problem_at(
                    eff,
                    (*FLINK_CONF, key),
                    "${secret_values.NAME} is a Ververica Platform secret value: the operator has none",
                    "keep the value in a Kubernetes Secret and refer to it as ${NAME} through "
                    "spec.template.spec.kubernetes.pods.envVars[].valueFrom.secretKeyRef",
                )
            )
        elif key not in ENTRYPOINT_ARGS.values() and reads_environment(value):
            if session_job:
                problems.append(
                    problem_at(
                        eff,
                        (*FLINK_CONF, key),
                        "a FlinkSessionJob's configuration reaches the session cluster as text: ${NAME} "
                        "would not be expanded",
                        "set it in the namespace defaults, which build the session cluster's FlinkDeployment",
                    )
                )
            elif mode != "native":
                problems.append(
                    problem_at(
                        eff,
                        mode_path,
                        f"in {mode} mode the operator does not start Flink through the shell that expands the "
                        f"${{NAME}} of {key} (at {where(eff, (*FLINK_CONF, key))})",
                        "use mode native, or give the value another way",
                    )
                )
        wanted = tls_conf.get(key)
        if wanted is not None and value != wanted:
            problems.append(
                problem_at(
                    eff,
                    (*FLINK_CONF, key),
                    "platform.flinkOperator.tls sets this key",
                    "remove it, or describe the stores in platform.flinkOperator.tls",
                )
            )
    if tls is None:
        return problems
    if mode != "native":
        problems.append(
            problem_at(
                eff,
                mode_path,
                f"in {mode} mode the operator does not start Flink through the shell that hands it the TLS store "
                f"password (platform.flinkOperator.tls at {where(eff, tls_path)})",
                "use mode native, or switch TLS off with tls: null (development only)",
            )
        )
    if not m.operator.chart.get("tls"):
        problems.append(
            problem_at(
                eff,
                tls_path,
                "the operator calls the JobManager's REST API, which TLS turns to https: the operator needs the "
                "truststore of the certificates' CA",
                "set platform.flinkOperator.chart.tls (the chart's tls.* values) in the same layer",
            )
        )
    env_names = {str(v.get("name")) for v in m.pods.get("envVars") or [] if isinstance(v, Mapping)}
    if TLS_PASSWORD_ENV in env_names:
        problems.append(
            problem_at(
                eff,
                (*PODS, "envVars"),
                f"{TLS_PASSWORD_ENV} is the variable platform.flinkOperator.tls gives the store password",
                "rename this variable",
            )
        )
    return problems
