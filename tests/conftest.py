"""Shared fixtures: a private copy of the example configuration and an in-process CLI runner."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.cli import app
from generator.data import copy_example

pytest_plugins = ("tests.secrets",)  # every output folder a test writes is scanned for planted secrets

# Tests are arranged by kind, one folder each; the folder gives the marker (see pyproject.toml).
# integration (real tools) and properties are also "slow": `pytest -m "not slow"` is the inner loop.
_KINDS = {
    "unit": ("unit",),
    "golden": ("golden",),
    "integration": ("integration", "slow"),
    "properties": ("property", "slow"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        try:
            kind = item.path.relative_to(root).parts[0]
        except ValueError:
            continue
        for marker in _KINDS.get(kind, ()):
            item.add_marker(marker)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_hidden_fallback(request: pytest.FixtureRequest) -> Iterator[None]:
    """A parallel or incremental render that failed other than on an input problem is rendered
    again cold, so the output stays right and the bug would only show as slowness: every test
    fails on one (in this process; a test that makes gen fail on purpose is marked ``gen_bug``)."""
    logger = logging.getLogger("generator.render.parallel")
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    if handler.records and request.node.get_closest_marker("gen_bug") is None:
        record = handler.records[0]
        cause = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        pytest.fail(f"{record.getMessage()}\n{cause}")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(autouse=True)
def render_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts with an empty render cache of its own (never the user's ~/.cache/gen): a
    second render in one test reuses the first one's documents, as in real use."""
    folder = tmp_path_factory.mktemp("gen-cache")
    monkeypatch.setenv("GEN_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def fresh_pod_template_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts as a new process does: no pod template is known to be valid but those its
    own renders found (or that the cache tells them), whatever tests ran before it."""
    from generator.validate import kubernetes

    monkeypatch.setattr(kubernetes, "_VALID", set())


@pytest.fixture
def cli() -> Callable[..., Result]:
    return run_cli


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A writable copy of the shipped example configuration."""
    target = tmp_path / "config"
    copy_example(target)
    return target


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``root`` (empty when it does not exist)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, text: str) -> int:
    """The number of the first line of ``path`` that holds ``text``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def assert_located(result: Result, path: Path, line: int, *fragments: str) -> None:
    """The command failed with exit 2, no traceback, and a message at ``path:line`` holding each fragment."""
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    located = [m for m in result.stderr.splitlines() if m.startswith(f"{path}:{line}:")]
    assert located, f"nothing at {path}:{line}:\n{result.stderr}"
    for fragment in fragments:
        assert any(fragment in m for m in located), f"{fragment!r} not in {located}"
