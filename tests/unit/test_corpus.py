"""The bad-input corpus: every case in ``tests/corpus/*.yaml`` breaks a copy of the example
configuration and runs every command against it.

For each case, each command that reads the broken file must exit 2 and print exactly one
``file:line:col: key: message`` line per expected problem (plus the ``error: N problems`` summary,
nothing else: no traceback), and the output folder must stay byte for byte what it was. Every other
command must still end cleanly (exit 0, 1 or 2, no internal error). The case format is described in
``tests/corpus/README.md``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import app
from generator.config.layers import example_config_dir
from generator.data import copy_example
from tests.conftest import Result, run_cli, tree_digest

CORPUS = Path(__file__).parents[1] / "corpus"
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<rest>.*)$")
SUMMARY = re.compile(r"^error: \d+ problems? in the configuration$")

# What each command runs; explain and memory look at one deployment's layer stack in prod.
COMMANDS: dict[str, list[str]] = {
    "render": ["render", "-c", "{config}", "-o", "{out}"],
    "render-check": ["render", "--check", "-c", "{config}", "-o", "{out}"],
    "validate": ["validate", "-c", "{config}"],
    "list": ["list", "-c", "{config}"],
    "explain": ["explain", "spec.template.spec.parallelism", "-e", "prod", "-d", "fraud-scoring", "-c", "{config}"],
    "check": ["check", "-e", "prod", "-c", "{config}"],
    "memory": ["memory", "-e", "prod", "-d", "fraud-scoring", "-c", "{config}"],
}
WHOLE_CONFIG = ("render", "render-check", "validate", "check")
ONE_DEPLOYMENT = ("explain", "memory")
FRAUD_SCORING_PROD = frozenset(
    {
        "baseline.yaml",
        "namespaces/analytics.yaml",
        "profiles/stateful-heavy.yaml",
        "environments/prod.yaml",
        "deployments/analytics/fraud-scoring.yaml",
    }
)
CASE_KEYS = frozenset({"description", "edits", "expect", "error", "commands", "set"})
EDIT_KEYS = frozenset(
    {
        "file",
        "replace",
        "with",
        "write",
        "write_bytes",
        "repeat",
        "append",
        "symlink",
        "mkdir",
        "mkfifo",
        "rename",
        "delete",
        "truncate_at",
    }
)


def registered_commands() -> set[str]:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    return {key for key, argv in COMMANDS.items() if argv[0] in names or (argv[0] == "list" and "list_" in names)}


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    edits: list[dict[str, Any]]
    expect: list[dict[str, Any]]
    error: str
    commands: tuple[str, ...]
    sets: tuple[str, ...]

    @staticmethod
    def load(path: Path) -> Case:
        data = yaml.safe_load(path.read_text("utf-8"))
        assert isinstance(data, dict), f"{path.name}: a case is a map"
        unknown = set(data) - CASE_KEYS
        assert not unknown, f"{path.name}: unknown case keys {sorted(unknown)}"
        assert data.get("description"), f"{path.name}: say what the case breaks in 'description'"
        assert bool(data.get("expect")) != bool(data.get("error")), f"{path.name}: give 'expect' or 'error'"
        for edit in data.get("edits", []):
            assert set(edit) <= EDIT_KEYS and "file" in edit, f"{path.name}: bad edit {edit}"
        edited = {str(e["file"]) for e in data.get("edits", [])}
        default = list(WHOLE_CONFIG)
        if edited <= FRAUD_SCORING_PROD:
            default += ONE_DEPLOYMENT
        return Case(
            name=path.stem,
            description=str(data["description"]),
            edits=list(data.get("edits", [])),
            expect=list(data.get("expect", [])),
            error=str(data.get("error", "")),
            commands=tuple(data.get("commands", default)),
            sets=tuple(data.get("set", ())),
        )


def cases() -> Iterator[Case]:
    for path in sorted(CORPUS.glob("*.yaml")):
        yield Case.load(path)


# -- applying a case's edits ----------------------------------------------------------------------
def _text(value: str, places: dict[str, str]) -> str:
    for key, replacement in places.items():
        value = value.replace("{" + key + "}", replacement)
    return value


def apply_edits(config: Path, edits: list[dict[str, Any]], places: dict[str, str]) -> None:
    for edit in edits:
        path = config / edit["file"]
        if "replace" in edit:
            text = path.read_text("utf-8")
            old, new = edit["replace"], _text(edit["with"], places)
            assert old in text, f"{old!r} is not in {edit['file']} any more: update the case"
            path.write_text(text.replace(old, new, 1), "utf-8")
        elif "write" in edit:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_text(edit["write"], places).encode("utf-8") * int(edit.get("repeat", 1)))
        elif "write_bytes" in edit:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes.fromhex(edit["write_bytes"]) * int(edit.get("repeat", 1)))
        elif "append" in edit:
            with open(path, "ab") as handle:
                handle.write(_text(edit["append"], places).encode("utf-8") * int(edit.get("repeat", 1)))
        elif "truncate_at" in edit:
            text = path.read_text("utf-8")
            marker = edit["truncate_at"]
            assert marker in text, f"{marker!r} is not in {edit['file']} any more: update the case"
            path.write_text(text[: text.index(marker) + len(marker)], "utf-8")
        elif "symlink" in edit:
            if path.is_dir() and not path.is_symlink():
                target = Path(_text(edit["symlink"], places))
                if not target.exists():
                    shutil.copytree(path, target)
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            os.symlink(_text(edit["symlink"], places), path)
        elif "mkdir" in edit:
            if path.exists():
                path.unlink()
            path.mkdir(parents=True)
        elif "mkfifo" in edit:
            if path.exists():
                path.unlink()
            os.mkfifo(path)
        elif "rename" in edit:
            target = config / edit["rename"]
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)
        elif "delete" in edit:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        else:  # pragma: no cover - Case.load checked the keys
            raise AssertionError(f"edit without an action: {edit}")


def expected_line(spec: Any, config: Path, file: str) -> int:
    """A line number, or ``{of: text, plus: n}``: the line of the first occurrence of ``text``."""
    if isinstance(spec, int):
        return spec
    text = (config / file).read_bytes().decode("utf-8", "replace")
    marker = spec["of"]
    assert marker in text, f"{marker!r} is not in {file}"
    return text[: text.index(marker)].count("\n") + 1 + int(spec.get("plus", 0))


# -- checking one command's result -----------------------------------------------------------------
def check_located(case: Case, command: str, result: Result, config: Path) -> None:
    where = f"[{case.name} / {command}]\n{result.stderr}"
    assert result.code == 2, f"exit {result.code}, expected 2 {where}"
    lines = result.stderr.splitlines()
    assert lines and SUMMARY.match(lines[-1]), f"no 'error: N problems' summary {where}"
    located = [LOCATED.match(line) for line in lines[:-1]]
    assert all(located), f"a line that is neither a located problem nor the summary {where}"
    assert len(located) == len(case.expect), f"{len(located)} problems reported, {len(case.expect)} expected {where}"
    for want in case.expect:
        line = expected_line(want["line"], config, want["file"])
        file_ok = [m for m in located if m and (m["file"] == want["file"] or m["file"].endswith("/" + want["file"]))]
        hits = [m for m in file_ok if int(m["line"]) == line and int(m["col"]) == int(want["col"])]
        assert hits, f"nothing at {want['file']}:{line}:{want['col']} {where}"
        rest = hits[0]["rest"]
        key = str(want.get("key", ""))
        prefix = f"{key}: " if key else ""
        assert rest.startswith(prefix), f"key {key!r} expected {where}"
        message = rest[len(prefix) :]
        assert str(want["message"]) in message, f"message {want['message']!r} expected {where}"
        if want.get("hint"):
            assert f"(hint: {want['hint']}" in message, f"hint {want['hint']!r} expected {where}"


def check_usage(case: Case, command: str, result: Result) -> None:
    where = f"[{case.name} / {command}]\n{result.stderr}"
    assert result.code == 2, f"exit {result.code}, expected 2 {where}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and case.error in lines[0], where


def check_clean_end(case: Case, command: str, result: Result) -> None:
    where = f"[{case.name} / {command}]\n{result.stderr}"
    assert result.code in (0, 1, 2), f"exit {result.code} {where}"
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, where


# -- the test --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pristine_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example rendered once; each case works on a copy of it."""
    out = tmp_path_factory.mktemp("corpus") / "out"
    result = run_cli("render", "-c", str(example_config_dir()), "-o", str(out))
    assert result.code == 0, result.stderr
    return out


ALL_CASES = list(cases())


def test_the_corpus_is_large_and_covers_every_layer_kind() -> None:
    assert len(ALL_CASES) >= 40
    edited = {str(e["file"]).split("/")[0] for c in ALL_CASES for e in c.edits}
    assert {"baseline.yaml", "namespaces", "profiles", "environments", "deployments"} <= edited
    assert any(c.sets for c in ALL_CASES)  # the command line is an input too


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_bad_input_case(case: Case, tmp_path: Path, pristine_out: Path) -> None:
    config, out, outside = tmp_path / "config", tmp_path / "out", tmp_path / "outside"
    copy_example(config)
    shutil.copytree(pristine_out, out)
    outside.mkdir()
    places = {"config": str(config), "outside": str(outside), "out": str(out)}
    apply_edits(config, case.edits, places)
    before = tree_digest(out)
    available = registered_commands()
    sets = [arg for value in case.sets for arg in ("--set", value)]
    for command in sorted(available):
        argv = [_text(a, places) for a in COMMANDS[command]]
        if sets and command != "list":
            argv += sets
        result = run_cli(*argv)
        if command not in case.commands:
            check_clean_end(case, command, result)
        elif case.error:
            check_usage(case, command, result)
        else:
            check_located(case, command, result, config)
        assert tree_digest(out) == before, f"[{case.name} / {command}] changed the output folder"
    assert tree_digest(out) == before
