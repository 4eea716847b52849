"""`gen --version`, the gen version in gen-index.json, `--format json` of render and validate (and the
error report every --format json prints on exit 2), and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.commands.base import app
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["render", "-e", "dev", "-p", "small"]
RENDER_KEYS = ["out", "check", "drift", "written", "changed", "removed", "unchanged", "stale", "missing", "extra"]
ERROR_KEYS = ["error", "hint", "problems"]
PROBLEM_KEYS = ["file", "line", "column", "key", "message", "hint"]


def test_version_prints_the_installed_version_and_exits_0() -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.stdout == f"gen {version('generator')}\n"


def test_version_imports_nothing_heavy() -> None:
    probe = (
        "import sys\nsys.argv = ['gen', '--version']\nfrom generator import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('yaml', 'jinja2', 'generator.output', 'generator.config') if m in sys.modules)\n"
        "print(heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines()[-1] == "[]"


def test_the_index_records_the_gen_version_and_another_version_is_no_drift(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli(*SMALL, "--example", "-o", str(out)).code == 0
    index = json.loads((out / "gen-index.json").read_text())
    assert index["gen_version"] == version("generator")
    assert index["version"] == 1
    # a folder written by another gen version, with the same files: --check finds no drift
    index["gen_version"] = "0.0.1"
    (out / "gen-index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    checked = run_cli(*SMALL, "--example", "-o", str(out), "--check", "--format", "json")
    assert checked.code == 0, checked.stderr
    assert json.loads(checked.stdout)["drift"] is False
    # a render with nothing to change leaves the index (and the version it records) as it was
    assert run_cli(*SMALL, "--example", "-o", str(out)).code == 0
    assert json.loads((out / "gen-index.json").read_text())["gen_version"] == "0.0.1"


def test_render_json_lists_written_changed_removed_and_unchanged(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    first = run_cli(*SMALL, "-c", str(config), "-o", str(out), "--format", "json")
    assert first.code == 0, first.stderr
    data = json.loads(first.stdout)
    assert list(data) == RENDER_KEYS
    assert data["out"] == str(out) and data["check"] is False and data["drift"] is True
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "gen-index.json")
    assert data["written"] == on_disk
    assert data["changed"] == on_disk == data["missing"]
    assert data["removed"] == data["unchanged"] == data["stale"] == data["extra"] == []

    again = json.loads(run_cli(*SMALL, "-c", str(config), "-o", str(out), "--format", "json").stdout)
    assert again["drift"] is False and again["changed"] == [] and again["unchanged"] == on_disk

    stray = out / "dev/analytics/vvp/deployment-gone.yaml"
    index = json.loads((out / "gen-index.json").read_text())
    index["files"]["dev/analytics/vvp/deployment-gone.yaml"] = {"owner": {"env": "dev", "namespace": "analytics"}}
    (out / "gen-index.json").write_text(json.dumps(index))
    stray.write_text("kind: Deployment\n")
    edited = out / on_disk[0]
    edited.write_text("# edited\n")
    third = run_cli(*SMALL, "-c", str(config), "-o", str(out), "--format", "json")
    assert third.code == 0, third.stderr
    data = json.loads(third.stdout)
    assert data["changed"] == data["stale"] == [on_disk[0]]
    assert data["removed"] == [{"path": "dev/analytics/vvp/deployment-gone.yaml", "stateful": None}]
    assert data["extra"] == ["dev/analytics/vvp/deployment-gone.yaml"]
    assert not stray.exists()


def test_render_check_json_reports_drift_and_exits_1(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert run_cli(*SMALL, "-c", str(config), "-o", str(out)).code == 0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml"))
    (out / files[0]).write_text("# edited\n")
    (out / files[1]).unlink()
    result = run_cli(*SMALL, "-c", str(config), "-o", str(out), "--check", "--format", "json")
    assert result.code == 1
    data = json.loads(result.stdout)
    assert list(data) == RENDER_KEYS
    assert data["check"] is True and data["drift"] is True
    assert data["stale"] == [files[0]] and data["missing"] == [files[1]] and data["extra"] == []
    assert data["written"] == data["changed"] == data["removed"] == []
    assert files[0] not in data["unchanged"] and len(data["unchanged"]) == len(files) - 2
    assert (out / files[0]).read_text() == "# edited\n"  # --check writes nothing


def _break(config: Path) -> None:
    small = config / "profiles" / "small.yaml"
    small.write_text(small.read_text() + "spec: [\n")


@pytest.mark.parametrize("command", [["render", "-e", "dev"], ["validate"], ["check", "-e", "dev"]])
def test_bad_input_with_format_json_prints_the_problems_on_stdout_and_exits_2(
    tmp_path: Path, config: Path, command: list[str]
) -> None:
    _break(config)
    out = ["-o", str(tmp_path / "out")] if command[0] == "render" else []
    result = run_cli(*command, "-c", str(config), *out, "--format", "json")
    assert result.code == 2
    data = json.loads(result.stdout)
    assert list(data) == ERROR_KEYS
    assert data["error"] == "1 problem in the configuration"
    [problem] = data["problems"]
    assert list(problem) == PROBLEM_KEYS
    assert problem["file"].endswith("profiles/small.yaml")
    assert isinstance(problem["line"], int) and isinstance(problem["column"], int)
    assert problem["message"].startswith("malformed YAML")
    assert "problem in the configuration" in result.stderr  # the text report still goes to stderr
    assert not (tmp_path / "out").exists()


def test_a_usage_error_with_format_json_is_a_json_error_without_problems(config: Path) -> None:
    result = run_cli("explain", "spec.nothing", "-e", "prod", "-c", str(config), "--format", "json")
    assert result.code == 2
    data = json.loads(result.stdout)
    assert data["problems"] == [] and "is not set" in data["error"]


def test_bad_input_in_text_format_prints_nothing_on_stdout(config: Path) -> None:
    _break(config)
    result = run_cli("validate", "-c", str(config))
    assert result.code == 2 and result.stdout == ""


def test_validate_json_on_a_valid_configuration(config: Path) -> None:
    result = run_cli("validate", "-c", str(config), "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["valid", "layer_files", "documents", "problems"]
    assert data["valid"] is True and data["problems"] == []
    assert data["layer_files"] > 5 and data["documents"] > 10


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_a_script_for_gen(shell: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = CliRunner().invoke(app, ["--show-completion", shell], prog_name="gen")
    assert result.exit_code == 0, result.output
    assert "_GEN_COMPLETE" in result.stdout and "gen" in result.stdout


def test_completion_lists_the_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_GEN_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "gen ren")
    monkeypatch.setenv("COMP_CWORD", "1")
    result = CliRunner().invoke(app, [], prog_name="gen")
    assert "render" in result.stdout
