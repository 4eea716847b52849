"""Reports of a `gen check` run: plain text, a rich table, JSON, and JUnit XML for CI.

Every format carries the same facts per finding: rule ID, checklist item, priority, what was
checked, the offending value with its path and provenance (file:line), and the fix hint. Waivers
and exceptions are always listed, whatever their state: nothing is accepted silently. A rule's notes
(:class:`~generator.policy.model.Note`) are shown with its result in every format, passed included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from generator.policy.engine import Report
from generator.policy.model import CheckResult, Finding, Location, Note, Rule, Severity, Status, show

if TYPE_CHECKING:
    from rich.console import Console

LABEL = {Status.FAILED: "FAILED", Status.WARNING: "WARNING", Status.WAIVED: "WAIVED", Status.PASSED: "PASSED"}
STYLE = {Status.FAILED: "bold red", Status.WARNING: "yellow", Status.WAIVED: "cyan", Status.PASSED: "green"}


def _finding_status(finding: Finding) -> Status:
    if finding.waived:
        return Status.WAIVED
    return Status.FAILED if finding.severity is Severity.FAILURE else Status.WARNING


def _rows(report: Report) -> Iterator[tuple[CheckResult, Finding]]:
    order = {Status.FAILED: 0, Status.WARNING: 1, Status.WAIVED: 2}
    rows = [(r, f) for r in report.results for f in r.findings]
    rows.sort(key=lambda rf: (order[_finding_status(rf[1])], rf[0].subject.name, rf[0].rule.id))
    yield from rows


def _noted(report: Report) -> list[CheckResult]:
    """The results without findings that carry notes (a result with findings shows its notes with them)."""
    return sorted((r for r in report.results if r.notes and not r.findings), key=lambda r: (r.subject.name, r.rule.id))


def note_text(note: Note) -> str:
    return f"{note.text} ({note.source})" if note.source else note.text


def summary(report: Report) -> str:
    failed, warned = report.count(Status.FAILED), report.count(Status.WARNING)
    waived, passed = report.count(Status.WAIVED), report.count(Status.PASSED)
    verdict = "FAILED" if failed else "PASSED"
    subjects = len(report.subjects)
    return (
        f"{verdict}: {failed} failed, {warned} with warnings, {waived} waived, {passed} passed "
        f"({len(report.results)} checks on {subjects} subject{'s' if subjects != 1 else ''}, env {report.env}, "
        f"today {report.today.isoformat()})"
    )


def _value_line(finding: Finding) -> str:
    if finding.path:
        return f"{finding.path} = {finding.shown_value}"
    return finding.shown_value


def _where(location: Location | None) -> str:
    return str(location) if location is not None else "-"


def _waiver_line(result: CheckResult) -> str:
    waiver = result.waiver
    if waiver is None:
        return ""
    return f"waived by {waiver.owner} until {waiver.expires.isoformat()}: {waiver.reason} ({waiver.location})"


def _waiver_lines(report: Report) -> list[str]:
    lines = []
    for use in report.waivers:
        w = use.waiver
        lines.append(
            f"  {w.rule:<8} {use.status:<8} expires {w.expires.isoformat()}  owner {w.owner}: {w.reason}  "
            f"[{w.location}]"
        )
    return lines


def _exception_lines(report: Report) -> list[str]:
    lines = []
    for use in report.exceptions:
        e = use.exception
        owner = f"owner {e.owner}: " if e.owner else ""
        lines.append(
            f"  {use.subject}  {e.path}  {use.status}  review by {e.review_by.isoformat()}  {owner}{e.reason} "
            f"(benchmark: {e.benchmark})  [{e.location}]"
        )
    return lines


def to_text(report: Report) -> str:
    """Plain text, for pipes and CI logs."""
    lines: list[str] = []
    for result, finding in _rows(report):
        rule = result.rule
        status = _finding_status(finding)
        lines.append(f"{LABEL[status]:<8} {rule.id:<8} {result.subject.name}  {rule.item} ({rule.priority})")
        lines.append(f"  checked: {rule.checks}")
        lines.append(f"  found:   {finding.message}")
        lines.append(f"  value:   {_value_line(finding)}")
        lines.append(f"  where:   {_where(finding.location)}")
        if finding.hint:
            lines.append(f"  fix:     {finding.hint}")
        if finding.waived:
            lines.append(f"  waiver:  {_waiver_line(result)}")
        lines += [f"  note:    {note_text(n)}" for n in result.notes]
        lines.append("")
    for result in _noted(report):
        rule = result.rule
        lines.append(f"{LABEL[result.status]:<8} {rule.id:<8} {result.subject.name}  {rule.item} ({rule.priority})")
        lines.append(f"  checked: {rule.checks}")
        lines += [f"  note:    {note_text(n)}" for n in result.notes]
        lines.append("")
    if report.waivers:
        lines += ["Waivers:", *_waiver_lines(report), ""]
    if report.exceptions:
        lines += ["Exceptions:", *_exception_lines(report), ""]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def print_table(report: Report, console: Console) -> None:
    """The coloured table for a terminal."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"gen check: env {report.env}", show_lines=True, expand=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Subject", overflow="fold")
    table.add_column("Checklist item", overflow="fold")
    table.add_column("Finding", overflow="fold", ratio=3)
    table.add_column("Where", overflow="fold", ratio=2)
    for result, finding in _rows(report):
        status = _finding_status(finding)
        text = Text(finding.message)
        text.append(f"\n{_value_line(finding)}", style="bold")
        if finding.hint:
            text.append(f"\nfix: {finding.hint}", style="dim")
        if finding.waived:
            text.append(f"\n{_waiver_line(result)}", style="cyan")
        for note in result.notes:
            text.append(f"\nnote: {note_text(note)}", style="italic")
        table.add_row(  # Text cells: values and paths are never read as rich markup
            Text(LABEL[status], style=STYLE[status]),
            Text(result.rule.id),
            Text(result.subject.name),
            Text(f"{result.rule.item}\n{result.rule.priority}"),
            text,
            Text(_where(finding.location)),
        )
    for result in _noted(report):  # a passed check's notes: what its PASSED rests on
        status = result.status
        table.add_row(
            Text(LABEL[status], style=STYLE[status]),
            Text(result.rule.id),
            Text(result.subject.name),
            Text(f"{result.rule.item}\n{result.rule.priority}"),
            Text("\n".join(f"note: {note_text(n)}" for n in result.notes), style="italic"),
            Text("-"),
        )
    if table.row_count:
        console.print(table)
    for title, lines in (("Waivers", _waiver_lines(report)), ("Exceptions", _exception_lines(report))):
        if lines:
            console.print(f"[bold]{title}[/bold]")
            for line in lines:
                console.print(Text(line))
    failed = report.count(Status.FAILED)
    console.print(Text(summary(report), style="bold red" if failed else "bold green"))


def _location_json(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"file": location.file, "line": location.line or None, "column": location.col or None}


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "item": rule.item,
        "section": rule.section,
        "source": rule.source,
        "priority": str(rule.priority),
        "checks": rule.checks,
    }


def to_json(report: Report) -> str:
    checks = []
    for result in report.results:
        subject = result.subject
        checks.append(
            {
                "rule": _rule_json(result.rule),
                "subject": {
                    "scope": str(subject.scope),
                    "env": subject.env,
                    "namespace": subject.namespace,
                    "deployment": subject.deployment or None,
                    "profile": subject.profile or None,
                    "tolerance": subject.tolerance,
                },
                "status": str(result.status),
                "findings": [
                    {
                        "severity": str(f.severity),
                        "waived": f.waived,
                        "message": f.message,
                        "path": f.path or None,
                        "value": show(f.value) if f.value is not None else None,
                        "location": _location_json(f.location),
                        "hint": f.hint,
                    }
                    for f in result.findings
                ],
                "waiver": None
                if result.waiver is None
                else {"owner": result.waiver.owner, "expires": result.waiver.expires.isoformat()},
                "notes": [{"text": n.text, "source": n.source or None} for n in result.notes],
            }
        )
    data = {
        "env": report.env,
        "today": report.today.isoformat(),
        "passed": report.exit_code == 0,
        "summary": {str(s): report.count(s) for s in Status},
        "checks": checks,
        "waivers": [
            {
                "rule": u.waiver.rule,
                "reason": u.waiver.reason,
                "owner": u.waiver.owner,
                "expires": u.waiver.expires.isoformat(),
                "status": u.status,
                "location": _location_json(u.waiver.location),
                "applied_to": list(u.subjects),
            }
            for u in report.waivers
        ],
        "exceptions": [
            {
                "subject": u.subject,
                "path": u.exception.path,
                "reason": u.exception.reason,
                "benchmark": u.exception.benchmark,
                "reviewBy": u.exception.review_by.isoformat(),
                "owner": u.exception.owner or None,
                "status": u.status,
                "location": _location_json(u.exception.location),
            }
            for u in report.exceptions
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def _finding_text(result: CheckResult, finding: Finding) -> str:
    return (
        f"{finding.message}\nvalue: {_value_line(finding)}\nwhere: {_where(finding.location)}\n"
        f"fix: {finding.hint}\nchecked: {result.rule.checks}"
    )


def _note_line(note: Note) -> str:
    return f"note: {note_text(note)}"


def to_junit(report: Report) -> str:
    """JUnit XML: one test suite per subject, one test case per rule; failures fail, waivers skip."""
    root = ElementTree.Element("testsuites", name=f"gen check {report.env}")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    suites: dict[str, tuple[ElementTree.Element, dict[str, int]]] = {}
    for result in report.results:
        name = result.subject.name
        if name not in suites:
            suite = ElementTree.SubElement(root, "testsuite", name=name)
            suites[name] = (suite, {"tests": 0, "failures": 0, "skipped": 0})
        suite, counts = suites[name]
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname="gen-check." + name.replace("/", "."),
            name=f"{result.rule.id} {result.rule.item}",
        )
        counts["tests"] += 1
        status = result.status
        live = [f for f in result.findings if not f.waived]
        if status is Status.FAILED:
            counts["failures"] += 1
            failures = [f for f in live if f.severity is Severity.FAILURE]
            element = ElementTree.SubElement(
                case, "failure", message=failures[0].message, type=str(result.rule.priority)
            )
            element.text = "\n\n".join(_finding_text(result, f) for f in failures)
        elif status is Status.WAIVED:
            counts["skipped"] += 1
            ElementTree.SubElement(case, "skipped", message=_waiver_line(result))
        warnings = [f for f in live if f.severity is Severity.WARNING]
        said = [*("warning: " + _finding_text(result, f) for f in warnings), *map(_note_line, result.notes)]
        if said:
            out = ElementTree.SubElement(case, "system-out")
            out.text = "\n\n".join(said)
    for suite, counts in suites.values():
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def rules_text(rules: dict[str, Rule]) -> str:
    """The rule table (``gen check --list-rules``)."""
    lines = [f"{'ID':<8} {'priority':<12} {'development':<12} {'production':<11} checklist item"]
    for rule in rules.values():
        dev = rule.grading("development")
        prod = rule.grading("production")
        lines.append(f"{rule.id:<8} {rule.priority!s:<12} {dev!s:<12} {prod!s:<11} {rule.item}")
    return "\n".join(lines) + "\n"
