"""Helpers of the tests that refuse bad input: a located problem, and an output folder left as it was."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Result, run_cli, tree_digest


def line_of(path: Path, text: str, nth: int = 1) -> int:
    """The line number (1-based) of the ``nth`` line of ``path`` that holds ``text``."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) >= nth, f"{text!r} not in {path}"
    return found[nth - 1]


def col_of(path: Path, text: str) -> int:
    """The column (1-based) where ``text`` starts on its first line."""
    line = path.read_text().splitlines()[line_of(path, text) - 1]
    return line.index(text) + 1


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("error:")]


def assert_problem(result: Result, file: str, line: int, col: int, key: str, message: str, hint: str = "") -> str:
    """The one problem line at ``file`` (a path suffix), ``line``, ``col`` and ``key`` whose message
    holds ``message`` (and whose hint holds ``hint``); returns it."""
    assert result.code == 2, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    where = f":{line}:{col}: {key}: " if key else f":{line}:{col}: "
    matching = [
        p
        for p in problem_lines(result.stderr)
        if where in p and p.split(where, 1)[0].endswith(file) and message in p.split(where, 1)[1]
    ]
    assert matching, f"no problem {file}{where}...{message} in:\n{result.stderr}"
    if hint:
        assert f"(hint: {hint}" in matching[0] or hint in matching[0].split("(hint: ", 1)[-1], matching[0]
    return matching[0]


def rendered(config: Path, out: Path, *args: str) -> dict[str, str]:
    """Render ``config`` into ``out`` successfully; the digest of what is there afterwards."""
    result = run_cli("render", "-c", str(config), "-o", str(out), "-j", "1", *args)
    assert result.code == 0, result.stderr
    return tree_digest(out)


def refused(config: Path, out: Path, *args: str) -> Result:
    """``gen render`` of ``config`` into ``out``: exit 2, no traceback, and ``out`` byte for byte as
    it was; ``render --check`` of the same selection refuses it with the same messages."""
    before = tree_digest(out)
    result = run_cli("render", "-c", str(config), "-o", str(out), "-j", "1", *args)
    assert result.code == 2, (result.code, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert tree_digest(out) == before
    check = run_cli("render", "--check", "-c", str(config), "-o", str(out), "-j", "1", *args)
    assert check.code == 2 and check.stderr == result.stderr, check.stderr
    assert tree_digest(out) == before
    return result
