"""Check values for the ``flink-kubernetes-operator`` Helm chart against our strict schema.

Helm drops unknown values without a word, so the schema (``schemas/output/helm/``) knows the
chart's 1.15 values and rejects anything else. Rules a schema cannot say are checked here: the
operator's Prometheus reporter listens on the port the chart exposes as ``metrics``, and the
default configuration is a flat ``key: value`` file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from generator.config import fastcheck
from generator.config.fastcheck import FastValidator
from generator.config.schemafiles import schema_folder

SCHEMA = "flink-kubernetes-operator-values.json"
PROM_PORT_KEY = "kubernetes.operator.metrics.reporter.prom.port"
PROM_FACTORY_KEY = "kubernetes.operator.metrics.reporter.prom.factory.class"


@cache
def _validator() -> FastValidator:
    """The chart values' validator (the schema itself is checked by the tests, not at every start)."""
    folder = schema_folder("output/helm")
    return fastcheck.validator(folder.schemas[SCHEMA], folder.resources, lambda: folder.registry)


def parse_flink_conf(text: str) -> tuple[dict[str, str], list[str]]:
    """A legacy flink-conf.yaml: ``key: value`` lines, ``#`` comments; returns the map and bad lines."""
    conf: dict[str, str] = {}
    bad: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        key, sep, value = content.partition(": ")
        if not sep or not key.strip() or " " in key.strip():
            bad.append(f"line {number}: {line!r} is not 'key: value'")
            continue
        if key in conf:
            bad.append(f"line {number}: {key} is set twice")
        conf[key.strip()] = value.strip()
    return conf, bad


def _path(parts: Iterator[Any]) -> str:
    return ".".join(str(p) for p in parts) or "(root)"


def check_values(doc: Mapping[str, Any]) -> list[str]:
    """Problems of one values document as ``path: message`` lines (empty when valid)."""
    found = [f"{_path(iter(e.absolute_path))}: {e.message}" for e in _validator().iter_errors(doc)]
    default = doc.get("defaultConfiguration")
    text = default.get("flink-conf.yaml") if isinstance(default, Mapping) else None
    if isinstance(text, str):
        conf, bad = parse_flink_conf(text)
        found += [f"defaultConfiguration.flink-conf.yaml: {line}" for line in bad]
        metrics = doc.get("metrics")
        port = metrics.get("port") if isinstance(metrics, Mapping) else None
        if port is not None:
            if conf.get(PROM_PORT_KEY) != str(port):
                found.append(
                    f"defaultConfiguration.flink-conf.yaml: {PROM_PORT_KEY} is {conf.get(PROM_PORT_KEY)!r}, "
                    f"but metrics.port exposes {port}"
                )
            if not conf.get(PROM_FACTORY_KEY):
                found.append(f"defaultConfiguration.flink-conf.yaml: {PROM_FACTORY_KEY} is not set")
    return sorted(found)
