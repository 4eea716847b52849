"""Is a ``flinkConfiguration`` key an option of the deployment's Flink version, and its value of the
option's type?

The catalogue (``option-catalogue/<major.minor>.json``) lists every option a Flink distribution
declares: key, type, enum constants, deprecated and fallback keys. It is generated from the
distributions themselves by ``scripts/flink_options/catalogue.py`` (reflection over each
``ConfigOption`` field) and committed as data. Keys below an open prefix (file-system plugins,
metric reporters, the operator's and the autoscaler's options, Hadoop and environment variables,
plus the prefixes a configuration declares in ``platform.flinkOptionPrefixes``) are not checked:
their options live in jars a distribution does not carry, or their names are the user's own.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import units
from generator.flink import options

__all__ = ["OPEN_PREFIXES", "Catalogue", "catalogue", "check", "versions"]

_DATA = Path(__file__).parent / "option-catalogue"

#: Prefixes whose keys Flink reads but no option of the distribution declares, with the reason.
OPEN_PREFIXES: dict[str, str] = {
    # file-system plugins pass these to Hadoop's or the cloud SDK's own configuration
    # https://nightlies.apache.org/flink/flink-docs-stable/docs/deployment/filesystems/overview/
    "s3.": "the S3 file-system plugins",
    "s3a.": "the S3 file-system plugins",
    "s3p.": "the Presto S3 file-system plugin",
    "presto.s3.": "the Presto S3 file-system plugin",
    "fs.s3a.": "the Hadoop S3 file-system plugin",
    "fs.azure.": "the Azure file-system plugin",
    "fs.oss.": "the Aliyun OSS file-system plugin",
    "fs.gs.": "the Google Cloud Storage file-system plugin",
    "gs.": "the Google Cloud Storage file-system plugin",
    "flink.hadoop.": "Hadoop configuration passed through Flink",
    # https://nightlies.apache.org/flink/flink-docs-stable/docs/deployment/metric_reporters/
    "metrics.reporter.": "a metric reporter's own options (metrics.reporter.<name>.*)",
    "traces.reporter.": "a trace reporter's own options (traces.reporter.<name>.*)",
    "events.reporter.": "an event reporter's own options (events.reporter.<name>.*)",
    # https://nightlies.apache.org/flink/flink-docs-stable/docs/deployment/config/#forwarding-environment-variables
    "containerized.master.env.": "an environment variable of the JobManager",
    "containerized.taskmanager.env.": "an environment variable of the TaskManagers",
    "external-resource.": "an external resource's options (external-resource.<name>.*)",
    # https://nightlies.apache.org/flink/flink-kubernetes-operator-docs-stable/docs/operations/configuration/
    # a connector's client properties, passed through to the client as they are
    "properties.": "a connector's client properties (the Kafka connector's properties.*)",
    "kubernetes.operator.": "the Flink Kubernetes Operator's options",
    "job.autoscaler.": "the Flink autoscaler's options",
}


@dataclass(frozen=True)
class Catalogue:
    version: str
    release: str
    options: dict[str, dict[str, Any]]

    @functools.cached_property
    def by_name(self) -> dict[str, dict[str, Any]]:
        """Every key this version reads (option keys, their deprecated and fallback keys) -> the option."""
        found: dict[str, dict[str, Any]] = {}
        for entry in self.options.values():
            for other in (*entry.get("deprecatedKeys", ()), *entry.get("fallbackKeys", ())):
                found.setdefault(other, entry)
        found.update(self.options)
        return found

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.by_name)


def versions() -> tuple[str, ...]:
    """The Flink versions the catalogue has data for, oldest first."""
    return tuple(sorted((p.stem for p in _DATA.glob("*.json")), key=options.parse_version))


@functools.cache
def catalogue(version: str) -> Catalogue | None:
    """The options of Flink ``version`` (``1.20``), or None when there is no data for it."""
    path = _DATA / f"{version}.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Catalogue(version, str(data["flink"]), dict(data["options"]))


def open_prefix(key: str, extra: Iterable[str] = ()) -> str | None:
    """The open prefix ``key`` is below, if any."""
    return next((p for p in (*OPEN_PREFIXES, *extra) if key.startswith(p)), None)


_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_ZERO_SIZE = re.compile(r"^\s*0+\s*[a-zA-Z]*\s*$")


def _value_problem(kind: str, entry: dict[str, Any], value: str) -> str | None:
    text = value.strip()
    if kind in _INT_RANGE:
        low, high = _INT_RANGE[kind]
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            return f"'{value}' is not a whole number"
        if not low <= int(text) <= high:
            return f"{value} is outside the range of a Java {'int' if kind == 'int' else 'long'} ({low} to {high})"
    elif kind == "bool":
        if text.lower() not in ("true", "false"):
            return f"'{value}' is not a boolean: write true or false"
    elif kind == "float":
        try:
            float(text)
        except ValueError:
            return f"'{value}' is not a number"
    elif kind == "duration":
        try:
            units.parse_duration_ms(text)
        except units.UnitError as exc:
            return str(exc)
    elif kind == "memory":
        if not _ZERO_SIZE.match(text):
            try:
                units.parse_memory(text)
            except units.UnitError as exc:
                return str(exc)
    elif kind == "enum":
        choices = [str(c) for c in entry.get("choices", ())]
        if choices and text.upper() not in (c.upper() for c in choices):
            return f"'{value}' is not one of {', '.join(choices)}"
    return None


def _elsewhere(key: str, version: str) -> list[str]:
    found = []
    for other in versions():
        known = catalogue(other)
        if other != version and known is not None and key in known.names:
            found.append(other)
    return found


def check(key: str, value: str, version: str, extra_prefixes: Iterable[str] = ()) -> tuple[str, str] | None:
    """``(message, hint)`` when canonical ``key`` is no option of Flink ``version`` or ``value`` is
    not of the option's type; None when it is fine, below an open prefix, or the version has no data.

    ``key`` is gen's canonical spelling (a deprecated alias already renamed); the spelling written
    for ``version`` (``emit_key``) counts as well.
    """
    known = catalogue(version)
    if known is None or open_prefix(key, extra_prefixes) is not None:
        return None
    spelled = options.emit_key(key, options.parse_version(version))
    if key not in known.by_name and spelled not in known.by_name:
        hint = ""
        close = difflib.get_close_matches(key, known.names, n=1, cutoff=0.8)
        if close:
            hint = f"did you mean {close[0]}?"
        others = _elsewhere(key, version)
        if others:
            hint = (hint + " " if hint else "") + f"{key} is an option of Flink {', '.join(others)}"
        if not hint:
            hint = (
                "check the key against https://nightlies.apache.org/flink/flink-docs-stable/docs/deployment/config/;"
                " a plugin's or connector's own prefix can be declared in platform.flinkOptionPrefixes"
            )
        return f"Flink {version} has no option {key}", hint
    if options.lookup(key) is not None:
        return None  # gen's own table checked and normalised the value already
    entry = known.by_name.get(key) or known.by_name[spelled]
    problem = _value_problem(str(entry["type"]), entry, value)
    if problem is None:
        return None
    kind = str(entry["type"])
    article = "an" if kind[0] in "aeiou" else "a"
    return f"{problem} ({key} is {article} {kind} option in Flink {version})", ""
