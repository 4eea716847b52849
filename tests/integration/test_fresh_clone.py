"""The repository is itself a working configuration repository: from a fresh clone, the installed
package renders the top-level configuration, the same bytes it renders from an empty folder (the
embedded default), and leaves the clone clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import tree_digest

ROOT = Path(__file__).resolve().parents[2]
MAIN = ("render", "--profile", "stateful-heavy", "--env", "prod")


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_fresh_clone_renders_its_own_configuration_like_the_installed_default(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.fail("the tests run from a git checkout of the project")
    clone = tmp_path / "clone"
    _git("clone", "-q", str(ROOT), str(clone), cwd=tmp_path)
    site = tmp_path / "site"
    subprocess.run(  # pip install . (without the dependencies, which the test environment has)
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q", "--target", str(site), "."],
        cwd=clone,
        check=True,
        capture_output=True,
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sorted(deps)])}
    env.pop("GEN_CONFIG", None)

    def gen(cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-S", "-m", "generator", *MAIN], cwd=cwd, env=env, capture_output=True, text=True
        )

    in_clone = gen(clone)
    assert in_clone.returncode == 0, in_clone.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    from_default = gen(empty)
    assert from_default.returncode == 0, from_default.stderr

    rendered = tree_digest(clone / "out")
    assert ".gitkeep" in rendered  # the tracked placeholder stays (git status below checks it)
    rendered.pop(".gitkeep")
    assert "prod/analytics/vvp/deployment-fraud-scoring.yaml" in rendered
    assert rendered == tree_digest(empty / "out")
    assert _git("status", "--porcelain", "--ignored=no", cwd=clone) == ""
    # the clone's configuration is the one read: a change to it shows in the output
    profile = clone / "profiles/stateful-heavy.yaml"
    profile.write_text(profile.read_text().replace("memory: 16g", "memory: 12g"))
    assert gen(clone).returncode == 0
    changed = tree_digest(clone / "out")
    changed.pop(".gitkeep")
    assert changed != rendered
