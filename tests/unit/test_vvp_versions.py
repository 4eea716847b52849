"""platform.vvp.version decides the forms gen writes and refuses: the HA service and key form removed in
2.12.0 and 2.14.2 (https://docs.ververica.com/docs/deprecations-and-removals), and the VvpDeployment of
the VVP 3 operator (3.1 or later) refused for a VVP 2 installation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import edit, run_cli

LOCATED = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<msg>.+)$", re.M)


def set_version(config: Path, version: str) -> Path:
    prod = config / "environments" / "prod.yaml"
    edit(prod, "  vvp:\n", f'  vvp:\n    version: "{version}"\n')
    return prod


def problems(config: Path, *args: str) -> list[re.Match[str]]:
    result = run_cli("render", "--env", "prod", "--config", str(config), "--out", str(config.parent / "never"), *args)
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and not (config.parent / "never").exists()
    return list(LOCATED.finditer(result.stderr))


def renders(config: Path, tmp_path: Path, *args: str) -> None:
    result = run_cli("render", "--env", "prod", "--config", str(config), "--out", str(tmp_path / "out"), *args)
    assert result.code == 0, result.stderr


@pytest.mark.parametrize(
    ("version", "word"), [("2.11", "deprecated since VVP 2.10.0"), ("2.12", "removed in VVP 2.12.0")]
)
def test_the_vvp_ha_service_by_version(config: Path, version: str, word: str) -> None:
    set_version(config, version)
    edit(config / "baseline.yaml", "high-availability.type: kubernetes", "high-availability.type: vvp-kubernetes")
    found = problems(config)
    assert {m["key"] for m in found} == {"spec.template.spec.flinkConfiguration.high-availability.type"}
    assert word in found[0]["msg"] and f"VVP {version} is configured" in found[0]["msg"]


def test_the_ha_key_form_removed_in_2_14_2_is_never_written(config: Path, tmp_path: Path) -> None:
    renders(config, tmp_path)
    written = 0
    for path in (tmp_path / "out").rglob("*.yaml"):
        text = path.read_text()
        assert not re.search(r"^\s*high-availability: ", text, re.M), path
        written += "high-availability.type: kubernetes" in text
    assert written


def test_vvp_deployment_needs_vvp_3(config: Path, tmp_path: Path) -> None:
    renders(config, tmp_path, "--target", "vvp-operator")  # unset: the operator's own platform, VVP 3.1
    prod = set_version(config, "2.14")
    found = problems(config, "--target", "vvp-operator")
    assert {m["key"] for m in found} == {"platform.vvp.version"}
    assert {m["file"] for m in found} == {str(prod)}
    assert "not directly compatible" in found[0]["msg"]


def test_vvp_3_chart_values_run_the_operator_the_vvp_deployments_name(config: Path, tmp_path: Path) -> None:
    import yaml

    from generator.targets.vvp.helm import check

    renders(config, tmp_path, "--target", "vvp-operator")
    out = tmp_path / "out" / "prod"
    values = yaml.safe_load((out / "helm" / "ververica-platform-values.yaml").read_text())
    assert set(values) == {"vvp-appmanager", "vvp-k8s-operator"}
    assert check(values) == []
    crs = [yaml.safe_load(p.read_text()) for p in out.rglob("*.yaml")]
    crs = [d for d in crs if isinstance(d, dict) and d.get("kind") == "VvpDeployment"]
    assert crs
    operator = values["vvp-k8s-operator"]
    assert operator["enabled"] is True
    assert {d["metadata"]["labels"]["ververica.platform/owner"] for d in crs} == {operator["instanceId"]}
    assert {d["metadata"]["namespace"] for d in crs} <= set(operator["watchedNamespaces"])
    defaults = yaml.safe_load(values["vvp-appmanager"]["globalDeploymentDefaults"])
    assert set(defaults["spec"]) <= {"upgradeStrategy", "template"}
    assert set(defaults["spec"]["template"]["spec"]) <= {"flinkConfiguration", "resources"}
    bad = {**values, "vvp-appmanager": {"globalDeploymentDefaults": "spec:\n  state: RUNNING\n"}}
    assert check(bad) == ["vvp-appmanager.globalDeploymentDefaults: spec.state is not accepted there"]
    assert check({**values, "vvp": {"registry": "x"}}) != []


def test_the_rest_target_is_refused_on_vvp_3_at_the_version_line(config: Path, tmp_path: Path) -> None:
    """VVP documents the AppManager REST resources for 2.x only (REST API page, "version 2.x"); on 3.x
    the route is the operator's VvpDeployment."""
    prod = set_version(config, "3.1")
    edit(config / "environments" / "prod.yaml", "/ververica/v2.14", "/ververica/v3.1")
    found = problems(config)
    assert found
    assert {m["key"] for m in found} == {"platform.vvp.version"}
    assert {m["file"] for m in found} == {str(prod)}
    line = prod.read_text().splitlines().index('    version: "3.1"') + 1
    assert {int(m["line"]) for m in found} == {line}
    assert all("2.x" in m["msg"] and "VVP 3.1" in m["msg"] for m in found)
    result = run_cli("render", "--env", "prod", "--config", str(config), "--out", str(tmp_path / "x"))
    assert "--target vvp-operator" in result.stderr and "VvpDeployment" in result.stderr
    renders(config, tmp_path, "--target", "vvp-operator")  # the route named renders


@pytest.mark.parametrize("version", ["2.14", "2.15.11"])
def test_the_rest_target_renders_on_vvp_2(config: Path, tmp_path: Path, version: str) -> None:
    set_version(config, version)
    edit(config / "environments" / "prod.yaml", "/ververica/v2.14", f"/ververica/v{version}")
    renders(config, tmp_path)
