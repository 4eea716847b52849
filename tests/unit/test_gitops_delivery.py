"""GitOps delivery (platform.delivery): Argo CD Applications or Flux Kustomizations and HelmReleases
per environment, an environment-level kustomization.yaml and optional Namespace objects, each
validated strictly against our schemas of the Argo CD and Flux APIs and owned in the index."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.validate.gitops import check_kustomize_file, check_object
from tests.conftest import edit, run_cli

LOCATED = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<msg>.+)$", re.M)
REPO = "https://git.example.com/platform/flink-gitops.git"
DELIVERY = (
    "  delivery:\n"
    "    engine: {engine}\n"
    f"    repoURL: {REPO}\n"
    "    revision: main\n"
    "    path: out\n"
    "    namespaces: true\n"
    "    charts:\n"
    "      flinkKubernetesOperator: {{version: 1.15.0}}\n"
    "      ververicaPlatform: {{version: 5.9.0}}\n"
)
JOB_KINDS = {"FlinkDeployment", "FlinkSessionJob", "VvpDeployment"}


def deliver(config: Path, engine: str, block: str = DELIVERY) -> None:
    edit(config / "baseline.yaml", "platform:\n", "platform:\n" + block.format(engine=engine))


def render(config: Path, out: Path, *args: str) -> tuple[int, str]:
    result = run_cli("render", "--config", str(config), "--out", str(out), *args)
    return result.code, result.stderr


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def index(out: Path) -> dict[str, Any]:
    files = json.loads((out / "gen-index.json").read_text())["files"]
    assert isinstance(files, dict)
    return files


@pytest.mark.parametrize("target", ["vvp", "flink-operator"])
def test_argocd_applications_point_at_the_rendered_folders(config: Path, tmp_path: Path, target: str) -> None:
    deliver(config, "argocd")
    out = tmp_path / "out"
    code, stderr = render(config, out, "--target", target)
    assert code == 0, stderr
    owned = index(out)
    for env in ("dev", "staging", "prod"):
        root = out / env
        apps = sorted((root / "gitops").glob("application-*.yaml"))
        names = {load(p)["metadata"]["name"] for p in apps}
        chart = "flink-kubernetes-operator" if target == "flink-operator" else "ververica-platform"
        assert names == {f"{env}-analytics", f"{env}-namespaces", f"{env}-{chart}"}
        for path in apps:
            app = load(path)
            assert check_object(app) == []
            rel = path.relative_to(out).as_posix()
            assert owned[rel]["owner"] == {"env": env, "namespace": ""}  # the index owns it
            spec = app["spec"]
            sources = spec.get("sources") or [spec["source"]]
            for source in sources:
                if "path" in source:  # a folder of the output: it exists and holds a kustomization
                    assert source["repoURL"] == REPO and source["targetRevision"] == "main"
                    folder = tmp_path / source["path"]
                    assert folder.is_dir(), source["path"]
                for values in source.get("helm", {}).get("valueFiles", []):
                    assert values.startswith("$values/out/")
                    assert (tmp_path / values.removeprefix("$values/")).is_file()
        ns_app = load(root / "gitops" / f"application-{env}-analytics.yaml")["spec"]
        assert ns_app["syncPolicy"]["automated"]["prune"] is True
        patched = {p["target"]["kind"] for p in ns_app["source"]["kustomize"]["patches"]}
        assert patched == JOB_KINDS
        for patch in ns_app["source"]["kustomize"]["patches"]:
            body = yaml.safe_load(patch["patch"])
            assert body["metadata"]["annotations"] == {"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}
        # the namespaces and the chart (its CRDs own every job) are never pruned
        assert load(root / "gitops" / f"application-{env}-namespaces.yaml")["spec"]["syncPolicy"]["automated"] == {
            "prune": False,
            "selfHeal": True,
        }
        kustomization = load(root / "gitops" / "kustomization.yaml")
        assert check_kustomize_file(kustomization) == []
        assert kustomization["resources"] == [p.name for p in apps]
        top = load(root / "kustomization.yaml")
        assert top["resources"] == ["namespaces/namespace-flink-analytics.yaml", "analytics"]
        assert load(root / "namespaces" / "namespace-flink-analytics.yaml")["kind"] == "Namespace"
        assert not (root / "helm" / "kustomization.yaml").exists()  # Argo CD reads the values file itself


def test_flux_kustomizations_and_helm_releases(config: Path, tmp_path: Path) -> None:
    deliver(config, "flux")
    out = tmp_path / "out"
    code, stderr = render(config, out, "--target", "flink-operator", "--env", "prod")
    assert code == 0, stderr
    root = out / "prod"
    owned = index(out)
    flux = {load(p)["metadata"]["name"]: load(p) for p in (root / "gitops").glob("kustomization-*.yaml")}
    assert set(flux) == {"prod-analytics", "prod-charts", "prod-namespaces"}
    for name, doc in flux.items():
        assert check_object(doc) == []
        assert doc["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
        assert (tmp_path / doc["spec"]["path"]).is_dir()
        assert f"prod/gitops/kustomization-{name}.yaml" in owned
    analytics = flux["prod-analytics"]["spec"]
    assert analytics["path"] == "./out/prod/analytics" and analytics["prune"] is True
    assert analytics["dependsOn"] == [{"name": "prod-namespaces"}, {"name": "prod-charts"}]
    assert {p["target"]["kind"] for p in analytics["patches"]} == JOB_KINDS
    assert all("kustomize.toolkit.fluxcd.io/prune: disabled" in p["patch"] for p in analytics["patches"])
    assert flux["prod-charts"]["spec"]["prune"] is False and flux["prod-namespaces"]["spec"]["prune"] is False
    release = load(root / "helm" / "helmrelease-flink-kubernetes-operator.yaml")
    assert check_object(release) == []
    assert release["spec"]["targetNamespace"] == "flink-operator"
    assert release["spec"]["chart"]["spec"]["version"] == "1.15.0"
    assert release["spec"]["valuesFrom"] == [
        {"kind": "ConfigMap", "name": "flink-kubernetes-operator-values", "valuesKey": "values.yaml"}
    ]
    repository = load(root / "helm" / "helmrepository-flink-kubernetes-operator.yaml")
    assert repository["spec"]["url"] == "https://downloads.apache.org/flink/flink-kubernetes-operator-1.15.0/"
    helm = load(root / "helm" / "kustomization.yaml")
    assert check_kustomize_file(helm) == []
    # the values file is generator input, never a resource: kustomize does not apply it
    assert "flink-kubernetes-operator-values.yaml" not in helm["resources"]
    assert helm["configMapGenerator"][0]["files"] == ["values.yaml=flink-kubernetes-operator-values.yaml"]
    assert "prod/helm/kustomization.yaml" in owned and "prod/kustomization.yaml" in owned


def test_without_delivery_nothing_changes(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stderr = render(config, out, "--env", "prod")
    assert code == 0, stderr
    assert not (out / "prod" / "kustomization.yaml").exists() and not (out / "prod" / "gitops").exists()


def test_engine_none_writes_the_environment_kustomization_only(config: Path, tmp_path: Path) -> None:
    deliver(config, "none", "  delivery:\n    engine: {engine}\n")
    out = tmp_path / "out"
    code, stderr = render(config, out, "--env", "prod")
    assert code == 0, stderr
    assert load(out / "prod" / "kustomization.yaml")["resources"] == ["analytics"]
    assert not (out / "prod" / "gitops").exists() and not (out / "prod" / "namespaces").exists()


# -- located errors ----------------------------------------------------------------------------------
def test_argocd_without_a_repository_is_a_located_error(config: Path, tmp_path: Path) -> None:
    deliver(config, "argocd", "  delivery:\n    engine: {engine}\n")
    code, stderr = render(config, tmp_path / "out", "--env", "prod")
    assert code == 2, stderr
    found = [m for m in LOCATED.finditer(stderr) if m["file"].endswith("baseline.yaml")]
    assert found and found[0]["key"].startswith("platform.delivery"), stderr
    assert "set platform.delivery.repoURL" in stderr and "Traceback" not in stderr


def test_a_chart_without_a_version_is_a_located_error(config: Path, tmp_path: Path) -> None:
    deliver(config, "flux", "  delivery:\n    engine: {engine}\n")
    code, stderr = render(config, tmp_path / "out", "--env", "prod", "--target", "flink-operator")
    assert code == 2, stderr
    assert "platform.delivery.charts.flinkKubernetesOperator.version" in stderr
    assert any(m["file"].endswith("baseline.yaml") for m in LOCATED.finditer(stderr)), stderr


def test_an_unknown_engine_is_a_located_error(config: Path, tmp_path: Path) -> None:
    deliver(config, "jenkins", "  delivery:\n    engine: {engine}\n")
    code, stderr = render(config, tmp_path / "out", "--env", "prod")
    assert code == 2 and "platform.delivery.engine" in stderr, stderr


def test_one_namespace_delivered_differently_is_a_located_error(config: Path, tmp_path: Path) -> None:
    deliver(config, "flux", "  delivery:\n    engine: {engine}\n")
    path = config / "namespaces" / "analytics.yaml"
    text = path.read_text()
    assert "platform:\n" in text
    edit(path, "platform:\n", "platform:\n  delivery:\n    engine: none\n")
    other = config / "namespaces" / "payments.yaml"
    other.write_text(text.replace("kubernetesNamespace: flink-analytics", "kubernetesNamespace: flink-payments"))
    (config / "deployments" / "payments").mkdir()
    code, stderr = render(config, tmp_path / "out", "--env", "prod")
    assert code == 2, stderr
    assert "delivers environment prod differently" in stderr


# -- the schemas are strict ------------------------------------------------------------------------
def _app() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "prod-analytics", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": REPO, "targetRevision": "main", "path": "out/prod/analytics"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "analytics"},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["spec"].update(unknown=1), "Additional properties"),
        (lambda d: d["spec"]["syncPolicy"].update(syncOptions=["Prune=maybe"]), "Prune=maybe"),
        (lambda d: d["spec"].pop("destination"), "destination"),
        (lambda d: d["spec"].update(sources=[d["spec"]["source"], d["spec"]["source"]]), "valid under each"),
        (lambda d: d["metadata"].pop("namespace"), "namespace"),
        (lambda d: d.update(apiVersion="argoproj.io/v1"), "no GitOps schema"),
    ],
)
def test_the_application_schema_is_strict(change: Any, expected: str) -> None:
    assert check_object(_app()) == []
    doc = copy.deepcopy(_app())
    change(doc)
    problems = check_object(doc)
    assert problems and any(expected in p for p in problems), problems


def test_the_flux_schemas_are_strict() -> None:
    kustomization = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "prod-analytics", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": "./out/prod",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "x"},
        },
    }
    assert check_object(kustomization) == []
    for broken in ({"prune": "yes"}, {"interval": "ten minutes"}, {"path": "/abs"}, {"force": True}):
        doc = copy.deepcopy(kustomization)
        doc["spec"].update(broken)
        assert check_object(doc), broken
    missing = copy.deepcopy(kustomization)
    del missing["spec"]["sourceRef"]
    assert check_object(missing)
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "op", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "chart": {"spec": {"chart": "op", "sourceRef": {"kind": "HelmRepository", "name": "op"}}},
        },
    }
    assert check_object(release) == []
    release["spec"]["values"] = {"inline": True}
    assert check_object(release)
    assert check_kustomize_file(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["../up"]}
    )
