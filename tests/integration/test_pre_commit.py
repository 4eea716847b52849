"""gen's pre-commit hooks, run by the real pre-commit tool in a throw-away configuration repository:
the hooks this repository publishes (``.pre-commit-hooks.yaml``, gen installed by pre-commit from
this checkout) and the configuration ``gen init`` writes (the gen installed beside pre-commit)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import edit

ROOT = Path(__file__).resolve().parents[2]
GIT = ["git", "-c", "user.email=dev@example.com", "-c", "user.name=dev"]


def _gen_on_path(folder: Path) -> dict[str, str]:
    """An environment whose ``gen`` is this checkout's (as an installed gen would be)."""
    folder.mkdir()
    script = folder / "gen"
    script.write_text(
        f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} -m generator "$@"\n'
    )
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A configuration repository as `gen init` makes it, rendered and committed."""
    env = _gen_on_path(tmp_path / "bin")
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    folder = tmp_path / "flink-config"
    folder.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["gen", "init"], cwd=folder, env=env, check=True, capture_output=True)
    subprocess.run(["gen", "render"], cwd=folder, env=env, check=True, capture_output=True)
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    subprocess.run([*GIT, "commit", "-qm", "gen init"], cwd=folder, check=True)
    return folder, env


def _pre_commit(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=900
    )


def _statuses(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        for status in ("Passed", "Failed", "Skipped"):
            if line.endswith(status) and "..." in line:
                found[line.split("...")[0].rstrip(".")] = status
    return found


def test_the_init_configuration_runs_validate_render_check_and_check(repo: tuple[Path, dict[str, str]]) -> None:
    folder, env = repo
    clean = _pre_commit(folder, env, "run", "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert _statuses(clean.stdout) == {
        "gen validate": "Passed",
        "gen render --check": "Passed",
        "gen check": "Passed",
    }

    # a profile change without a new render: the committed output is stale
    profile = folder / "profiles" / "small.yaml"
    edit(profile, "cpu: 0.5", "cpu: 1")
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    stale = _pre_commit(folder, env, "run")
    assert stale.returncode == 1
    assert _statuses(stale.stdout) == {"gen validate": "Passed", "gen render --check": "Failed", "gen check": "Passed"}
    assert "out is out of date: run the same command without --check" in stale.stdout

    # a bad value: validate names the line
    edit(profile, "memory: 1g", "memory: lots")
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    bad = _pre_commit(folder, env, "run")
    assert bad.returncode == 1
    assert _statuses(bad.stdout)["gen validate"] == "Failed"
    assert "profiles/small.yaml:" in bad.stdout and "spec.template.spec.resources.jobmanager.memory" in bad.stdout

    # files no hook reads: the hooks are skipped
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=folder, check=True)
    (folder / "NOTES.md").write_text("notes\n")
    subprocess.run(["git", "add", "NOTES.md"], cwd=folder, check=True)
    skipped = _pre_commit(folder, env, "run")
    assert skipped.returncode == 0
    assert set(_statuses(skipped.stdout).values()) == {"Skipped"}


def test_the_published_hooks_install_gen_and_run(repo: tuple[Path, dict[str, str]]) -> None:
    """pre-commit installs gen from this checkout (as it would from gen's repository and tag) into
    an environment of its own, and runs the three hooks of .pre-commit-hooks.yaml."""
    folder, env = repo
    env = {**env, "PATH": os.environ["PATH"]}  # the hooks run the gen pre-commit installed
    result = _pre_commit(folder, env, "try-repo", str(ROOT), "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _statuses(result.stdout) == {
        "gen check": "Passed",
        "gen render --check": "Passed",
        "gen validate": "Passed",
    }
    profile = folder / "profiles" / "small.yaml"
    edit(profile, "cpu: 0.5", "cpu: 1")
    stale = _pre_commit(folder, env, "try-repo", str(ROOT), "gen-render-check", "--all-files")
    assert stale.returncode == 1
    assert "out is out of date" in stale.stdout
