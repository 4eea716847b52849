"""Nothing is ever lost: interrupted renders, concurrent renders and folders gen did not write.

A render builds the complete new tree beside the output folder and swaps it in with one atomic
rename; these tests interrupt it everywhere it can be interrupted (an error between two file
writes, SIGKILL of a real `gen` process at every stage and at random moments) and check that the
output folder is always either the previous tree byte for byte or the complete new one.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from generator import output
from generator.errors import OutputError
from tests.conftest import edit, run_cli, tree_digest

SELECT = ["-e", "prod"]


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.glob(f".{out.name}.gen-*"))


@pytest.fixture
def before_and_after(tmp_path: Path, config: Path) -> Iterator[tuple[Path, dict[str, str], dict[str, str]]]:
    """An output folder rendered from the example, the config edited so that the next render
    changes files, and the digests of the old and the new tree."""
    out = tmp_path / "out"
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    old = tree_digest(out)
    edit(config / "profiles/stateful-heavy.yaml", "          memory: 16g\n", "          memory: 24g\n")
    edit(config / "deployments/analytics/events-ingest.yaml", "      parallelism: 8\n", "      parallelism: 6\n")
    edit(
        config / "baseline.yaml",
        "    app.kubernetes.io/managed-by: gen\n",
        "    app.kubernetes.io/managed-by: gen\n    c: x\n",
    )
    expected = tmp_path / "expected"
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(expected)).code == 0
    new = tree_digest(expected)
    # an unchanged file is linked into the new tree, never opened: the failure tests need several writes
    assert len(_changed(old, new)) >= 6
    yield out, old, new


def _changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The files a render from the old tree to the new one writes (the index aside)."""
    return [name for name, digest in new.items() if name != "gen-index.json" and old.get(name) != digest]


# -- a failure between two writes --------------------------------------------------------------
def _failing_after(n: int) -> object:
    calls = [0]
    create = output.swap._create

    def fake_create(path: str, content: str) -> None:
        if calls[0] == n:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        calls[0] += 1
        create(path, content)

    return fake_create


@pytest.mark.parametrize("failing_write", [0, 1, 5, -1])
def test_a_failure_between_file_writes_leaves_the_previous_output_intact(
    failing_write: int,
    before_and_after: tuple[Path, dict[str, str], dict[str, str]],
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, old, new = before_and_after
    writes = len(_changed(old, new))
    n = writes - 1 if failing_write == -1 else failing_write
    assert n < writes
    monkeypatch.setattr(output.swap, "_create", _failing_after(n))  # how the writer creates a file
    result = run_cli("render", *SELECT, "-c", str(config), "-o", str(out))
    assert result.code == 2, result.stderr
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr
    assert tree_digest(out) == old
    assert _leftovers(out) == []


@pytest.mark.parametrize("stage", ["index", "flush", "exchange"])
def test_a_failure_at_the_swap_leaves_the_previous_output_intact(
    stage: str,
    before_and_after: tuple[Path, dict[str, str], dict[str, str]],
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, old, _new = before_and_after

    def fail(*args: object, **kwargs: object) -> object:
        raise OSError(errno.EIO, "Input/output error")

    target = {"index": "index_text", "flush": "_flush", "exchange": "_exchange"}[stage]
    monkeypatch.setattr(output.swap, target, fail)
    result = run_cli("render", *SELECT, "-c", str(config), "-o", str(out))
    assert result.code == 2, result.stderr
    assert "Input/output error" in result.stderr
    assert tree_digest(out) == old
    assert _leftovers(out) == []


# -- SIGKILL of a real process ---------------------------------------------------------------------
HARNESS = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from generator import output
    import generator.output.cache

    mode, n = sys.argv[1], int(sys.argv[2])
    real_create, real_exchange = output.swap._create, output.swap._exchange
    real_write, real_plan = output.write, output.plan
    opened = [0]

    def kill_me():
        os.kill(os.getpid(), signal.SIGKILL)

    def counting_create(path, content):
        if mode == "file" and opened[0] == n:
            kill_me()
        opened[0] += 1
        real_create(path, content)

    def exchange(a, b):
        done = real_exchange(a, b)
        kill_me()

    def pause():
        ready, go = Path(os.environ["GEN_TEST_READY"]), Path(os.environ["GEN_TEST_GO"])
        ready.write_text("in the lock")
        while not go.exists():
            time.sleep(0.02)

    def paused_write(out, result, **kwargs):
        pause()
        return real_write(out, result, **kwargs)

    def paused_plan(*args, **kwargs):
        pause()
        return real_plan(*args, **kwargs)

    output.swap._create = counting_create
    if mode == "flush":
        output.swap._flush = lambda *args, **kwargs: kill_me()
    elif mode == "exchange":
        output.swap._exchange = exchange
    elif mode == "pause":
        output.write = paused_write
    elif mode == "pause-plan":  # where the commands plan: directly, or through the cache's stamps
        output.plan = output.cache.plan = paused_plan
    sys.argv = ["gen", *sys.argv[3:]]
    from generator.cli import main
    main()
    """
)


def _gen(
    *args: str, mode: str = "", n: int = 0, env: dict[str, str] | None = None, stderr: IO[str] | int = subprocess.PIPE
) -> subprocess.Popen[str]:
    command = (
        [sys.executable, "-c", HARNESS, mode, str(n), *args] if mode else [sys.executable, "-m", "generator", *args]
    )
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=stderr, text=True, env={**os.environ, **(env or {})}
    )


@pytest.mark.parametrize(
    ("mode", "n", "expect"),
    [("file", 0, "old"), ("file", 3, "old"), ("file", 5, "old"), ("flush", 0, "old"), ("exchange", 0, "new")],
    ids=["before-the-first-file", "after-3-files", "after-5-files", "before-the-swap", "after-the-swap"],
)
def test_sigkill_at_every_stage_of_a_write_leaves_a_complete_tree(
    mode: str,
    n: int,
    expect: str,
    before_and_after: tuple[Path, dict[str, str], dict[str, str]],
    config: Path,
) -> None:
    out, old, new = before_and_after
    process = _gen("render", *SELECT, "-c", str(config), "-o", str(out), mode=mode, n=n)
    _stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, stderr
    assert tree_digest(out) == (old if expect == "old" else new)
    # the next run finishes the job and clears what the killed one left beside the folder
    again = run_cli("render", *SELECT, "-c", str(config), "-o", str(out))
    assert again.code == 0, again.stderr
    assert tree_digest(out) == new
    assert _leftovers(out) == []


def test_sigkill_of_a_real_render_at_random_moments_leaves_old_or_new(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, tmp_path: Path
) -> None:
    out, old, new = before_and_after
    saved = tmp_path / "saved"
    shutil.copytree(out, saved)
    started = time.monotonic()
    scratch = _gen("render", *SELECT, "-c", str(config), "-o", str(tmp_path / "scratch"))
    assert scratch.wait(timeout=120) == 0
    duration = time.monotonic() - started
    outcomes = []
    for fraction in (0.2, 0.4, 0.6, 0.75, 0.85, 0.9, 0.95, 1.0, 1.1):
        shutil.rmtree(out)
        shutil.copytree(saved, out)
        process = _gen("render", *SELECT, "-c", str(config), "-o", str(out))
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=120)
        digest = tree_digest(out)
        assert digest in (old, new), f"a kill after {duration * fraction:.2f}s left a mixed tree"
        outcomes.append("new" if digest == new else "old")
    assert "old" in outcomes  # the early kills hit the render, before anything was written


# -- two renders at once ---------------------------------------------------------------------------
def test_two_renders_into_one_folder_are_serialised_by_the_lock(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    ready, go = tmp_path / "ready", tmp_path / "go"
    env = {"GEN_TEST_READY": str(ready), "GEN_TEST_GO": str(go)}
    other = tmp_path / "other-config"
    shutil.copytree(config, other)
    edit(other / "profiles/small.yaml", "          memory: 2g\n", "          memory: 3g\n")
    first = _gen("render", *SELECT, "-c", str(config), "-o", str(out), mode="pause", env=env)
    _wait_for(lambda: ready.exists(), first)  # the first run holds the lock and waits
    second_log = tmp_path / "second.log"
    with open(second_log, "w") as log:
        second = _gen("render", *SELECT, "-c", str(other), "-o", str(out), stderr=log)
        _wait_for(lambda: "waiting for another gen run" in second_log.read_text(), second)
        time.sleep(0.5)
        assert second.poll() is None  # still waiting: nothing of either run is written
        assert not out.exists()
        go.write_text("go")
        assert first.wait(timeout=120) == 0, first.communicate()[1]
        assert second.wait(timeout=120) == 0, second_log.read_text()
    assert f"waiting for another gen run on {out}" in second_log.read_text()
    expected = tmp_path / "expected"
    assert run_cli("render", *SELECT, "-c", str(other), "-o", str(expected)).code == 0
    assert tree_digest(out) == tree_digest(expected)  # the second run's tree, whole: never a mix
    index = json.loads((out / output.INDEX).read_text())
    assert set(index["files"]) == set(tree_digest(out)) - {output.INDEX}
    assert _leftovers(out) == []


def test_a_check_waits_while_a_render_holds_the_lock(tmp_path: Path, config: Path) -> None:
    """render --check never reads a folder that a render is about to swap: it waits, then
    compares with the folder the render left."""
    out = tmp_path / "out"
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    ready, go = tmp_path / "ready", tmp_path / "go"
    env = {"GEN_TEST_READY": str(ready), "GEN_TEST_GO": str(go)}
    other = tmp_path / "other-config"
    shutil.copytree(config, other)
    edit(other / "profiles/small.yaml", "          memory: 2g\n", "          memory: 3g\n")
    render = _gen("render", *SELECT, "-c", str(other), "-o", str(out), mode="pause", env=env)
    _wait_for(lambda: ready.exists(), render)  # the render holds the lock, about to write
    check_log = tmp_path / "check.log"
    with open(check_log, "w") as log:
        check = _gen("render", "--check", *SELECT, "-c", str(other), "-o", str(out), stderr=log)
        _wait_for(lambda: "waiting for another gen run" in check_log.read_text(), check)
        time.sleep(0.5)
        assert check.poll() is None  # still waiting: it has not compared the old folder
        go.write_text("go")
        assert render.wait(timeout=120) == 0, render.communicate()[1]
        assert check.wait(timeout=120) == 0, check_log.read_text()  # the folder the render wrote: up to date
    assert f"waiting for another gen run on {out}" in check_log.read_text()
    assert f"{out} is up to date" in check_log.read_text()


def test_a_render_waits_for_a_check_and_checks_do_not_wait_for_each_other(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    old = tree_digest(out)
    ready, go = tmp_path / "ready", tmp_path / "go"
    env = {"GEN_TEST_READY": str(ready), "GEN_TEST_GO": str(go)}
    check = _gen("render", "--check", *SELECT, "-c", str(config), "-o", str(out), mode="pause-plan", env=env)
    _wait_for(lambda: ready.exists(), check)  # the check holds the lock (shared) and reads
    second = run_cli("render", "--check", *SELECT, "-c", str(config), "-o", str(out))
    assert second.code == 0 and "waiting" not in second.stderr, second.stderr  # readers share the lock
    edit(config / "profiles/small.yaml", "          memory: 2g\n", "          memory: 3g\n")
    render_log = tmp_path / "render.log"
    with open(render_log, "w") as log:
        render = _gen("render", *SELECT, "-c", str(config), "-o", str(out), stderr=log)
        _wait_for(lambda: "waiting for another gen run" in render_log.read_text(), render)
        time.sleep(0.5)
        assert render.poll() is None and tree_digest(out) == old  # nothing swapped under the check
        go.write_text("go")
        assert check.wait(timeout=120) == 0, check.communicate()[1]
        assert render.wait(timeout=120) == 0, render_log.read_text()
    assert tree_digest(out) != old


def test_a_check_changes_nothing_beside_the_folder(tmp_path: Path, config: Path) -> None:
    """The check's lock creates no folder and leaves what a killed render left to the next render."""
    nowhere = tmp_path / "a" / "b" / "out"
    result = run_cli("render", "--check", *SELECT, "-c", str(config), "-o", str(nowhere))
    assert result.code == 1, result.stderr
    assert not (tmp_path / "a").exists()
    out = tmp_path / "out"
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    leftover = tmp_path / f".{out.name}.gen-tmp-1"
    leftover.mkdir()
    before = {p.name for p in tmp_path.iterdir()}
    assert run_cli("render", "--check", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    assert {p.name for p in tmp_path.iterdir()} == before
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    assert not leftover.exists()  # the next render clears it


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"exited early with {process.returncode}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- folders gen did not write ---------------------------------------------------------------------
def test_foreign_files_are_never_deleted_without_force(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    (out / "prod").mkdir(parents=True)
    (out / "README.md").write_text("hand-written\n")
    (out / "prod" / "notes.yaml").write_text("mine: true\n")
    (out / ".gitkeep").write_text("")
    before = tree_digest(out)
    refused = run_cli("render", *SELECT, "-c", str(config), "-o", str(out))
    assert refused.code == 2
    assert "holds files gen did not write (README.md, prod/notes.yaml)" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert tree_digest(out) == before
    forced = run_cli("render", *SELECT, "-c", str(config), "-o", str(out), "--force")
    assert forced.code == 0, forced.stderr
    assert not (out / "README.md").exists() and (out / ".gitkeep").exists()
    # a file added later to a gen-owned folder is refused too, and kept
    (out / "prod" / "extra.yaml").write_text("mine: true\n")
    owned = tree_digest(out)
    again = run_cli("render", *SELECT, "-c", str(config), "-o", str(out))
    assert again.code == 2 and "refusing to delete them" in again.stderr and "prod/extra.yaml" in again.stderr
    assert tree_digest(out) == owned


def test_a_huge_foreign_folder_is_refused_quickly(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    for i in range(200):
        (out / f"d{i}").mkdir(parents=True)
        for j in range(50):
            (out / f"d{i}" / f"f{j}").write_text("x")
    started = time.monotonic()
    result = run_cli("render", "-e", "dev", "-d", "fraud-scoring", "-c", str(config), "-o", str(out))
    assert result.code == 2 and "and more" in result.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("what", ["git repository", "configuration folder", "current folder", "home folder"])
def test_folders_gen_never_replaces_even_with_force(what: str, tmp_path: Path, config: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("precious\n")
    out, cwd, env = work, tmp_path, {}
    if what == "git repository":
        (work / ".git").mkdir()
        (work / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    elif what == "configuration folder":
        out = config
    elif what == "current folder":
        cwd = work
    else:
        env = {"HOME": str(work)}
    before = tree_digest(out)
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render", *SELECT, "-c", str(config), "-o", str(out), "--force"],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert f"refusing to use {out} as the output folder" in result.stderr
    assert tree_digest(out) == before


def test_the_file_system_root_is_refused() -> None:
    with pytest.raises(OutputError, match="a file system root"):
        output.index._refuse_dangerous(Path("/"))


def test_the_index_check_is_the_rule_for_one_path_and_one_owner() -> None:
    """read_index checks every entry at once (``_entries_ok``): it refuses exactly the indexes one of
    whose paths or owners the rule for one entry refuses (``_index_entry_ok``), for every path of up to
    seven characters made of a letter, "/", "." and "\\", and for owners of every shape."""
    index = output.index
    good = {"owner": {"env": "prod", "namespace": "analytics"}, "sha256": "0"}
    for length in range(8):
        for letters in itertools.product("a/.\\", repeat=length):
            path = "".join(letters)
            ok = index._index_entry_ok(path, good)
            assert ok is (index._NOT_INSIDE.search(path) is None)
            assert index._entries_ok({path: good}) is ok, path
            assert index._entries_ok({"prod/a.yaml": good, path: good, "dev/b.yaml": good}) is ok, path
    owners: list[object] = [
        {"env": "prod", "namespace": "analytics"},
        {"env": "prod", "namespace": "analytics", "deployment": "job", "profile": "small"},
        {"env": "prod"},
        {"env": "prod", "namespace": "analytics", "uid": "0"},
        {"env": 1, "namespace": "analytics"},
        {"env": "prod", "namespace": ["analytics"]},
        {"env": "prod", "namespace": {"a": "b"}},
        {},
        "prod",
        None,
    ]
    for owner in owners:
        for entry in ({"owner": owner, "sha256": "0"}, {"owner": owner}):
            ok = index._index_entry_ok("prod/x.yaml", entry)
            assert index._entries_ok({"prod/a.yaml": good, "prod/x.yaml": entry}) is ok, owner
    for entry in ("x", None, [], {"sha256": "0"}):
        assert index._entries_ok({"prod/x.yaml": entry}) is index._index_entry_ok("prod/x.yaml", entry) is False
    assert index._entries_ok({})


@pytest.mark.parametrize(
    "files",
    [
        {"../../escaped.yaml": {"owner": {"env": "prod", "namespace": "analytics"}}},
        {"/etc/passwd": {"owner": {"env": "prod", "namespace": "analytics"}}},
        {"prod/x.yaml": {"owner": {"env": "prod", "namespace": "analytics", "uid": "0"}}},
        {"prod/x.yaml": {"owner": "prod"}},
        {"prod/x.yaml": []},
        {"prod\\..\\..\\x.yaml": {"owner": {"env": "prod", "namespace": "analytics"}}},
        {"prod//x.yaml": {"owner": {"env": "prod", "namespace": "analytics"}}},
        {"prod/./x.yaml": {"owner": {"env": "prod", "namespace": "analytics"}}},
        {"prod/..": {"owner": {"env": "prod", "namespace": "analytics"}}},
        {"prod/x.yaml": {"owner": {"env": "prod"}}},
    ],
    ids=[
        "dotdot",
        "absolute",
        "unknown-owner-key",
        "owner-not-a-map",
        "entry-not-a-map",
        "backslash",
        "empty-part",
        "dot-part",
        "dotdot-last",
        "owner-without-namespace",
    ],
)
def test_a_tampered_index_is_refused(files: dict[str, object], tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    (out / output.INDEX).write_text(json.dumps({"version": 1, "files": files}))
    before = tree_digest(out)
    result = run_cli("render", *SELECT, "-c", str(config), "-o", str(out), "--force")
    assert result.code == 2, result.stderr
    assert "is not an index gen wrote" in result.stderr
    assert tree_digest(out) == before
    assert not (tmp_path.parent / "escaped.yaml").exists()
