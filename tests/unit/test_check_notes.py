"""Notes of `gen check`: a rule says what its result rests on where the platform does not document the
property it grades (HA-002 on Ververica Platform: one JobManager, Kubernetes HA instead of standbys), in
every output format, for passed checks too, without changing the status."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from rich.console import Console

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.policy import report
from generator.policy.engine import CheckOptions, evaluate, run_check, subjects
from generator.policy.model import Note, Priority, Rule, Status, Subject, Violation
from tests.conftest import run_cli
from tests.unit.test_check import TODAY, check, conf, probe

ONE_JOBMANAGER = (
    "VVP runs one JobManager per deployment; replica count is not controllable on VVP, so HA here means "
    "Kubernetes HA with a storage directory: the JobManager is restarted and recovers"
)
CONTAINER_NAMES = "does not document its container names"


def notes(data: dict[str, Any], rule: str, deployment: str = "probe") -> list[tuple[str, list[str]]]:
    """(status, note texts) of ``rule``'s checks of ``deployment``."""
    return [
        (c["status"], [n["text"] for n in c["notes"]])
        for c in data["checks"]
        if c["rule"]["id"] == rule and c["subject"]["deployment"] == deployment
    ]


def test_a_passed_ha_002_on_vvp_says_the_replica_count_is_not_controllable(config: Path) -> None:
    probe(config, conf("kubernetes.jobmanager.replicas: 1"))
    _, data = check(config, "prod", "--deployment", "probe")
    [(status, texts)] = notes(data, "HA-002")
    assert status == "passed" and texts == [ONE_JOBMANAGER]
    check_json = next(c for c in data["checks"] if c["rule"]["id"] == "HA-002")
    assert check_json["notes"][0]["source"].startswith("https://docs.ververica.com/")
    assert check_json["findings"] == []


def test_a_replica_option_on_vvp_is_not_passed_on_and_the_note_says_one_jobmanager(config: Path) -> None:
    """gen does not hand kubernetes.jobmanager.replicas to VVP (no source says it takes effect there),
    so the only note is the one JobManager VVP runs."""
    probe(config, conf("kubernetes.jobmanager.replicas: 3"))
    _, data = check(config, "prod", "--deployment", "probe")
    [(status, texts)] = notes(data, "HA-002")
    assert status == "passed"
    assert texts == [ONE_JOBMANAGER]


def test_a_failed_ha_002_on_vvp_carries_the_note_too(config: Path) -> None:
    probe(config, conf("high-availability.type: NONE  # <-", "kubernetes.jobmanager.replicas: 1"))
    _, data = check(config, "prod", "--deployment", "probe")
    [(status, texts)] = notes(data, "HA-002")
    assert status == "failed" and texts == [ONE_JOBMANAGER]


def test_the_flink_operator_controls_replicas_so_ha_002_has_no_note(config: Path) -> None:
    probe(config, conf("kubernetes.jobmanager.replicas: 2"))
    _, data = check(config, "prod", "--deployment", "probe", "--target", "flink-operator")
    for rule in ("HA-002", "RES-001", "MEM-003", "OBS-001", "SEC-001"):
        assert [texts for _, texts in notes(data, rule)] == [[]], rule


def test_container_settings_on_vvp_are_noted_as_resting_on_undocumented_container_names(config: Path) -> None:
    """CPU and memory limits and the metrics port are per-container settings: on VVP they reach the
    Flink container only if VVP's containers carry the names gen uses, which VVP does not document."""
    probe(config, conf("kubernetes.jobmanager.replicas: 1"))
    _, data = check(config, "prod", "--deployment", "probe")
    for rule, what in (
        ("RES-001", "the container CPU limit"),
        ("MEM-003", "the container memory limit"),
        ("OBS-001", "the named metrics port"),
    ):
        [(status, texts)] = notes(data, rule)
        assert status == "passed", rule
        assert len(texts) == 1 and texts[0].startswith(f"on VVP, {what}"), (rule, texts)
        assert "flink-jobmanager" in texts[0] and "flink-taskmanager" in texts[0] and CONTAINER_NAMES in texts[0]


def test_tls_from_the_vvp_annotation_is_noted_on_vvp_3_only(config: Path) -> None:
    """The flink.security.ssl.enabled annotation is documented for VVP 1.3 and 2.x, not for VVP 3."""
    probe(config, conf("kubernetes.jobmanager.replicas: 1"))
    _, data = check(config, "prod", "--deployment", "probe")
    assert notes(data, "SEC-001") == [("passed", [])]
    _, data = check(config, "prod", "--deployment", "probe", "--target", "vvp-operator")
    [(status, texts)] = notes(data, "SEC-001")
    assert status == "passed" and len(texts) == 1
    assert "no VVP 3.1 page documents it" in texts[0] and "security.ssl.internal.enabled" in texts[0]


def test_notes_in_the_table_the_plain_text_and_junit(config: Path) -> None:
    probe(config, conf("kubernetes.jobmanager.replicas: 1"))
    repo = ConfigRepo(config)
    result = run_check(repo, Resolver(repo), CheckOptions("prod", datetime.date(2026, 6, 1), deployment="probe"))
    out = io.StringIO()
    report.print_table(result, Console(file=out, width=400, color_system=None))
    table = out.getvalue()
    row = next(line for line in table.splitlines() if "HA-002" in line)
    assert "PASSED" in row and "prod/analytics/probe" in row
    assert "note: VVP runs one JobManager per deployment; replica count is not controllable on VVP" in table
    text = report.to_text(result)
    block = text[text.index("PASSED   HA-002   prod/analytics/probe") :].split("\n\n")[0].splitlines()
    assert block[1].startswith("  checked: ")
    assert block[2] == f"  note:    {ONE_JOBMANAGER} (" + result_source(result, "HA-002") + ")"
    root = ElementTree.fromstring(report.to_junit(result))
    case = next(c for c in root.iter("testcase") if (c.get("name") or "").startswith("HA-002"))
    assert case.find("failure") is None and case.find("skipped") is None
    assert f"note: {ONE_JOBMANAGER}" in (case.findtext("system-out") or "")


def result_source(result: Any, rule: str) -> str:
    sources = {n.source for r in result.results if r.rule.id == rule for n in r.notes}
    assert len(sources) == 1
    return str(sources.pop())


def test_the_cli_json_has_notes_on_every_check(config: Path) -> None:
    result = run_cli("check", "-c", str(config), "-e", "prod", "-f", "json", "--today", TODAY)
    data = json.loads(result.stdout)
    assert all(isinstance(c["notes"], list) for c in data["checks"])
    assert any(c["notes"] and c["status"] == "passed" for c in data["checks"])


def _noting(subject: Subject) -> Iterator[Violation | Note]:
    yield Note("first", "docs/check.md#notes")
    yield Violation("found")
    yield Note("first", "docs/check.md#notes")  # said twice: kept once
    yield Note("second")


def test_a_rule_notes_are_typed_kept_once_in_order_and_leave_the_status_alone(config: Path) -> None:
    repo = ConfigRepo(config)
    options = CheckOptions("prod", datetime.date(2026, 6, 1))
    subject = next(s for s in subjects(repo, Resolver(repo), options) if s.deployment)
    noting = Rule("TST-001", "Test item", "Test", "docs/readiness.md", Priority.REQUIRED, "notes", _noting)
    result = evaluate(noting, subject)
    assert result.notes == [Note("first", "docs/check.md#notes"), Note("second")]
    assert [f.message for f in result.findings] == ["found"] and result.status is Status.FAILED
    quiet = Rule("TST-002", "Test item", "Test", "docs/readiness.md", Priority.REQUIRED, "notes", lambda s: [Note("n")])
    assert evaluate(quiet, subject).status is Status.PASSED


def test_non_root_from_the_container_context_alone_is_noted_on_vvp(config: Path) -> None:
    """The shipped pods are non-root at pod level (no note); when only the Flink container's own context
    makes them non-root, the pass rests on VVP's undocumented container names."""
    probe(config, conf("kubernetes.jobmanager.replicas: 1"))
    _, data = check(config, "prod", "--deployment", "probe")
    assert notes(data, "SEC-002") == [("passed", [])]
    body = conf("kubernetes.jobmanager.replicas: 1") + (
        "      kubernetes:\n        pods:\n          securityContext:\n            runAsNonRoot: null\n"
    )
    probe(config, body)
    _, data = check(config, "prod", "--deployment", "probe")
    [(status, texts)] = notes(data, "SEC-002")
    assert status == "passed" and len(texts) == 1 and texts[0].startswith("on VVP, the non-root setting")
