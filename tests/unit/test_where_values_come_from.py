"""Every message points at the line that wrote the value: through templates, across layers, with the
namespace or deployment being resolved named, and with invisible characters reported as what they are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import edit, run_cli, tree_digest

NS = "namespaces/analytics.yaml"
BASE_URI = '    baseUri: "s3://acme-flink-{{ env }}/{{ namespace }}"\n'
LOCATED = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]*):? ?(?P<msg>.+)$", re.M)


def line_of(path: Path, text: str) -> int:
    # lines as editors count them: only a newline ends one
    return next(i for i, line in enumerate(path.read_text().split("\n"), 1) if text in line)


@pytest.mark.parametrize("rule", ["HA-001", "STO-001"])
def test_a_check_on_a_templated_value_names_the_line_that_wrote_what_the_template_read(config: Path, rule: str) -> None:
    edit(config / NS, BASE_URI, '    baseUri: "file:///var/flink/{{ namespace }}"\n')
    result = run_cli("check", "-e", "prod", "-c", str(config), "--format", "json")
    assert result.code == 1
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if c["rule"]["id"] == rule and c["status"] == "failed"]
    assert failed
    written = f"platform.storage.baseUri written at {config / NS}:{line_of(config / NS, 'baseUri:')}:5"
    for check in failed:
        for finding in check["findings"]:
            # located at the template (the line that made the path), naming the line that wrote the value
            assert finding["location"]["file"].endswith("baseline.yaml"), finding
            assert written in finding["message"] and "through the template at" in finding["message"]


def test_explain_shows_the_template_and_the_value_it_read(config: Path) -> None:
    key = "spec.template.spec.flinkConfiguration.execution.checkpointing.dir"
    result = run_cli("explain", key, "-e", "prod", "-p", "stateful-heavy", "-c", str(config))
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "{{ platform.storage.baseUri }}/checkpoints" in lines[1] and "baseline.yaml" in lines[1]
    assert lines[2].split()[:2] == ["reads", "platform.storage.baseUri"], lines
    assert lines[2].endswith(f"{NS}:{line_of(config / NS, 'baseUri:')}:5")


@pytest.mark.parametrize(
    ("file", "old", "new", "resolving"),
    [
        (
            "profiles/small.yaml",
            "      parallelism: 2\n",
            "      parallelism: 9\n",
            "deployment analytics/clickstream-sessions",
        ),
        (
            "environments/prod.yaml",
            "      artifact:\n        flinkImageRegistry",
            "      parallelism: 64\n      artifact:\n        flinkImageRegistry",
            "deployment analytics/",
        ),
    ],
)
def test_a_problem_in_a_shared_layer_names_what_was_being_resolved(
    config: Path, tmp_path: Path, file: str, old: str, new: str, resolving: str
) -> None:
    edit(config / file, old, new)
    out = tmp_path / "out"
    result = run_cli("render", "-e", "prod", "-c", str(config), "-o", str(out))
    assert result.code == 2, result.stderr
    located = [m for m in LOCATED.finditer(result.stderr) if m["file"].endswith(file)]
    assert located, result.stderr
    assert all(f"[resolving {resolving}" in m["msg"] for m in located), result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("character", "name"),
    [
        ("\u2028", "LINE SEPARATOR"),
        ("\u2029", "PARAGRAPH SEPARATOR"),
        ("\u00a0", "NO-BREAK SPACE"),
        ("\u200b", "ZERO WIDTH SPACE"),
        ("\ufeff", "BYTE ORDER MARK"),
    ],
)
def test_an_invisible_character_is_reported_as_what_it_is_at_its_own_line(
    config: Path, tmp_path: Path, character: str, name: str
) -> None:
    out = tmp_path / "out"
    assert run_cli("render", "-c", str(config), "-o", str(out)).code == 0
    before = tree_digest(out)
    path = config / "deployments/analytics/fraud-scoring.yaml"
    edit(path, "displayName: Fraud scoring", f"displayName: Fraud{character}scoring")
    line = line_of(path, "displayName:")
    col = path.read_text().split("\n")[line - 1].index(character) + 1
    result = run_cli("render", "-c", str(config), "-o", str(out))
    assert result.code == 2
    assert f"fraud-scoring.yaml:{line}:{col}: invisible character U+{ord(character):04X} {name}" in result.stderr
    assert character not in result.stderr
    assert tree_digest(out) == before


def test_a_byte_order_mark_at_the_start_is_accepted(config: Path, tmp_path: Path) -> None:
    path = config / "deployments/analytics/fraud-scoring.yaml"
    path.write_text("\ufeff" + path.read_text())
    assert run_cli("render", "-c", str(config), "-o", str(tmp_path / "out")).code == 0
