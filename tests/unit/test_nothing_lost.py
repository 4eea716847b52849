"""Nothing is lost without being asked: a layer folder or file gen cannot read is an error naming
it (never "no deployments"), and a render that would remove the document of a stateful job needs
--allow-delete; every removed file is named.

The misspelt and misplaced layer files are cases of the bad-input corpus (tests/corpus/layout-*.yaml),
run against every command there. Tests run as root in CI, where permissions are not enforced:
folders and files that cannot be read are simulated by failing the OS call at its call site.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from generator.config import discover
from generator.output import removal
from tests.conftest import edit, run_cli, tree_digest

PROD = ["render", "-e", "prod"]


def _render(config: Path, out: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(*PROD, "-c", str(config), "-o", str(out), *args)
    return result.code, result.stdout, result.stderr


@pytest.fixture
def rendered(tmp_path: Path, config: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "out"
    code, _, stderr = _render(config, out)
    assert code == 0, stderr
    return out, tree_digest(out)


def _located(stderr: str, file: str, message: str) -> str:
    """The one problem line about ``file`` (a path suffix) at line 1, column 1, holding ``message``."""
    lines = [line for line in stderr.splitlines() if f"{file}:1:1: " in line and message in line]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and stderr.splitlines()[-1].startswith("error: "), stderr
    return lines[0]


# -- folders and files that cannot be read ---------------------------------------------------------
def _failing(real: Callable[..., object], path: Path, err: int) -> Callable[..., object]:
    def fake(target: object, *args: object, **kwargs: object) -> object:
        if os.fspath(target) == str(path):  # type: ignore[arg-type]
            raise OSError(err, os.strerror(err), str(path))
        return real(target, *args, **kwargs)

    return fake


@pytest.mark.parametrize(
    ("call", "where", "err", "message"),
    [
        ("scandir", "deployments/analytics", errno.EACCES, "cannot read folder: Permission denied"),
        ("scandir", "deployments", errno.EIO, "cannot read folder: Input/output error"),
        ("stat", "deployments", errno.EACCES, "cannot read folder: Permission denied"),
        ("scandir", "profiles", errno.EACCES, "cannot read folder: Permission denied"),
        ("scandir", "environments", errno.EACCES, "cannot read folder: Permission denied"),
        ("open", "deployments/analytics/fraud-scoring.yaml", errno.EACCES, "cannot read file: Permission denied"),
        ("open", "namespaces/analytics.yaml", errno.EIO, "cannot read file: Input/output error"),
    ],
    ids=[
        "namespace-folder",
        "deployments-folder-io-error",
        "deployments-folder-stat",
        "profiles-folder",
        "environments-folder",
        "deployment-file",
        "namespace-defaults-file",
    ],
)
def test_an_unreadable_folder_or_file_is_an_error_naming_it(
    call: str,
    where: str,
    err: int,
    message: str,
    rendered: tuple[Path, dict[str, str]],
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, before = rendered
    monkeypatch.setattr(os, call, _failing(getattr(os, call), config / where, err))
    code, _, stderr = _render(config, out)
    assert code == 2, stderr
    _located(stderr, where, message)
    assert tree_digest(out) == before  # never "no deployments": nothing of the namespace is removed
    check = run_cli(*PROD, "--check", "-c", str(config), "-o", str(out))
    assert check.code == 2 and message in check.stderr  # --check does not report "extra" files either


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder whatever its permissions")
def test_a_folder_without_read_permission_is_an_error(rendered: tuple[Path, dict[str, str]], config: Path) -> None:
    out, before = rendered
    folder = config / "deployments/analytics"
    folder.chmod(0)
    try:
        code, _, stderr = _render(config, out)
    finally:
        folder.chmod(0o755)
    assert code == 2
    _located(stderr, "deployments/analytics", "cannot read folder: Permission denied")
    assert tree_digest(out) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"profile: small\nmetadata:\n  displayName: caf\xe9\n", "file is not valid UTF-8"),
        (b"\xff\xfep\x00r\x00", "file is UTF-16 encoded"),
    ],
    ids=["latin-1", "utf-16"],
)
def test_undecodable_bytes_in_a_deployment_file_are_an_error(
    content: bytes, message: str, rendered: tuple[Path, dict[str, str]], config: Path
) -> None:
    out, before = rendered
    (config / "deployments/analytics/fraud-scoring.yaml").write_bytes(content)
    code, _, stderr = _render(config, out)
    assert code == 2 and message in stderr and "deployments/analytics/fraud-scoring.yaml:" in stderr
    assert tree_digest(out) == before


def test_a_broken_symlink_for_a_deployment_file_is_an_error(
    rendered: tuple[Path, dict[str, str]], config: Path
) -> None:
    out, before = rendered
    link = config / "deployments/analytics/fraud-scoring.yaml"
    link.unlink()
    link.symlink_to("fraud-scoring-v2.yaml")  # inside the folder, but missing
    code, _, stderr = _render(config, out)
    assert code == 2
    _located(stderr, "deployments/analytics/fraud-scoring.yaml", "cannot read file: No such file or directory")
    assert tree_digest(out) == before


def test_documentation_and_hidden_files_in_layer_folders_are_passed_over(
    rendered: tuple[Path, dict[str, str]], config: Path
) -> None:
    out, before = rendered
    for name in ("deployments/README.md", "deployments/analytics/NOTES.txt", "profiles/README.rst"):
        (config / name).write_text("about these files\n")
    for name in ("deployments/analytics/.gitkeep", "profiles/.fraud-scoring.yaml.swp", "deployments/.hidden"):
        (config / name).write_text("")
    code, _, stderr = _render(config, out)
    assert code == 0, stderr
    assert tree_digest(out) == before


def test_every_listing_problem_of_a_run_is_reported_at_once(tmp_path: Path, config: Path) -> None:
    (config / "deployments/analytics/fraud-scoring.yaml").rename(config / "deployments/analytics/fraud-scoring.yml")
    (config / "profiles/small.yaml").rename(config / "profiles/small.YAML")
    (config / "deployments/payments").symlink_to(tmp_path / "nowhere")
    result = run_cli("validate", "-c", str(config))
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == "error: 3 problems in the configuration"
    _located(result.stderr, "deployments/analytics/fraud-scoring.yml", "would ignore this deployment file")
    _located(result.stderr, "profiles/small.YAML", "would ignore this profile file")
    _located(result.stderr, "deployments/payments", "cannot read folder: a broken symlink")


def test_the_listing_names_the_spelling_to_use() -> None:
    problems: list[object] = []
    names = discover._layer_names(
        Path("deployments/analytics"),
        [("a.yaml", "file"), ("a.yml", "file"), ("b.YML", "file"), ("c.yaml.orig", "file"), ("d", "file")],
        "deployment",
        str,
        problems,  # type: ignore[arg-type]
    )
    assert names == ["a"]
    hints = sorted(p.hint for p in problems)  # type: ignore[attr-defined]
    assert hints == [
        "keep one file: merge it into a.yaml and delete this one",
        "rename it to b.yaml, or move it out of deployments/analytics/",
        "rename it to c.yaml, or move it out of deployments/analytics/",
        "rename it to d.yaml, or move it out of deployments/analytics/",
    ]


# -- removing the files of jobs --------------------------------------------------------------------
STATEFUL_FILE = {
    "vvp": (
        "prod/analytics/vvp/deployment-fraud-scoring.yaml",
        "VVP Deployment 'fraud-scoring' with upgradeStrategy STATEFUL",
    ),
    "vvp-operator": (
        "prod/analytics/vvpdeployment-fraud-scoring.yaml",
        "VvpDeployment 'fraud-scoring' with upgradeStrategy STATEFUL",
    ),
    "flink-operator": (
        "prod/analytics/flinkdeployment-fraud-scoring.yaml",
        "FlinkDeployment 'fraud-scoring' with upgradeMode last-state",
    ),
}


@pytest.mark.parametrize("target", sorted(STATEFUL_FILE))
def test_removing_a_stateful_job_needs_allow_delete(target: str, tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert _render(config, out, "-t", target)[0] == 0
    before = tree_digest(out)
    (config / "deployments/analytics/fraud-scoring.yaml").unlink()
    job, what = STATEFUL_FILE[target]

    code, _, stderr = _render(config, out, "-t", target)
    assert code == 2, stderr
    lines = stderr.splitlines()
    assert lines[:-1] == [f"{out / job}: {what}"]  # the file, and why it holds state
    assert lines[-1].startswith(f"error: refusing to remove the file of a stateful job from {out}: ")
    assert "--allow-delete" in lines[-1] and "high-availability metadata" in lines[-1]
    assert tree_digest(out) == before  # nothing written
    assert not list(tmp_path.glob(".out.gen-*"))

    code, stdout, stderr = _render(config, out, "-t", target, "--check")
    assert code == 1 and f"extra: {out / job}" in stdout  # --check reports it as drift, as before
    assert tree_digest(out) == before

    code, _, stderr = _render(config, out, "-t", target, "--allow-delete")
    assert code == 0, stderr
    gone = sorted(set(before) - set(tree_digest(out)))
    assert job in gone and all("fraud-scoring" in path for path in gone)
    removed = [line for line in stderr.splitlines() if line.startswith("removed: ")]
    assert removed == [
        f"removed: {out / path}" + (f" (a stateful job: {what})" if path == job else "") for path in gone
    ]
    assert f"{len(gone)} removed" in stderr.splitlines()[-1]


def test_removing_a_stateless_job_names_each_removed_file(tmp_path: Path, config: Path) -> None:
    deployment = config / "deployments/analytics/events-ingest.yaml"
    edit(deployment, "spec:\n", "spec:\n  upgradeStrategy:\n    kind: STATELESS\n")
    out = tmp_path / "out"
    assert _render(config, out, "-t", "flink-operator")[0] == 0
    before = tree_digest(out)
    deployment.unlink()
    code, _, stderr = _render(config, out, "-t", "flink-operator")
    assert code == 0, stderr
    gone = sorted(set(before) - set(tree_digest(out)))
    assert "prod/analytics/flinkdeployment-events-ingest.yaml" in gone
    assert [line for line in stderr.splitlines() if line.startswith("removed: ")] == [
        f"removed: {out / path}" for path in gone
    ]


def test_a_savepoint_job_is_stateful(tmp_path: Path, config: Path) -> None:
    deployment = config / "deployments/analytics/events-ingest.yaml"
    edit(deployment, "spec:\n", "spec:\n  restoreStrategy:\n    kind: LATEST_SAVEPOINT\n")
    out = tmp_path / "out"
    assert _render(config, out, "-t", "flink-operator")[0] == 0
    before = tree_digest(out)
    deployment.unlink()
    code, _, stderr = _render(config, out, "-t", "flink-operator")
    assert code == 2
    job = out / "prod/analytics/flinkdeployment-events-ingest.yaml"
    assert f"{job}: FlinkDeployment 'events-ingest' with upgradeMode savepoint" in stderr
    assert tree_digest(out) == before


def test_switching_the_target_removes_jobs_only_when_asked(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert _render(config, out, "-t", "vvp")[0] == 0
    before = tree_digest(out)
    code, _, stderr = _render(config, out, "-t", "flink-operator")
    assert code == 2
    jobs = stderr.splitlines()[:-1]
    assert len(jobs) == 3 and all("VVP Deployment" in line for line in jobs)
    assert "refusing to remove the files of 3 stateful jobs" in stderr
    assert tree_digest(out) == before


def test_removing_a_whole_namespace_needs_allow_delete(tmp_path: Path, config: Path) -> None:
    shutil.copytree(config / "deployments/analytics", config / "deployments/payments")
    defaults = (config / "namespaces/analytics.yaml").read_text().replace("analytics", "payments")
    (config / "namespaces/payments.yaml").write_text(defaults)
    out = tmp_path / "out"
    code, _, stderr = _render(config, out)
    assert code == 0, stderr
    before = tree_digest(out)
    shutil.rmtree(config / "deployments/payments")
    (config / "namespaces/payments.yaml").unlink()
    code, _, stderr = _render(config, out)
    assert code == 2 and "refusing to remove the files of 3 stateful jobs" in stderr
    assert tree_digest(out) == before


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"apiVersion": "v1", "kind": "Deployment", "metadata": {"name": "a"},
          "spec": {"upgradeStrategy": {"kind": "STATEFUL"}}}, "VVP Deployment 'a' with upgradeStrategy STATEFUL"),
        ({"apiVersion": "v1", "kind": "Deployment", "spec": {"upgradeStrategy": {"kind": "STATELESS"}}}, ""),
        ({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"upgradeStrategy": {"kind": "STATEFUL"}}}, ""),
        ({"apiVersion": "ververica.platform/v1", "kind": "VvpDeployment", "metadata": {"name": "b"},
          "spec": {"deployment": {"spec": {"upgradeStrategy": {"kind": "STATEFUL"}}}}},
         "VvpDeployment 'b' with upgradeStrategy STATEFUL"),
        ({"kind": "FlinkDeployment", "metadata": {"name": "c"}, "spec": {"job": {"upgradeMode": "savepoint"}}},
         "FlinkDeployment 'c' with upgradeMode savepoint"),
        ({"kind": "FlinkDeployment", "metadata": {"name": "session"}, "spec": {"jobManager": {}}}, ""),
        ({"kind": "FlinkSessionJob", "metadata": {"name": "d"}, "spec": {"job": {"upgradeMode": "last-state"}}},
         "FlinkSessionJob 'd' with upgradeMode last-state"),
        ({"kind": "FlinkDeployment", "spec": {"job": {"upgradeMode": "stateless"}}}, ""),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, ""),
    ],
    ids=["vvp-stateful", "vvp-stateless", "kubernetes-deployment", "vvpdeployment", "flinkdeployment-savepoint",
         "session-cluster", "sessionjob-last-state", "flinkdeployment-stateless", "configmap"],
)  # fmt: skip
def test_what_counts_as_a_stateful_job(doc: dict[str, object], reason: str, tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert removal.stateful_reason(path) == reason


def test_a_removed_file_gen_cannot_read_back_counts_as_stateful(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("kind: [FlinkDeployment\n")
    assert "not YAML gen can read back" in removal.stateful_reason(path)
    assert removal.stateful_reason(tmp_path / "gone.yaml") == ""  # already gone: nothing to protect
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    assert "cannot be read back" in removal.stateful_reason(folder)
