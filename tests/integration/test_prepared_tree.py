"""The new output tree begun while the run renders (``output.prepare``: a helper process checks the
previous tree and hard-links its files beside it; ``output.write`` completes it): the same tree as a
render that builds it all at the end, the same refusals, and a helper that fails changes nothing but
the speed. (The refusals themselves are in test_failed_swap.py, the kills in test_durability.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import output
from generator.output import Owner, Plan, mirror, swap
from generator.output.index import OutFile
from tests.conftest import Result, edit, tree_digest

SELECT = ["-e", "prod"]


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[output.Prepared | None]:
    """What each render's ``output.prepare`` returned (``None``: no helper was started)."""
    started: list[output.Prepared | None] = []
    real = output.prepare

    def spy(*args: Any) -> output.Prepared | None:
        started.append(real(*args))
        return started[-1]

    monkeypatch.setattr(output, "prepare", spy)
    return started


def _empty_folders(root: Path) -> list[Path]:
    return [Path(d) for d, dirs, files in os.walk(root) if not dirs and not files]


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.glob(f".{out.name}.gen-*"))


def test_the_tree_a_helper_began_is_the_tree_of_a_cold_render(
    config: Path, tmp_path: Path, cli: Callable[..., Result], helpers: list[output.Prepared | None]
) -> None:
    out = tmp_path / "out"
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    assert helpers == []  # no previous tree to begin from: no lock taken early, no helper
    edit(config / "profiles/stateful-heavy.yaml", "          memory: 16g\n", "          memory: 24g\n")
    first = sorted((config / "deployments").glob("*/*.yaml"))[0]
    first.unlink()  # a deployment removed: its files go, and the folders they leave empty
    result = cli("render", *SELECT, "-c", str(config), "-o", str(out), "--allow-delete")
    assert result.code == 0, result.stderr
    assert helpers[-1] is not None and helpers[-1].done
    cold = tmp_path / "cold"
    assert cli("render", *SELECT, "-c", str(config), "-o", str(cold), "--no-cache").code == 0
    assert tree_digest(out) == tree_digest(cold)
    assert _empty_folders(out) == _empty_folders(cold) == []
    assert _leftovers(out) == []

    helpers.clear()
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    assert helpers == []  # nothing changed since the last render: no helper, nothing written
    assert tree_digest(out) == tree_digest(cold)


def test_the_helper_that_began_the_tree_removes_the_previous_one(
    config: Path,
    tmp_path: Path,
    cli: Callable[..., Result],
    helpers: list[output.Prepared | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the swap, the helper (waiting since it linked the new tree) is handed the previous tree
    and removes it: no other helper is started for that, and the run removes nothing itself."""
    out = tmp_path / "out"
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    others: list[Path] = []
    removed_here: list[Path] = []
    monkeypatch.setattr(swap, "_start_removal", lambda tree, lock: others.append(tree))
    monkeypatch.setattr(swap, "_remove_previous", lambda tree, shown: removed_here.append(tree))
    edit(config / "profiles/stateful-heavy.yaml", "          memory: 16g\n", "          memory: 24g\n")
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    helper = helpers[-1]
    assert helper is not None and helper.process.returncode == 0
    assert others == [] and removed_here == [] and _leftovers(out) == []
    cold = tmp_path / "cold"
    assert cli("render", *SELECT, "-c", str(config), "-o", str(cold), "--no-cache").code == 0
    assert tree_digest(out) == tree_digest(cold)


def test_the_helper_removes_the_tree_it_is_handed_once_it_reported(tmp_path: Path) -> None:
    out, new, gone = tmp_path / "out", tmp_path / "new", tmp_path / "gone"
    (out / "ns").mkdir(parents=True)
    (out / "ns" / "file").write_text("x\n")
    shutil.copytree(out, gone)
    command = [sys.executable, "-I", "-S", mirror.__file__, str(out), str(new)]
    done = subprocess.run(command, input=os.fsencode(gone), capture_output=True, check=False)
    assert done.returncode == 0 and json.loads(done.stdout)["linked"].keys() == {"ns/file"}
    assert not gone.exists() and (new / "ns" / "file").read_text() == "x\n"
    nothing = subprocess.run([*command[:-1], str(tmp_path / "new2")], input=b"", capture_output=True, check=False)
    assert nothing.returncode == 0 and (out / "ns" / "file").exists()  # nothing handed: nothing removed
    missing = subprocess.run(
        [*command[:-1], str(tmp_path / "new3")], input=os.fsencode(gone), capture_output=True, check=False
    )
    assert missing.returncode == 1  # what it could not remove (here: already gone)


def test_a_helper_that_fails_leaves_the_write_to_the_run(
    config: Path, tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    edit(config / "profiles/stateful-heavy.yaml", "          memory: 16g\n", "          memory: 24g\n")
    broken = tmp_path / "broken.py"
    broken.write_text("import os, sys\nos.mkdir(sys.argv[2])\nopen(sys.argv[2] + '/half', 'w').close()\nsys.exit(3)\n")
    monkeypatch.setattr(mirror, "__file__", str(broken))  # what the helper runs: it dies half-way
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    cold = tmp_path / "cold"
    assert cli("render", *SELECT, "-c", str(config), "-o", str(cold), "--no-cache").code == 0
    assert tree_digest(out) == tree_digest(cold)
    assert _leftovers(out) == []


def test_a_run_that_writes_nothing_stops_the_helper_and_removes_what_it_made(
    config: Path, tmp_path: Path, cli: Callable[..., Result], helpers: list[output.Prepared | None]
) -> None:
    out = tmp_path / "out"
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    before = tree_digest(out)
    edit(config / "profiles/stateful-heavy.yaml", "          memory: 16g\n", "          memory: 16g  # the same\n")
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0  # inputs changed, files did not
    assert helpers[-1] is not None and helpers[-1].done and helpers[-1].process.returncode is not None
    assert tree_digest(out) == before and _leftovers(out) == []

    edit(config / "profiles/stateful-heavy.yaml", "memory: 16g  # the same", "memory: [not, a, size]")
    assert cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 2  # a problem: nothing written
    assert helpers[-1] is not None and helpers[-1].done
    assert tree_digest(out) == before and _leftovers(out) == []


def test_a_link_is_kept_only_if_it_is_the_file_the_plan_compared(tmp_path: Path) -> None:
    """Between the helper's link and the plan, a file of the folder may be replaced by another (another
    inode): the plan compares that one, so the link, which holds the old one, is not what it compared.
    The new tree then takes the rendered content, never the linked file."""
    owner = Owner("prod", "ns")
    out, new = tmp_path / "out", tmp_path / ".out.gen-tmp-test"
    for folder in ("ns", "old"):
        (out / folder).mkdir(parents=True)
        (new / folder).mkdir(parents=True)
    names = ("kept", "fixed", "replaced", "gone")
    files = {name: OutFile(f"ns/{name}", f"{name}: 1\n", owner) for name in names}
    previous = {"ns/kept": "kept: 1\n", "ns/fixed": "fixed: 0\n", "ns/replaced": "replaced: 1\n", "old/removed": "x\n"}
    for path, text in previous.items():
        (out / path).write_text(text)
        os.link(out / path, new / path)  # what the helper did
    linked = {path: os.lstat(new / path).st_ino for path in previous}
    for path, text in (("ns/fixed", "fixed: 1\n"), ("ns/replaced", "replaced: 2\n")):
        (out / path).unlink()
        (out / path).write_text(text)  # replaced by another file: the rendered bytes, or others

    plan: Plan[OutFile] = output.plan(out, files.values(), output.Scope(), force=True)
    assert sorted(plan.unchanged) == ["ns/fixed", "ns/kept"]
    assert plan.stale == ["ns/replaced"] and plan.missing == ["ns/gone"]
    swap._complete(out, new, plan, linked, [])
    assert {f"ns/{name}": (new / "ns" / name).read_text() for name in names} == {
        f.path: f.content for f in files.values()
    }
    assert os.lstat(new / "ns/kept").st_ino == linked["ns/kept"]  # the very file the plan compared
    assert not (new / "old").exists()  # what the run does not write, and the folder it leaves empty
    shutil.rmtree(new)


def test_every_refusal_of_the_helper_has_a_message() -> None:
    assert set(swap._REFUSALS) == mirror.KINDS
