"""The vocabulary of `gen check`: rules, the subjects they judge, what they find, and the grading.

A rule implements one item of the production readiness checklist (docs/readiness.md, which
includes the lessons of a staging review). Every environment declares a tolerance
(``platform.tolerance``): ``production`` grades every finding with the rule's production severity;
``development`` turns the findings of the items the checklist tolerates in development into warnings.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from generator.config.layers import Layer
from generator.config.merge import DELETED, Origin
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.model import Deployment
from generator.model import of as model_of
from generator.policy.settings import Settings


class Priority(StrEnum):
    REQUIRED = "REQUIRED"
    RECOMMENDED = "RECOMMENDED"
    OPTIONAL = "OPTIONAL"


class Severity(StrEnum):
    FAILURE = "failure"
    WARNING = "warning"


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    WAIVED = "waived"


class Scope(StrEnum):
    DEPLOYMENT = "deployment"  # one Flink deployment: its effective configuration and its documents
    NAMESPACE = "namespace"  # a namespace in one environment: the objects rendered around the jobs
    ANY = "any"  # every subject (waiver expiry); identical findings are reported once


DEVELOPMENT = "development"
PRODUCTION = "production"


@dataclass(frozen=True)
class Location:
    """Where a finding's value comes from (a layer file, the command line, or a rendered file)."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.line > 0 else self.file

    @staticmethod
    def rendered(path: str) -> Location:
        """A rendered output file (no line: the file is generated)."""
        return Location(f"{path} (rendered)", 0, 0)

    @staticmethod
    def of(origin: Origin | None) -> Location | None:
        return None if origin is None else Location(origin.file, origin.line, origin.col)


@dataclass(frozen=True)
class Subject:
    """What one rule judges: a deployment, or a namespace of one environment."""

    scope: Scope
    env: str
    namespace: str
    deployment: str  # "" for a namespace subject
    profile: str  # "" for a namespace subject
    profiles: tuple[str, ...]  # the profile and every profile it extends
    tolerance: str
    target: str
    effective: Effective
    documents: tuple[Mapping[str, Any], ...]  # the deployment's rendered documents (namespace: the namespace's)
    namespace_documents: tuple[Mapping[str, Any], ...]  # every document rendered for the namespace itself
    settings: Settings  # platform.policy with its defaults
    home_file: str  # the deployment file (namespace: the namespace defaults file)
    rendered_file: str = ""  # output path of the deployment's main document, for findings about it
    today: datetime.date = datetime.date.min
    waivers: tuple[Waiver, ...] = ()
    exceptions: tuple[ProfileException, ...] = ()
    layers: tuple[Layer, ...] = ()  # the layer files merged into ``effective``, lowest first

    def item_location(self, list_path: Path_, ident: str, value: str, field: str) -> Location | None:
        """Where ``field`` of the item whose ``ident`` is ``value`` in list ``list_path`` was written
        (keyed lists merge item by item, so the highest layer that has the item wins)."""
        found: Location | None = None
        for layer in self.layers:
            node: Any = layer.doc.data
            for part in list_path:
                node = node.get(part) if isinstance(node, dict) else None
            for index, item in enumerate(node if isinstance(node, list) else []):
                if isinstance(item, dict) and str(item.get(ident)) == value:
                    mark = layer.doc.mark((*list_path, index, field))
                    found = Location(mark.file, mark.line, mark.col)
        return found

    @property
    def name(self) -> str:
        if self.scope is Scope.NAMESPACE:
            return f"{self.env}/{self.namespace}"
        return f"{self.env}/{self.namespace}/{self.deployment}"

    @property
    def model(self) -> Deployment:
        """The typed model of ``effective``: its facts (HA, slots, ...) and sections."""
        return model_of(self.effective)

    @property
    def conf(self) -> Mapping[str, str]:
        return self.model.conf

    def value(self, path: Path_) -> Any:
        return self.effective.get(path)

    def where(self, path: Path_) -> Location:
        """The file and line of ``path`` (where it is set, or deleted, or its nearest ancestor)."""
        return Location.of(self.effective.origin(path)) or Location(self.home_file)

    def rendered_location(self) -> Location:
        """The rendered file of the deployment's main document (the home file when nothing was rendered)."""
        return Location.rendered(self.rendered_file) if self.rendered_file else Location(self.home_file)


@dataclass(frozen=True)
class Violation:
    """One thing a rule found wrong."""

    message: str
    path: Path_ | None = None  # the effective-config path of the offending value
    value: Any = None  # the offending value (None: not set)
    hint: str = ""
    location: Location | None = None  # defaults to the origin of ``path``
    severity: Severity | None = None  # overrides the rule's grading (rare: e.g. always a failure)


@dataclass(frozen=True)
class Note:
    """Something a rule says about its result whatever the status, passed included: what the check rests on
    where the platform does not document the property it grades (for example: VVP runs one JobManager,
    so HA-002 grades Kubernetes HA there). A rule's check yields notes next to its violations; they never
    change the status."""

    text: str
    source: str = ""  # the public page (URL) or docs/ section that backs the note


Check = Callable[[Subject], Iterable[Violation | Note]]


@dataclass(frozen=True)
class Rule:
    """One checklist item a configuration can decide."""

    id: str
    item: str  # the checklist item, as docs/readiness.md names it
    section: str  # the checklist section
    source: str  # where the item is described: "docs/readiness.md#<anchor of the item>"
    priority: Priority
    checks: str  # what the rule checks, one sentence
    check: Check
    scope: Scope = Scope.DEPLOYMENT
    dev_tolerance: str = ""  # the item's development tolerance (empty: none, same as production)
    production: Severity = Severity.FAILURE
    waivable: bool = True

    def grade(self, tolerance: str, violation: Violation) -> Severity:
        if violation.severity is not None:
            return violation.severity
        if self.production is Severity.WARNING or self.priority is Priority.OPTIONAL:
            return Severity.WARNING
        if tolerance == DEVELOPMENT and self.dev_tolerance:
            return Severity.WARNING
        return Severity.FAILURE

    def grading(self, tolerance: str) -> Severity:
        """The severity of a plain finding of this rule under ``tolerance``."""
        return self.grade(tolerance, Violation(""))


@dataclass(frozen=True)
class Finding:
    """A graded violation, ready for a report."""

    severity: Severity
    message: str
    path: str  # dotted effective-config path ("" when the finding is about a rendered object)
    value: Any
    location: Location | None
    hint: str
    waived: bool = False

    @property
    def shown_value(self) -> str:
        return show(self.value)


@dataclass(frozen=True)
class Waiver:
    rule: str
    reason: str
    owner: str
    expires: datetime.date
    location: Location

    def active(self, today: datetime.date) -> bool:
        return today <= self.expires


@dataclass(frozen=True)
class ProfileException:
    path: str
    reason: str
    benchmark: str
    review_by: datetime.date
    owner: str
    location: Location

    def active(self, today: datetime.date) -> bool:
        return today <= self.review_by


@dataclass
class CheckResult:
    """One rule applied to one subject."""

    rule: Rule
    subject: Subject
    findings: list[Finding] = field(default_factory=list)
    waiver: Waiver | None = None
    notes: list[Note] = field(default_factory=list)  # in the order the rule gave them, each once

    @property
    def status(self) -> Status:
        live = [f for f in self.findings if not f.waived]
        if any(f.severity is Severity.FAILURE for f in live):
            return Status.FAILED
        if live:
            return Status.WARNING
        if self.findings:
            return Status.WAIVED
        return Status.PASSED


def show(value: Any) -> str:
    """A value as a report shows it."""
    if value is None or value is DELETED:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)
