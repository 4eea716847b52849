"""Profile bounds, the exception process and rule waivers: reading them, locating them, checking them.

- A profile documents the range of each sizing value (``bounds``: effective-config path -> min/max).
- A deployment that goes outside that range carries an *exception* (seed 000 "Exception process"):
  the path, the reason, the benchmark that supports it and a review-by date.
- A *waiver* accepts the findings of one rule (ID, reason, owner, expiry), in any layer; it is
  listed in every report and stops applying the day after it expires.

Malformed input here (an unknown rule ID, a bound that is not a number or size, an invalid date)
is bad input: a located :class:`~generator.errors.Problem`, exit 2.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from generator import units
from generator.config.layers import FLINK_CONF, ConfigRepo, Layer
from generator.config.resolve import Effective
from generator.config.yamlload import Mark, Path_
from generator.errors import InputError, Problem
from generator.flink import options
from generator.policy.model import Location, ProfileException, Rule, Waiver

_CONF_PREFIX = ".".join(str(part) for part in FLINK_CONF) + "."


def bound_path(dotted: str) -> Path_:
    """``spec.template.spec.flinkConfiguration.kubernetes.jobmanager.replicas`` -> its effective path
    (a Flink key after ``flinkConfiguration`` is one canonical key, dots included)."""
    if dotted.startswith(_CONF_PREFIX):
        return (*FLINK_CONF, options.canonical_key(dotted[len(_CONF_PREFIX) :]))
    return tuple(dotted.split("."))


def _kind(path: Path_) -> str:
    if path[: len(FLINK_CONF)] == FLINK_CONF and len(path) > len(FLINK_CONF):
        option = options.OPTIONS.get(str(path[-1]))
        if option is not None and option.kind in ("memory", "duration"):
            return option.kind
        return "number"
    if path[-1] == "memory":
        return "memory"
    if path[-1] == "cpu":
        return "cpu"
    return "number"


def magnitude(path: Path_, value: Any) -> float:
    """A comparable number for a value at ``path``: bytes, cores, milliseconds or the number itself.

    Raises :class:`ValueError` (``units.UnitError`` included) when the value does not fit the path.
    """
    kind = _kind(path)
    if kind == "memory":
        return float(units.parse_memory(value))
    if kind == "cpu":
        return units.parse_cpu(value)
    if kind == "duration":
        return units.parse_duration_ms(value)
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return float(value)


def out_of_bounds(path: Path_, value: Any, bound: Mapping[str, Any]) -> str | None:
    """Why ``value`` lies outside ``bound`` ({min, max}), or None when it is inside."""
    number = magnitude(path, value)
    low, high = bound.get("min"), bound.get("max")
    if low is not None and number < magnitude(path, low):
        return f"below the profile's minimum {low}"
    if high is not None and number > magnitude(path, high):
        return f"above the profile's maximum {high}"
    return None


def parse_date(text: Any) -> datetime.date:
    if isinstance(text, datetime.date):
        return text
    return datetime.date.fromisoformat(str(text))


def _item_marks(layers: Sequence[Layer], key: str, ident: str, field: str) -> dict[str, Mark]:
    """Mark of ``field`` of each item of list ``key`` by its ``ident`` value; the highest layer wins."""
    marks: dict[str, Mark] = {}
    for layer in layers:
        items = layer.doc.data.get(key)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if isinstance(item, dict) and ident in item:
                marks[str(item[ident])] = layer.doc.mark((key, index, field))
    return marks


def _fallback(eff: Effective, key: str, home: str) -> Location:
    return Location.of(eff.origin((key,))) or Location(home)


def waivers_of(eff: Effective, layers: Sequence[Layer], home: str) -> tuple[Waiver, ...]:
    marks = _item_marks(layers, "waivers", "rule", "expires")
    found: list[Waiver] = []
    for item in eff.get(("waivers",), []) or []:
        if not isinstance(item, dict):
            continue
        mark = marks.get(str(item["rule"]))
        found.append(
            Waiver(
                rule=str(item["rule"]),
                reason=str(item["reason"]),
                owner=str(item["owner"]),
                expires=parse_date(item["expires"]),
                location=Location(mark.file, mark.line, mark.col) if mark else _fallback(eff, "waivers", home),
            )
        )
    return tuple(found)


def exceptions_of(eff: Effective, layers: Sequence[Layer], home: str) -> tuple[ProfileException, ...]:
    marks = _item_marks(layers, "exceptions", "path", "reviewBy")
    found: list[ProfileException] = []
    for item in eff.get(("exceptions",), []) or []:
        if not isinstance(item, dict):
            continue
        mark = marks.get(str(item["path"]))
        found.append(
            ProfileException(
                path=str(item["path"]),
                reason=str(item["reason"]),
                benchmark=str(item["benchmark"]),
                review_by=parse_date(item["reviewBy"]),
                owner=str(item.get("owner", "")),
                location=Location(mark.file, mark.line, mark.col) if mark else _fallback(eff, "exceptions", home),
            )
        )
    return tuple(found)


def check_inputs(repo: ConfigRepo, rules: Mapping[str, Rule], files: Iterable[tuple[str, str, str]]) -> list[Problem]:
    """Problems a schema cannot see: waivers of unknown or unwaivable rules, bounds that are not
    numbers or sizes, dates that do not exist."""
    problems: list[Problem] = []
    for kind, name, namespace in files:
        try:
            doc = repo.layer(kind, name, namespace).doc
        except InputError as exc:  # report every broken file of the run, not only the first
            problems.extend(exc.problems)
            continue
        for index, item in enumerate(doc.data.get("waivers") or []):
            if not isinstance(item, dict):
                continue
            rule_id = str(item.get("rule", ""))
            mark = doc.mark(("waivers", index, "rule"))
            if rule_id not in rules:
                problems.append(
                    Problem(
                        mark.file,
                        mark.line,
                        mark.col,
                        f"waivers[{index}].rule",
                        f"unknown rule '{rule_id}'",
                        "rule IDs are listed by 'gen check --list-rules' and in docs/check.md",
                    )
                )
            elif not rules[rule_id].waivable:
                problems.append(
                    Problem(
                        mark.file,
                        mark.line,
                        mark.col,
                        f"waivers[{index}].rule",
                        f"rule {rule_id} cannot be waived",
                        "a value outside its profile's bounds needs an exception (exceptions:), and an expired "
                        "exception or waiver needs a new review date",
                    )
                )
        for key, field in (("waivers", "expires"), ("exceptions", "reviewBy")):
            for index, item in enumerate(doc.data.get(key) or []):
                if not isinstance(item, dict) or field not in item:
                    continue
                try:
                    parse_date(item[field])
                except ValueError:
                    mark = doc.mark((key, index, field))
                    problems.append(
                        Problem(
                            mark.file,
                            mark.line,
                            mark.col,
                            f"{key}[{index}].{field}",
                            f"'{item[field]}' is not a date",
                            "write a calendar date as YYYY-MM-DD",
                        )
                    )
        bounds = doc.data.get("bounds") or {}
        for dotted, bound in bounds.items():
            if not isinstance(bound, dict):
                continue
            path = bound_path(dotted)
            parsed: dict[str, float] = {}
            for end in ("min", "max"):
                if end not in bound:
                    continue
                try:
                    parsed[end] = magnitude(path, bound[end])
                except ValueError as exc:
                    mark = doc.mark(("bounds", dotted, end))
                    problems.append(
                        Problem(
                            mark.file,
                            mark.line,
                            mark.col,
                            f"bounds.{dotted}.{end}",
                            f"{bound[end]!r} cannot bound this value: {exc}",
                            "use a number, or a size (2g) for memory, a CPU amount for cpu, a duration for durations",
                        )
                    )
            if "min" in parsed and "max" in parsed and parsed["min"] > parsed["max"]:
                mark = doc.mark(("bounds", dotted))
                problems.append(
                    Problem(
                        mark.file,
                        mark.line,
                        mark.col,
                        f"bounds.{dotted}",
                        f"min {bound['min']} is above max {bound['max']}",
                        "swap them",
                    )
                )
    return problems
