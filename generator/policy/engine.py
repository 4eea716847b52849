"""Run every rule on every subject of a selection and grade the findings.

The selection is rendered in memory first (exactly what ``gen render`` would write), so rules can
judge both the effective configuration and the rendered objects. Nothing is written.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator import model
from generator.config.layers import ConfigRepo, Layer
from generator.config.resolve import Effective, Resolver
from generator.config.yamlload import dotted
from generator.errors import InputError
from generator.output import OutFile
from generator.policy import documents
from generator.policy.exceptions import bound_path, check_inputs, exceptions_of, needed, waivers_of
from generator.policy.model import (
    PRODUCTION,
    CheckResult,
    Finding,
    Location,
    Note,
    ProfileException,
    Rule,
    Scope,
    Status,
    Subject,
    Waiver,
)
from generator.policy.registry import all_rules
from generator.policy.settings import settings_of
from generator.render.plan import Selection, render_run


@dataclass(frozen=True)
class CheckOptions:
    env: str
    today: datetime.date
    profile: str | None = None
    namespace: str | None = None
    deployment: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class WaiverUse:
    waiver: Waiver
    status: str  # applied | unused | expired
    subjects: tuple[str, ...]  # where it waived findings


@dataclass(frozen=True)
class ExceptionUse:
    exception: ProfileException
    subject: str
    status: str  # applied | unused | expired


@dataclass
class Report:
    env: str
    today: datetime.date
    results: list[CheckResult]
    waivers: list[WaiverUse] = field(default_factory=list)
    exceptions: list[ExceptionUse] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def subjects(self) -> list[str]:
        return list(dict.fromkeys(r.subject.name for r in self.results))

    @property
    def exit_code(self) -> int:
        return 1 if self.count(Status.FAILED) else 0


def _layers_of_namespace(repo: ConfigRepo, env: str, namespace: str) -> list[Layer]:
    """The layers of a namespace's defaults, in merge order (its ``environments.<env>`` section
    right above the namespace file)."""
    own = repo.layer("namespace", namespace)
    section = own.section(env)
    return [repo.layer("baseline", "baseline"), own, *([section] if section else []), repo.layer("environment", env)]


def _rendered_path(files: Sequence[OutFile], env: str, namespace: str, deployment: str) -> str:
    paths = sorted(
        f.path
        for f in files
        if f.owner.env == env and f.owner.namespace == namespace and f.owner.deployment == deployment
    )
    return paths[0] if paths else ""


def _subject(
    scope: Scope,
    eff: Effective,
    *,
    target: str,
    profiles: tuple[str, ...],
    docs: tuple[Mapping[str, Any], ...],
    namespace_docs: tuple[Mapping[str, Any], ...],
    layers: Sequence[Layer],
    home: str,
    rendered: str,
    today: datetime.date,
) -> Subject:
    return Subject(
        scope=scope,
        env=eff.env,
        namespace=eff.namespace,
        deployment=eff.deployment,
        profile=eff.profile,
        profiles=profiles,
        tolerance=model.of(eff).tolerance or PRODUCTION,
        target=target,
        effective=eff,
        documents=docs,
        namespace_documents=namespace_docs,
        settings=settings_of(eff),
        home_file=home,
        rendered_file=rendered,
        today=today,
        waivers=waivers_of(eff, layers, home),
        exceptions=exceptions_of(eff, layers, home) if scope is Scope.DEPLOYMENT else (),
        layers=tuple(layers),
    )


def subjects(repo: ConfigRepo, resolver: Resolver, options: CheckOptions) -> list[Subject]:
    """Every subject of the selection, namespace first, then its deployments (rendered in memory)."""
    selection = Selection(options.env, options.profile, options.namespace, options.deployment, options.target)
    run = render_run(repo, resolver, selection)
    found: list[Subject] = []
    for ctx in run.contexts:
        namespace_texts = [
            f.content
            for f in run.files
            if f.owner.env == ctx.env and f.owner.namespace == ctx.namespace and not f.owner.deployment
        ]
        namespace_docs = tuple(documents.parse(namespace_texts))
        namespace_home = repo.layer("namespace", ctx.namespace).doc.file
        found.append(
            _subject(
                Scope.NAMESPACE,
                ctx.effective,
                target=ctx.target,
                profiles=(),
                docs=namespace_docs,
                namespace_docs=namespace_docs,
                layers=_layers_of_namespace(repo, ctx.env, ctx.namespace),
                home=namespace_home,
                rendered="",
                today=options.today,
            )
        )
        for eff in ctx.deployments:
            if not selection.wants(eff):
                continue
            deployment_layer, layers = resolver.deployment_layers(ctx.env, ctx.namespace, eff.deployment)
            found.append(
                _subject(
                    Scope.DEPLOYMENT,
                    eff,
                    target=options.target or eff.target,
                    profiles=tuple(layer.name for layer in repo.profile_chain(eff.profile)),
                    docs=tuple(doc.content for doc in ctx.documents.get(eff.deployment, ())),
                    namespace_docs=namespace_docs,
                    layers=layers,
                    home=deployment_layer.doc.file,
                    rendered=_rendered_path(run.files, ctx.env, ctx.namespace, eff.deployment),
                    today=options.today,
                )
            )
    return found


def evaluate(rule: Rule, subject: Subject) -> CheckResult:
    """One rule on one subject, graded with the subject's tolerance (waivers not applied yet)."""
    result = CheckResult(rule, subject)
    for violation in rule.check(subject):
        if isinstance(violation, Note):
            if violation not in result.notes:
                result.notes.append(violation)
            continue
        location = violation.location
        if location is None:
            location = subject.where(violation.path) if violation.path is not None else Location(subject.home_file)
        note = subject.effective.read_note(violation.path) if violation.path is not None else ""
        result.findings.append(
            Finding(
                severity=rule.grade(subject.tolerance, violation),
                message=f"{violation.message} ({note})" if note else violation.message,
                path=_dotted(violation.path),
                value=violation.value,
                location=location,
                hint=violation.hint,
            )
        )
    return result


def _dotted(path: tuple[str | int, ...] | None) -> str:
    return dotted(path) if path else ""


def _applies(rule: Rule, subject: Subject) -> bool:
    return rule.scope is Scope.ANY or rule.scope is subject.scope


def _waive(result: CheckResult) -> None:
    if not result.findings or not result.rule.waivable:
        return
    for waiver in result.subject.waivers:
        if waiver.rule == result.rule.id and waiver.active(result.subject.today):
            result.waiver = waiver
            result.findings = [
                Finding(f.severity, f.message, f.path, f.value, f.location, f.hint, waived=True)
                for f in result.findings
            ]
            return


def run_check(repo: ConfigRepo, resolver: Resolver, options: CheckOptions) -> Report:
    """Grade the selection. Bad input (including malformed waivers, exceptions and bounds) raises
    :class:`InputError`; findings are data in the report."""
    rules = all_rules()
    problems = check_inputs(repo, rules, repo.iter_all_files())
    if problems:
        raise InputError(problems)
    results: list[CheckResult] = []
    seen: set[tuple[str, str, str]] = set()
    all_subjects = subjects(repo, resolver, options)
    for subject in all_subjects:
        for rule in rules.values():
            if not _applies(rule, subject):
                continue
            result = evaluate(rule, subject)
            if rule.scope is Scope.ANY:  # the same waiver reaches many subjects: report it once
                fresh = []
                for finding in result.findings:
                    key = (rule.id, str(finding.location), finding.message)
                    if key not in seen:
                        seen.add(key)
                        fresh.append(finding)
                result.findings = fresh
            _waive(result)
            results.append(result)
    return Report(
        options.env, options.today, results, _waiver_uses(all_subjects, results), _exception_uses(all_subjects)
    )


def _waiver_uses(all_subjects: Sequence[Subject], results: Sequence[CheckResult]) -> list[WaiverUse]:
    applied: dict[Location, list[str]] = {}
    for result in results:
        if result.waiver is not None:
            applied.setdefault(result.waiver.location, []).append(result.subject.name)
    uses: dict[Location, WaiverUse] = {}
    for subject in all_subjects:
        for waiver in subject.waivers:
            if waiver.location in uses:
                continue
            status = (
                "expired" if not waiver.active(subject.today) else "applied" if waiver.location in applied else "unused"
            )
            uses[waiver.location] = WaiverUse(waiver, status, tuple(dict.fromkeys(applied.get(waiver.location, []))))
    return sorted(uses.values(), key=lambda u: (u.waiver.rule, str(u.waiver.location)))


def _exception_uses(all_subjects: Sequence[Subject]) -> list[ExceptionUse]:
    uses: list[ExceptionUse] = []
    for subject in all_subjects:
        for exception in subject.exceptions:
            if not exception.active(subject.today):
                status = "expired"
            elif needed(subject, bound_path(exception.path)):
                status = "applied"
            else:
                status = "unused"
            uses.append(ExceptionUse(exception, subject.name, status))
    return uses
