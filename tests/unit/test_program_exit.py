"""The ``gen`` program exits without tearing the interpreter down (``cli.run``): what it printed still
arrives whole, through a pipe, and its exit codes are those of the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import tree_digest


def _gen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True)


def test_what_a_render_prints_arrives_whole_and_it_exits_0(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _gen("render", "-c", str(config), "-o", str(out), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 8192  # more than one buffer's worth: written during the run and at the end
    report = json.loads(done.stdout)
    written = {p for p in tree_digest(out) if p != "gen-index.json"}
    assert set(report["written"]) == written


def test_a_bad_input_exits_2_and_findings_exit_1(config: Path, tmp_path: Path) -> None:
    missing = _gen("render", "-c", str(tmp_path / "nowhere"), "-o", str(tmp_path / "out"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: ") and "is not a gen configuration folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    out = tmp_path / "out"
    assert _gen("render", "-c", str(config), "-o", str(out)).returncode == 0
    next(p for p in out.rglob("*.yaml")).write_text("edited: by hand\n")
    drift = _gen("render", "-c", str(config), "-o", str(out), "--check")
    assert drift.returncode == 1, drift.stderr
    assert "stale: " in drift.stdout


def test_the_installed_command_is_the_program() -> None:
    """``gen`` (the console script) and ``python -m generator`` both run ``cli.run``."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "gen"]
    assert script.value == "generator.cli:run"
    probe = (
        "import runpy\nfrom generator import cli\n"
        "cli.run = lambda: print('cli.run')\n"
        "runpy.run_module('generator', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "cli.run\n"


def test_under_a_profiler_the_program_exits_the_usual_way(tmp_path: Path) -> None:
    """A profiler (or coverage) writes its results at exit: the program does not skip that."""
    stats = tmp_path / "gen.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "generator", "--version"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("gen ")
    assert stats.is_file() and stats.stat().st_size > 0
