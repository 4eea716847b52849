"""Fixtures of the integration tests that boot real processes."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest


def own_processes(marker: str) -> list[str]:
    """Running processes that mention ``marker`` (the folder the runs use as TMPDIR) in their
    command line or environment: the start scripts before they exec the JVM name no path, but
    every process gen smoke starts inherits its environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            environ = (entry / "environ").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if marker in cmdline or marker in environ:
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


@pytest.fixture
def run_tmp(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "runs"
    folder.mkdir()
    yield folder
    leftovers = own_processes(str(folder))
    for line in leftovers:  # never leave a JVM behind, even when an assertion failed
        os.kill(int(line.split(":")[0]), signal.SIGKILL)
    assert leftovers == []
