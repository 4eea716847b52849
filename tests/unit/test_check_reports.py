"""`gen check` reports: plain text when piped, a coloured table in a terminal, JSON, and JUnit XML for CI."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from xml.etree import ElementTree

from rich.console import Console

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.policy import report
from generator.policy.engine import CheckOptions, run_check
from generator.policy.registry import all_rules, anchor
from tests.conftest import run_cli
from tests.unit.test_check import TODAY, WAIVER, conf, marked_line, probe

FAILING = conf("restart-strategy.type: none  # <-", "pipeline.auto-generate-uids: true") + WAIVER.replace(
    "RST-001", "UID-001"
).replace("  # <-", "")


def test_junit_shows_each_failed_rule_as_a_failed_test_case(config: Path) -> None:
    path = probe(config, FAILING)
    result = run_cli("check", "-c", str(config), "-e", "prod", "-d", "probe", "-f", "junit", "--today", TODAY)
    assert result.code == 1
    root = ElementTree.fromstring(result.stdout)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"prod/analytics", "prod/analytics/probe"}
    cases = {c.get("name", "").split()[0]: c for c in suites["prod/analytics/probe"].iter("testcase")}
    assert set(cases) == set(all_rules()) - {"NET-001", "OBS-002", "RES-003"}
    failure = cases["RST-001"].find("failure")
    assert failure is not None and failure.get("type") == "REQUIRED"
    assert f"probe.yaml:{marked_line(path)}:" in (failure.text or "")
    assert "fix: set restart-strategy.type: failure-rate" in (failure.text or "")
    skipped = cases["UID-001"].find("skipped")  # waived
    assert skipped is not None and "data-platform" in (skipped.get("message") or "")
    assert cases["HA-001"].find("failure") is None and cases["HA-001"].find("skipped") is None
    assert root.get("failures") == "1" and root.get("skipped") == "1"
    assert root.get("tests") == str(sum(int(s.get("tests", "0")) for s in suites.values()))


def test_junit_lists_warnings_as_output_of_passing_cases(config: Path) -> None:
    result = run_cli("check", "-c", str(config), "-e", "dev", "-f", "junit", "--today", TODAY)
    assert result.code == 0
    root = ElementTree.fromstring(result.stdout)
    assert root.get("failures") == "0"
    outputs = [c for c in root.iter("testcase") if "warning: " in (c.findtext("system-out") or "")]
    assert {c.get("name", "").split()[0] for c in outputs} == {"IMG-001", "SEC-001"}


def test_plain_text_when_piped(config: Path) -> None:
    path = probe(config, FAILING)
    result = run_cli("check", "-c", str(config), "-e", "prod", "-d", "probe", "--today", TODAY)
    assert result.code == 1
    text = result.stdout
    assert "\x1b[" not in text
    block = text[text.index("FAILED   RST-001") :].split("\n\n")[0].splitlines()
    assert block[0] == "FAILED   RST-001  prod/analytics/probe  Restart strategy (REQUIRED)"
    assert block[1].startswith("  checked: restart-strategy.type is set explicitly")
    assert block[2] == "  found:   the job is never restarted after a failure"
    assert block[3] == "  value:   spec.template.spec.flinkConfiguration.restart-strategy.type = none"
    assert block[4].startswith("  where:   ") and block[4].endswith(
        f"deployments/analytics/probe.yaml:{marked_line(path)}:9"
    )
    assert block[5].startswith("  fix:     ")
    assert "WAIVED   UID-001" in text and "Waivers:" in text
    assert text.rstrip().splitlines()[-1].startswith("FAILED: 1 failed, 0 with warnings, 1 waived")


def test_coloured_table_in_a_terminal(config: Path) -> None:
    probe(config, FAILING)
    repo = ConfigRepo(config)
    result = run_check(repo, Resolver(repo), CheckOptions("prod", datetime.date(2026, 6, 1), deployment="probe"))
    out = io.StringIO()
    report.print_table(result, Console(file=out, force_terminal=True, color_system="standard", width=220))
    text = out.getvalue()
    assert "\x1b[" in text  # coloured
    assert "RST-001" in text and "Restart strategy" in text and "UID-001" in text
    assert "probe.yaml" in text and "FAILED: 1 failed" in text


def test_json_carries_every_fact_of_a_finding(config: Path) -> None:
    path = probe(config, FAILING)
    result = run_cli("check", "-c", str(config), "-e", "prod", "-d", "probe", "-f", "json", "--today", TODAY)
    data = json.loads(result.stdout)
    check = next(c for c in data["checks"] if c["rule"]["id"] == "RST-001" and c["subject"]["deployment"] == "probe")
    assert check["rule"]["item"] == "Restart strategy" and check["rule"]["priority"] == "REQUIRED"
    assert check["rule"]["checks"].startswith("restart-strategy.type is set explicitly")
    assert check["status"] == "failed"
    (finding,) = check["findings"]
    assert finding["path"] == "spec.template.spec.flinkConfiguration.restart-strategy.type"
    assert finding["value"] == "none"
    assert finding["location"]["line"] == marked_line(path)
    assert finding["hint"]
    assert data["summary"] == {"passed": 34, "failed": 1, "warning": 0, "waived": 1}


def test_output_file(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "gen-check.xml"
    result = run_cli("check", "-c", str(config), "-e", "prod", "-f", "junit", "-o", str(target))
    assert result.code == 0
    assert result.stdout == ""
    assert "PASSED: 0 failed" in result.stderr
    assert ElementTree.parse(target).getroot().get("failures") == "0"


def test_list_rules_shows_the_grading() -> None:
    result = run_cli("check", "--list-rules")
    assert result.code == 0
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert set(rows) == set(all_rules())
    assert rows["SEC-001"][1:4] == ["REQUIRED", "warning", "failure"]  # tolerated in development
    assert rows["HA-001"][1:4] == ["REQUIRED", "failure", "failure"]  # not tolerated anywhere
    assert rows["MEM-004"][1:4] == ["REQUIRED", "warning", "warning"]  # a signal, not a refusal


def test_rule_ids_are_stable_and_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "check.md").read_text(encoding="utf-8")
    for rule in all_rules().values():
        row = next((line for line in docs.splitlines() if line.startswith(f"| {rule.id} |")), None)
        assert row is not None, f"{rule.id} missing from docs/check.md"
        assert rule.item in row and str(rule.priority) in row
        assert f"{rule.grading('development')} | {rule.grading('production')}" in row


def test_every_rule_source_is_a_heading_of_the_readiness_checklist() -> None:
    docs = Path(__file__).parents[2] / "docs"
    readiness = (docs / "readiness.md").read_text(encoding="utf-8")
    headings = {anchor(line.lstrip("#")) for line in readiness.splitlines() if line.startswith("#")}
    check_md = (docs / "check.md").read_text(encoding="utf-8")
    for rule in all_rules().values():
        page, _, fragment = rule.source.partition("#")
        assert page == "docs/readiness.md", f"{rule.id}: {rule.source}"
        assert fragment in headings, f"{rule.id}: no heading for #{fragment} in docs/readiness.md"
        assert f"**{rule.id}**" in readiness, f"{rule.id} not listed in docs/readiness.md"
        row = next(line for line in check_md.splitlines() if line.startswith(f"| {rule.id} |"))
        assert f"(readiness.md#{fragment})" in row, f"{rule.id}: docs/check.md does not link its item"
    assert "(readiness.md)" in check_md
