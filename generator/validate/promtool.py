"""Run ``promtool`` (Prometheus) on rendered alert rules.

``promtool check rules`` does not accept a PrometheusRule custom resource, only the plain rule-file
document (``groups: [...]``), and does not read stdin: the groups are written to a temporary file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from generator.errors import GenError

__all__ = ["INSTALL_HINT", "PromtoolError", "PromtoolNotFoundError", "check_rules", "find_promtool", "test_rules"]

INSTALL_HINT = (
    "install promtool: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
    "--no-install-recommends prometheus (or put a Prometheus release's promtool on PATH, "
    "or set PROMTOOL=/path/to/promtool)"
)
_TIMEOUT_S = 120


class PromtoolError(GenError):
    """promtool rejected the rules or a rule unit test failed; the message holds promtool's output."""


class PromtoolNotFoundError(PromtoolError):
    def __init__(self) -> None:
        super().__init__("promtool not found", hint=INSTALL_HINT)


def find_promtool() -> str | None:
    """Path of promtool: ``$PROMTOOL`` if set and executable, else the first on PATH."""
    configured = os.environ.get("PROMTOOL")
    if configured:
        return configured if os.path.isfile(configured) and os.access(configured, os.X_OK) else None
    return shutil.which("promtool")


def _dump(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=1_000_000)


def _run(args: list[str], cwd: Path) -> None:
    promtool = find_promtool()
    if promtool is None:
        raise PromtoolNotFoundError()
    try:
        proc = subprocess.run(
            [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise PromtoolError(f"promtool {args[0]} {args[1]} timed out after {_TIMEOUT_S}s") from exc
    if proc.returncode != 0:
        output = _collapse("\n".join(part.strip() for part in (proc.stderr, proc.stdout) if part.strip()))
        raise PromtoolError(f"promtool {args[0]} {args[1]} failed (exit {proc.returncode}):\n{output}")


def _collapse(text: str) -> str:
    """Runs of identical lines (promtool reports a rule error at every evaluation) once, with a count."""
    out: list[tuple[str, int]] = []
    for line in text.splitlines():
        if out and out[-1][0] == line:
            out[-1] = (line, out[-1][1] + 1)
        else:
            out.append((line, 1))
    return "\n".join(f"{line}  [x{count}]" if count > 1 else line for line, count in out)


def check_rules(groups: Sequence[Mapping[str, Any]]) -> None:
    """``promtool check rules`` on ``{"groups": groups}``; duplicate rules are errors (lint is fatal)."""
    with tempfile.TemporaryDirectory(prefix="gen-promtool-") as tmp:
        rules = Path(tmp) / "rules.yaml"
        rules.write_text(_dump({"groups": list(groups)}), encoding="utf-8")
        _run(["check", "rules", "--lint=duplicate-rules", "--lint-fatal", rules.name], Path(tmp))


def test_rules(groups: Sequence[Mapping[str, Any]], tests_doc: Mapping[str, Any]) -> None:
    """``promtool test rules``: ``tests_doc`` is a unit-test document without ``rule_files``
    (it is pointed at the temporary rules file holding ``groups``)."""
    with tempfile.TemporaryDirectory(prefix="gen-promtool-") as tmp:
        rules = Path(tmp) / "rules.yaml"
        rules.write_text(_dump({"groups": list(groups)}), encoding="utf-8")
        doc = {"rule_files": [rules.name], **{k: v for k, v in tests_doc.items() if k != "rule_files"}}
        tests = Path(tmp) / "tests.yaml"
        tests.write_text(_dump(doc), encoding="utf-8")
        _run(["test", "rules", tests.name], Path(tmp))
