"""Profile bounds, the exception process and rule waivers: reading them, locating them, checking them.

- A profile documents the range of each sizing value (``bounds``: effective-config path -> min/max).
- A deployment that goes outside that range carries an *exception* (docs/readiness.md, exception process):
  the path, the reason, the benchmark that supports it and a review-by date.
- A *waiver* accepts the findings of one rule (ID, reason, owner, expiry), in any layer; it is
  listed in every report and stops applying the day after it expires.

Malformed input here (an unknown rule ID, a bound that is not a number or size, an invalid date)
is bad input: a located :class:`~generator.errors.Problem`, exit 2.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from generator import model, units
from generator.config.layers import ConfigRepo, Layer
from generator.config.resolve import Effective
from generator.config.yamlload import Mark, Path_
from generator.errors import InputError, Problem
from generator.flink import options
from generator.model import SLOTS, keys
from generator.policy.facts import conf_path, slots_within_policy
from generator.policy.model import Location, ProfileException, Rule, Subject, Waiver

_CONF_PREFIX = ".".join(str(part) for part in keys.FLINK_CONF) + "."


def bound_path(dotted: str) -> Path_:
    """``spec.template.spec.flinkConfiguration.kubernetes.jobmanager.replicas`` -> its effective path
    (a Flink key after ``flinkConfiguration`` is one canonical key, dots included)."""
    if dotted.startswith(_CONF_PREFIX):
        return (*keys.FLINK_CONF, options.canonical_key(dotted[len(_CONF_PREFIX) :]))
    return tuple(dotted.split("."))


def _kind(path: Path_) -> str:
    if path[: len(keys.FLINK_CONF)] == keys.FLINK_CONF and len(path) > len(keys.FLINK_CONF):
        option = options.lookup(str(path[-1]))
        if option is not None and option.kind in ("memory", "duration"):
            return option.kind
        return "number"
    if path[-1] == "memory":
        return "memory"
    if path[-1] == "cpu":
        return "cpu"
    return "number"


_EXPECTED = {
    "memory": "a memory size such as 2g",
    "cpu": "a CPU amount such as 2 or 500m",
    "duration": "a duration such as 30s",
    "number": "a number",
}


def magnitude(path: Path_, value: Any) -> float:
    """A comparable number for a value at ``path``: bytes, cores, milliseconds or the number itself.

    Raises :class:`ValueError` (``units.UnitError`` included) when the value does not fit the path:
    anything but a number or a string (null, a map, a list, a boolean) never fits.
    """
    kind = _kind(path)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected {_EXPECTED[kind]}, got {_type_name(value)}")
    if kind == "memory":
        return float(units.parse_memory(value))
    if kind == "cpu":
        return units.parse_cpu(value)
    if kind == "duration":
        return units.parse_duration_ms(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected {_EXPECTED[kind]}, got {value}")
    return number


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def out_of_bounds(path: Path_, value: Any, bound: Mapping[str, Any]) -> str | None:
    """Why ``value`` lies outside ``bound`` ({min, max}), or None when it is inside."""
    number = magnitude(path, value)
    low, high = bound.get("min"), bound.get("max")
    if low is not None and number < magnitude(path, low):
        return f"below the profile's minimum {low}"
    if high is not None and number > magnitude(path, high):
        return f"above the profile's maximum {high}"
    return None


def excepted_paths(subject: Subject) -> frozenset[Path_]:
    """Paths ``subject`` has a current (not expired) exception for."""
    return frozenset(bound_path(e.path) for e in subject.exceptions if e.active(subject.today))


def needed(subject: Subject, path: Path_) -> bool:
    """Whether the value at ``path`` needs an exception: it lies outside (or cannot be compared with)
    a bound of the profile, or it is a slot count the policy does not allow."""
    bounds = subject.model.bounds
    value = subject.value(path)
    for dotted, bound in bounds.items():
        if bound_path(dotted) == path and value is not None and isinstance(bound, dict):
            try:
                if out_of_bounds(path, value, bound) is not None:
                    return True
            except ValueError:
                return True
    if path == conf_path(SLOTS):
        return not slots_within_policy(subject)
    return False


def parse_date(text: Any) -> datetime.date:
    if isinstance(text, datetime.date):
        return text
    return datetime.date.fromisoformat(str(text))


Entry = TypeVar("Entry", Waiver, ProfileException)


@dataclass(frozen=True)
class _Entries(Generic[Entry]):
    """A list of dated entries in the layer files (``waivers:``, ``exceptions:``): each is named by
    its ``ident`` field, located at its ``date`` field, and read into an ``Entry`` by ``build``;
    ``items`` reads the list from the model."""

    key: str
    ident: str
    date: str
    build: Callable[[Mapping[str, Any], datetime.date, Location], Entry]
    items: Callable[[model.Deployment], Sequence[Any]]

    def marks(self, layers: Sequence[Layer]) -> dict[str, Mark]:
        """Mark of the date of each entry by its ident; the highest layer wins."""
        marks: dict[str, Mark] = {}
        for layer in layers:
            items = layer.doc.data.get(self.key)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if isinstance(item, dict) and self.ident in item:
                    marks[str(item[self.ident])] = layer.doc.mark((self.key, index, self.date))
        return marks

    def of(self, eff: Effective, layers: Sequence[Layer], home: str) -> tuple[Entry, ...]:
        """The entries of the effective configuration ``eff``, located in the layer that wrote them."""
        marks = self.marks(layers)
        found: list[Entry] = []
        for item in self.items(model.of(eff)):
            if not isinstance(item, dict):
                continue
            mark = marks.get(str(item[self.ident]))
            location = Location(mark.file, mark.line, mark.col) if mark else _fallback(eff, self.key, home)
            found.append(self.build(item, parse_date(item[self.date]), location))
        return tuple(found)


def _fallback(eff: Effective, key: str, home: str) -> Location:
    return Location.of(eff.origin((key,))) or Location(home)


WAIVERS = _Entries(
    "waivers",
    "rule",
    "expires",
    lambda item, date, at: Waiver(
        rule=str(item["rule"]), reason=str(item["reason"]), owner=str(item["owner"]), expires=date, location=at
    ),
    lambda deployment: deployment.waivers,
)
EXCEPTIONS = _Entries(
    "exceptions",
    "path",
    "reviewBy",
    lambda item, date, at: ProfileException(
        path=str(item["path"]),
        reason=str(item["reason"]),
        benchmark=str(item["benchmark"]),
        review_by=date,
        owner=str(item.get("owner", "")),
        location=at,
    ),
    lambda deployment: deployment.exceptions,
)


def waivers_of(eff: Effective, layers: Sequence[Layer], home: str) -> tuple[Waiver, ...]:
    return WAIVERS.of(eff, layers, home)


def exceptions_of(eff: Effective, layers: Sequence[Layer], home: str) -> tuple[ProfileException, ...]:
    return EXCEPTIONS.of(eff, layers, home)


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
        for entries in (WAIVERS, EXCEPTIONS):
            key, field = entries.key, entries.date
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
                    if bound[end] is None:  # an end is a value or left out: there is no "null" bound
                        side = "lower" if end == "min" else "upper"
                        message = f"null is not a bound: expected {_EXPECTED[_kind(path)]}"
                        hint = f"leave {end} out when there is no {side} bound"
                    else:
                        message = f"{bound[end]!r} cannot bound this value: {exc}"
                        hint = "use a number, or a size (2g) for memory, a CPU amount for cpu, a duration for durations"
                    problems.append(Problem(mark.file, mark.line, mark.col, f"bounds.{dotted}.{end}", message, hint))
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
