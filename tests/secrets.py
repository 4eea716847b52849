"""No rendered file ever holds a credential: a pytest plugin (loaded by ``tests/conftest.py``).

Tests plant the values of :data:`PLANTED` in configurations (``tests/test_safety.py`` plants every
one of them where people put credentials). After every test, each output folder the test wrote
(every ``output.write`` of the run, and every folder with a ``gen-index.json`` under the test's
``tmp_path``, which also covers real ``gen`` processes) is scanned for those values, as written
and base64-encoded (the form a Kubernetes Secret's ``data`` would hold). A hit fails the test.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import output

# AWS's documented example keys and made-up passwords: long and odd enough never to occur by chance.
S3_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
S3_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KAFKA_PASSWORD = "hunter2-kafka-Pa55"
DB_PASSWORD = "s3cr3t-db-Pa55"
API_TOKEN = "gen-planted-token-7f3a9c1e5b2d4086"
PLANTED: tuple[str, ...] = (S3_ACCESS_KEY, S3_SECRET_KEY, KAFKA_PASSWORD, DB_PASSWORD, API_TOKEN)


def _forms(secret: str) -> dict[bytes, str]:
    raw = secret.encode()
    return {raw: "as written", base64.b64encode(raw): "base64-encoded"}


_NEEDLES: dict[bytes, str] = {
    needle: f"{secret!r} ({how})" for secret in PLANTED for needle, how in _forms(secret).items()
}


def scan(folder: Path) -> list[str]:
    """Every planted secret found in a file under ``folder``: ``path: secret (form)``."""
    found: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        content = path.read_bytes()
        found.extend(f"{path}: {what}" for needle, what in _NEEDLES.items() if needle in content)
    return found


def output_folders(root: Path) -> Iterator[Path]:
    """Folders under ``root`` that gen wrote (they hold its index)."""
    for index in root.rglob(output.INDEX):
        yield index.parent


_written: list[Path] = []
_real_write = output.write


def _recording_write(out: Path, result: Any, **kwargs: Any) -> None:
    _written.append(Path(out))
    _real_write(out, result, **kwargs)


@pytest.fixture(autouse=True)
def no_planted_secret_in_any_output(request: pytest.FixtureRequest) -> Iterator[None]:
    _written.clear()
    tmp_path = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    folders = {p for p in _written if p.exists()}
    if tmp_path is not None:
        folders.update(output_folders(tmp_path))
    leaks = [hit for folder in sorted(folders) for hit in scan(folder)]
    if leaks:
        pytest.fail("a rendered file holds a planted secret:\n  " + "\n  ".join(leaks), pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    output.write = _recording_write


def pytest_unconfigure(config: pytest.Config) -> None:
    output.write = _real_write
