"""The configuration gen reads is the one the user means: the nearest baseline.yaml from the
current folder upwards (as git finds .git), --config and $GEN_CONFIG before it, the shipped example
only with --example or when nothing is found, and then with a notice every time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.config.discover import find_config
from generator.data import example_config_dir
from tests.conftest import run_cli, tree_digest

NOTICE = "note: no baseline.yaml in "


@pytest.fixture
def repo(config: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration repository whose deployments differ from the example's: a job the example
    does not have, so that which configuration was read shows in every command."""
    monkeypatch.delenv("GEN_CONFIG", raising=False)
    (config / "deployments/analytics/fraud-scoring.yaml").rename(config / "deployments/analytics/our-own-job.yaml")
    return config


def _listed(result_stdout: str) -> list[str]:
    return [line.split()[0] for line in result_stdout.splitlines()]


@pytest.mark.parametrize("below", ["", "deployments", "deployments/analytics", "profiles", "out/prod/analytics"])
def test_the_configuration_is_found_from_any_folder_below_it(
    below: str, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = repo / below
    here.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(here)
    listed = run_cli("list", "deployments")
    assert listed.code == 0, listed.stderr
    assert "analytics/our-own-job" in _listed(listed.stdout)
    assert "analytics/fraud-scoring" not in _listed(listed.stdout)
    assert listed.stderr == ""  # found: nothing to say


def test_check_from_a_namespace_folder_grades_the_repository_not_the_example(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "deployments/analytics")
    result = run_cli("check", "-e", "prod", "-d", "our-own-job", "--format", "json")
    assert result.code in (0, 1), result.stderr
    assert "our-own-job" in result.stdout and NOTICE not in result.stderr


def test_render_from_a_subfolder_writes_to_the_repository_root(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "deployments/analytics")
    result = run_cli("render", "-e", "prod")
    assert result.code == 0, result.stderr
    assert "to ../../out (" in result.stderr.splitlines()[-1]
    assert (repo / "out/prod/analytics/vvp/deployment-our-own-job.yaml").is_file()
    assert not (repo / "deployments/analytics/out").exists()
    again = run_cli("render", "-e", "prod", "--check")  # --check compares the same folder
    assert again.code == 0 and "../../out is up to date" in again.stderr
    from_root = tree_digest(repo / "out")
    monkeypatch.chdir(repo)
    assert run_cli("render", "-e", "prod").code == 0
    assert tree_digest(repo / "out") == from_root  # the same folder, the same bytes as from the root


def test_an_explicit_out_is_relative_to_the_current_folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = repo.parent / "elsewhere"
    (elsewhere / "sub").mkdir(parents=True)
    monkeypatch.chdir(repo / "deployments")
    result = run_cli("render", "-e", "dev", "-o", "../../elsewhere/sub/rendered")
    assert result.code == 0, result.stderr
    assert (elsewhere / "sub/rendered/dev/analytics/vvp/deployment-our-own-job.yaml").is_file()
    assert not (repo / "out").exists()


def test_gen_config_and_config_win_over_the_folder_found(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "deployments/analytics")
    monkeypatch.setenv("GEN_CONFIG", str(example_config_dir()))
    listed = run_cli("list", "deployments")
    assert listed.code == 0 and "analytics/fraud-scoring" in _listed(listed.stdout)  # $GEN_CONFIG: the example
    listed = run_cli("list", "deployments", "--config", str(repo))
    assert listed.code == 0 and "analytics/our-own-job" in _listed(listed.stdout)  # --config before $GEN_CONFIG
    assert listed.stderr == ""


def test_example_reads_the_shipped_example_when_asked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "deployments/analytics")
    listed = run_cli("list", "deployments", "--example")
    assert listed.code == 0, listed.stderr
    assert "analytics/fraud-scoring" in _listed(listed.stdout) and "analytics/our-own-job" not in listed.stdout
    assert listed.stderr == ""  # asked for: no notice
    both = run_cli("list", "--example", "--config", str(repo))
    assert (
        both.code == 2
        and both.stderr == "error: --config and --example name two configurations (hint: pass one of them)\n"
    )


def test_without_a_configuration_the_example_is_used_with_a_notice_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEN_CONFIG", raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    for argv in (["list", "deployments"], ["check", "-e", "dev", "--format", "json"], ["render", "-e", "dev"]):
        result = run_cli(*argv)
        assert result.code in (0, 1), result.stderr
        notice = [line for line in result.stderr.splitlines() if line.startswith(NOTICE)]
        assert notice == [
            f"{NOTICE}{empty} or above: using the example configuration shipped with gen (pass --config DIR or "
            "set GEN_CONFIG to use yours, or --example to ask for the example)"
        ], result.stderr
        assert NOTICE not in result.stdout  # a report on stdout stays clean
    assert (empty / "out/dev/analytics").is_dir()  # the example's output goes to ./out


@pytest.mark.parametrize("spelling", ["baseline.yml", "baseline.YAML", "Baseline.yaml"])
def test_a_misspelt_baseline_is_an_error_not_a_reason_to_look_further(
    spelling: str, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "baseline.yaml").rename(repo / spelling)
    monkeypatch.chdir(repo / "deployments")
    result = run_cli("check", "-e", "prod")
    assert result.code == 2
    assert result.stderr == (
        f"error: {repo / spelling} is not read: gen looks for baseline.yaml "
        "(hint: rename it to baseline.yaml, or pass --config DIR)\n"
    )
    explicit = run_cli("list", "--config", str(repo))
    assert explicit.code == 2
    assert f"it has no baseline.yaml (it has {spelling}, which gen does not read)" in explicit.stderr


def test_the_search_stops_at_the_nearest_baseline_and_at_the_file_system_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEN_CONFIG", raising=False)
    outer, inner = tmp_path / "outer", tmp_path / "outer/nested/inner"
    (inner / "deep").mkdir(parents=True)
    (outer / "baseline.yaml").write_text("")
    (inner / "baseline.yaml").write_text("")
    assert find_config(None, cwd=inner / "deep").root == Path("..")
    assert find_config(None, cwd=outer / "nested").root == Path("..")
    assert find_config(None, cwd=outer).root == Path(".")
    (outer / "baseline.yaml").unlink()
    assert find_config(None, cwd=outer / "nested").how == "fallback"
    root = find_config(None, cwd=Path("/"))
    assert root.how == ("found" if os.path.lexists("/baseline.yaml") else "fallback")


def test_a_baseline_that_is_not_a_file_stops_the_search_and_is_reported(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = repo / "deployments/analytics"
    (nested / "baseline.yaml").mkdir()  # a folder: gen must not walk past it to the outer configuration
    monkeypatch.chdir(nested)
    result = run_cli("validate")
    assert result.code == 2
    assert "baseline.yaml:1:1: cannot read file: it is a folder" in result.stderr


def test_the_notice_is_one_line_whatever_the_folder_is_called(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEN_CONFIG", raising=False)
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9\nnew-line"))
    odd.mkdir()
    monkeypatch.chdir(odd)
    result = run_cli("list", "profiles")
    assert result.code == 0
    (notice,) = [line for line in result.stderr.splitlines() if line.startswith(NOTICE)]
    assert "caf\\udce9\\nnew-line or above: using the example configuration" in notice
