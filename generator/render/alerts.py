"""Prometheus alert rules for the Flink deployments of one Kubernetes namespace.

The result is the ``spec.groups`` list of a ``PrometheusRule`` (prometheus-operator). It is pure data:
no I/O, deterministic order, one group per Flink deployment plus one namespace-wide group for the
Kubernetes-level alerts. This module reads the environment layer's ``alerts:`` section and assembles
the groups; :mod:`generator.render.alert_settings` holds the settings and their validation,
:mod:`generator.render.alert_rules` the rules themselves (expressions, labels, annotations).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator import units
from generator.render.alert_rules import RuleBuilder
from generator.render.alert_settings import AlertSettings

__all__ = [
    "AlertTarget",
    "alert_groups",
    "alert_settings_from_mapping",
    "alert_target",
    "camel_case",
]


@dataclass(frozen=True)
class AlertTarget:
    deployment: str  # deployment name == flink_deployment label value
    namespace: str  # Kubernetes namespace
    expected_taskmanagers: int  # 0 = no TaskManager count alert (e.g. a session cluster scaling from 0)
    # execution.checkpointing.interval in ms; None: checkpointing off or unknown (no tolerance alert)
    checkpoint_interval_ms: int | None = None
    # execution.checkpointing.tolerable-failed-checkpoints (Flink's default: 0)
    tolerable_failed_checkpoints: int = 0


INTERVAL_KEY = "execution.checkpointing.interval"
TOLERANCE_KEY = "execution.checkpointing.tolerable-failed-checkpoints"


def alert_target(deployment: str, namespace: str, expected_taskmanagers: int, conf: Mapping[str, str]) -> AlertTarget:
    """The alert target of a deployment, with the checkpoint interval and tolerance of its Flink
    configuration (canonical keys, normalised values)."""
    interval: int | None = None
    if conf.get(INTERVAL_KEY):
        interval = int(units.parse_duration_ms(conf[INTERVAL_KEY])) or None
    tolerance = int(conf.get(TOLERANCE_KEY) or 0)
    return AlertTarget(deployment, namespace, expected_taskmanagers, interval, max(tolerance, 0))


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def alert_settings_from_mapping(data: Mapping[str, Any]) -> AlertSettings:
    """AlertSettings from the environment layer's ``alerts:`` section (camelCase keys).

    Mirrors ``schemas/input/alerts.json``; raises ValueError on unknown keys or wrong types.
    """
    by_key = {camel_case(f.name): f for f in dataclasses.fields(AlertSettings)}
    unknown = sorted(set(data) - set(by_key))
    if unknown:
        raise ValueError(f"unknown alerts key(s): {', '.join(unknown)}; allowed: {', '.join(sorted(by_key))}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = by_key[key]
        if f.name == "labels":
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError("alerts.labels: expected a map of label name to string value")
            kwargs[f.name] = tuple(sorted(value.items()))
        elif f.name == "runbook_base_url":
            if value is not None and not isinstance(value, str):
                raise ValueError(f"alerts.{key}: expected a string")
            kwargs[f.name] = value
        elif isinstance(f.default, bool) or isinstance(value, bool):
            raise ValueError(f"alerts.{key}: expected {type(f.default).__name__}, got a boolean")
        elif isinstance(f.default, str):
            if not isinstance(value, str):
                raise ValueError(f"alerts.{key}: expected a string, got {json.dumps(value)}")
            kwargs[f.name] = value
        elif isinstance(f.default, float):
            if not isinstance(value, int | float):
                raise ValueError(f"alerts.{key}: expected a number, got {json.dumps(value)}")
            kwargs[f.name] = float(value)
        elif isinstance(f.default, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # JSON Schema's "integer" accepts 3.0
            if not isinstance(value, int):
                raise ValueError(f"alerts.{key}: expected an integer, got {json.dumps(value)}")
            kwargs[f.name] = value
        else:  # pragma: no cover - every field type is handled above
            raise AssertionError(f.name)
    return AlertSettings(**kwargs)


def alert_groups(
    namespace: str,
    targets: Sequence[AlertTarget],
    settings: AlertSettings,
    flink_major: int,
) -> list[dict[str, Any]]:
    """The ``spec.groups`` of the PrometheusRule for ``namespace``.

    One group per Flink deployment (sorted by name, ``flink.<namespace>.deployment.<name>``) with one
    rule per alert kind, then the namespace-wide group ``flink.<namespace>.pods`` with the
    Kubernetes-level alerts. Deployment names are DNS labels (no dots), so group names are unique.
    """
    if flink_major not in (1, 2):
        raise ValueError(f"flink_major must be 1 or 2, got {flink_major}")
    if not namespace:
        raise ValueError("namespace must not be empty")
    seen: set[str] = set()
    for target in targets:
        if target.namespace != namespace:
            raise ValueError(
                f"alert target {target.deployment!r} is in namespace {target.namespace!r}, not {namespace!r}"
            )
        if not target.deployment or "." in target.deployment:
            raise ValueError(f"invalid deployment name {target.deployment!r}")
        if target.deployment in seen:
            raise ValueError(f"duplicate alert target {target.deployment!r}")
        if target.expected_taskmanagers < 0:
            raise ValueError(f"{target.deployment}: expected_taskmanagers must not be negative")
        seen.add(target.deployment)

    builder = RuleBuilder(settings, flink_major)
    groups: list[dict[str, Any]] = [
        {
            "name": f"flink.{namespace}.deployment.{target.deployment}",
            "rules": builder.deployment_rules(
                target.namespace,
                target.deployment,
                target.expected_taskmanagers,
                target.checkpoint_interval_ms,
                target.tolerable_failed_checkpoints,
            ),
        }
        for target in sorted(targets, key=lambda t: t.deployment)
    ]
    groups.append({"name": f"flink.{namespace}.pods", "rules": builder.namespace_rules(namespace)})
    return groups
