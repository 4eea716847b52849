"""detect-secrets loaded beside a render (:func:`generator.credentials.loading_beside`): the values are
scanned in a forked process with exactly the findings of this one, a deployment's values in one
exchange; a process beside that fails leaves the scans to the run; a forked worker scans itself; the
process is always reaped. Each case runs in a new interpreter, where detect-secrets is not loaded yet
(this test process has loaded it, and a process that has never starts one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import credentials
from tests.unit.test_credentials import AWS_ID, GITHUB, PASSWORD, SLACK

ROOT = Path(__file__).resolve().parents[2]

CORPUS = [
    f"postgres://app:{PASSWORD}@db.acme.internal:5432/app",
    f"--aws-access-key-id {AWS_ID}",
    GITHUB,
    SLACK,
    "-----BEGIN RSA PRIVATE KEY-----",
    'password = "Zq8-planted-Pa55w0rd"',
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQ",
    "--sink-topic fraud-scores-v2",
    "sha256:3c9a0f1e2d4b5a6978c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6",
    "s3://acme-checkpoints/fraud-scoring",
    "${secret_values.kafka-password}",
]

needs_two_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="a process beside the run is started only with a second CPU"
)


# a script's lines that note the length of every exchange with the process beside (in ``asked``)
COUNTING_ASKS = (
    "asked = []\n"
    "ask = c._Beside.ask\n"
    "c._Beside.ask = lambda self, texts: asked.append(len(texts)) or ask(self, texts)\n"
)


def _run(code: str) -> Any:
    """Run ``code`` in a new interpreter (gen importable); what it prints, as JSON."""
    prelude = "import json, os, sys\nimport generator.credentials as c\nassert 'detect_secrets' not in sys.modules\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _gone(pid: int) -> bool:
    """The process was reaped (it is no child of anyone here any more, and does not exist)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@needs_two_cpus
def test_values_are_scanned_beside_with_the_findings_of_this_process() -> None:
    found = _run(
        f"corpus = {CORPUS!r}\n"
        "with c.loading_beside():\n"
        "    pid = c._beside.pid\n"
        "    findings = [c.scan_text(t) for t in corpus]\n"
        "    here = 'detect_secrets' in sys.modules\n"
        "try:\n"
        "    os.waitpid(pid, os.WNOHANG)\n"
        "    reaped = False\n"
        "except ChildProcessError:\n"
        "    reaped = True\n"
        "print(json.dumps({'findings': findings, 'loaded_here': here, 'reaped': reaped, 'pid': pid}))\n"
    )
    assert found["findings"] == [credentials.scan_text(text) for text in CORPUS]  # this process: no process beside
    assert sum(f is not None for f in found["findings"]) == 7  # the credentials above, and nothing else
    assert found["loaded_here"] is False  # scanned beside: the run never loaded detect-secrets
    assert found["reaped"] is True
    assert _gone(found["pid"])


@needs_two_cpus
def test_a_deployments_values_are_scanned_in_one_exchange() -> None:
    found = _run(
        f"corpus = {CORPUS!r}\n" + COUNTING_ASKS + "with c.loading_beside():\n"
        "    c.prefetch(corpus)\n"
        "    findings = [c.scan_text(t) for t in corpus]\n"
        "    c.prefetch(corpus)\n"
        "print(json.dumps({'asked': asked, 'findings': findings}))\n"
    )
    # one exchange for every text long enough to scan, once (the reference is blanked out first)
    assert found["asked"] == [len(CORPUS) - 1]
    assert found["findings"] == [credentials.scan_text(text) for text in CORPUS]


@needs_two_cpus
def test_a_process_beside_that_fails_leaves_the_scans_to_the_run() -> None:
    found = _run(
        "import signal\n"
        "with c.loading_beside():\n"
        "    pid = c._beside.pid\n"
        "    os.kill(pid, signal.SIGKILL)\n"
        f"    finding = c.scan_text({AWS_ID!r})\n"
        "    dropped = c._beside is None\n"
        "print(json.dumps({'finding': finding, 'dropped': dropped, 'here': 'detect_secrets' in sys.modules,"
        " 'pid': pid}))\n"
    )
    assert found == {"finding": "an AWS access key", "dropped": True, "here": True, "pid": found["pid"]}
    assert _gone(found["pid"])


@needs_two_cpus
def test_a_forked_worker_scans_in_its_own_process() -> None:
    found = _run(
        "with c.loading_beside():\n"
        "    read, write = os.pipe()\n"
        "    worker = os.fork()\n"
        "    if worker == 0:\n"
        f"        answer = [c._using_beside() is None, c.scan_text({GITHUB!r}), 'detect_secrets' in sys.modules]\n"
        "        os.write(write, json.dumps(answer).encode())\n"
        "        os._exit(0)\n"
        "    os.waitpid(worker, 0)\n"
        "    os.close(write)\n"
        "    answer = json.loads(os.read(read, 4096))\n"
        "    still = c._using_beside() is not None\n"
        "print(json.dumps({'worker': answer, 'run_still_uses_it': still}))\n"
    )
    assert found == {"worker": [True, credentials.scan_text(GITHUB), True], "run_still_uses_it": True}


@needs_two_cpus
def test_loading_here_before_a_fork_stops_the_process_beside() -> None:
    found = _run(
        "with c.loading_beside():\n"
        "    pid = c._beside.pid\n"
        "    c.load_here()\n"
        "    stopped = c._beside is None\n"
        "    here = 'detect_secrets' in sys.modules\n"
        f"    finding = c.scan_text({SLACK!r})\n"
        "print(json.dumps({'stopped': stopped, 'here': here, 'finding': finding, 'pid': pid}))\n"
    )
    assert found["stopped"] is True and found["here"] is True
    assert found["finding"] == credentials.scan_text(SLACK)
    assert _gone(found["pid"])


@needs_two_cpus
def test_a_fork_that_fails_leaves_the_scans_to_the_run() -> None:
    found = _run(
        "def fork():\n"
        "    raise BlockingIOError(11, 'Resource temporarily unavailable')\n"
        "os.fork = fork\n"
        "before = len(os.listdir('/proc/self/fd'))\n"
        "with c.loading_beside():\n"
        "    none = c._beside is None\n"
        f"    finding = c.scan_text({AWS_ID!r})\n"
        "print(json.dumps([none, finding, len(os.listdir('/proc/self/fd')) == before]))\n"
    )
    assert found == [True, "an AWS access key", True]  # and the pipes were closed


def test_no_process_beside_where_it_would_not_help() -> None:
    found = _run(
        "cpu = sorted(os.sched_getaffinity(0))[0]\n"
        "os.sched_setaffinity(0, {cpu})\n"
        "with c.loading_beside():\n"
        "    one_cpu = c._beside is None\n"
        "os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))\n"
        "c.load_here()\n"
        "with c.loading_beside():\n"
        "    loaded = c._beside is None\n"
        "print(json.dumps([one_cpu, loaded]))\n"
    )
    assert found == [True, True]


@needs_two_cpus
def test_a_render_scans_beside_and_refuses_a_credential_as_before(config: Path, tmp_path: Path) -> None:
    """The gen program (not a library in this test process) renders with the process beside: the
    credential is refused at its line, as in this process, and a clean configuration renders."""
    deployment = config / "deployments/analytics/fraud-scoring.yaml"
    script = (
        "import json, sys\n"
        "import generator.credentials as c\n" + COUNTING_ASKS + "import generator.cli\n"
        "try:\n"
        "    generator.cli._program = True\n"
        "    generator.cli.main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "print(json.dumps({'code': code, 'asked': len(asked), 'here': 'detect_secrets' in sys.modules}))\n"
    )

    def render() -> tuple[dict[str, Any], str]:
        command = [sys.executable, "-c", script, "render", "-c", str(config), "-o", str(tmp_path / "out")]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        return json.loads(done.stdout.splitlines()[-1]), done.stderr

    clean, _ = render()
    assert clean["code"] == 0 and clean["asked"] > 0 and clean["here"] is False
    text = deployment.read_text()
    deployment.write_text(text.replace("    criticality: high\n", f"    criticality: high\n    notify: '{SLACK}'\n", 1))
    line = 1 + next(i for i, row in enumerate(deployment.read_text().splitlines()) if "notify:" in row)
    refused, stderr = render()
    assert refused["code"] == 2 and refused["asked"] > 0
    assert f"fraud-scoring.yaml:{line}:" in stderr and "metadata.labels.notify" in stderr
    assert SLACK not in stderr
