"""gen's Ververica Platform values install with Ververica's chart 5.3.0 (VVP 2.7), rendered by Helm's
own Go SDK (the helm-python-sdk wheel bundles it) from the unchanged copy of the chart in
tests/fixtures/ververica-platform (Apache-2.0, its LICENSE and NOTICE beside it).

Every environment of the example is rendered with the license values it references and, for jdbc
persistence, the second values file with the datasource password (docs/vvp.md)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from generator.targets.vvp.helm import FILE as HELM_FILE
from tests.conftest import edit, run_cli

CHART = Path(__file__).parents[1] / "fixtures" / "ververica-platform"
LICENSE_VALUES = Path(__file__).parents[1] / "fixtures" / "vvp-license" / "license-values.yaml"
ENVIRONMENTS = ("dev", "staging", "prod")
PASSWORD_VALUES = {"vvp": {"persistence": {"datasource": {"password": "from-the-secret-store"}}}}


def merged(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of several values files: maps merge key by key, later files win."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merged(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
    return out


def chart_render(values: Mapping[str, Any]) -> dict[str, str]:
    with helm.Chart.load(str(CHART)) as chart:
        rendered: dict[str, str] = chart.render(dict(values), name="vvp", namespace="vvp")
        return rendered


def application_config(rendered: Mapping[str, str]) -> dict[str, Any]:
    configmap = yaml.safe_load(rendered["ververica-platform/templates/configmap.yaml"])
    data: dict[str, Any] = yaml.safe_load(configmap["data"]["application-prod-user.yaml"])
    return data


def render_env(tmp_path: Path, env: str, config: Path | None = None) -> dict[str, Any]:
    out = tmp_path / "out"
    extra = ("--config", str(config)) if config else ("--example",)
    result = run_cli("render", "--env", env, *extra, "--out", str(out), "--force")
    assert result.code == 0, result.stderr
    values: dict[str, Any] = yaml.safe_load((out / env / HELM_FILE).read_text())
    return values


def referenced(values: Mapping[str, Any], env: str, config: Path) -> list[dict[str, Any]]:
    """The values files an environment's configuration references besides gen's own."""
    env_file = yaml.safe_load((config / "environments" / f"{env}.yaml").read_text())
    license_setting = env_file["platform"]["vvp"].get("license") or {}
    extra: list[dict[str, Any]] = []
    if "valuesFile" in license_setting:
        extra.append(yaml.safe_load(LICENSE_VALUES.read_text()))
    if values["vvp"]["persistence"]["type"] == "jdbc":
        extra.append(PASSWORD_VALUES)
    return extra


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_installs_with_the_chart(tmp_path: Path, config: Path, env: str) -> None:
    values = render_env(tmp_path, env, config)
    rendered = chart_render(merged(values, *referenced(values, env, config)))
    app = application_config(rendered)
    # the persistence gen asked for is the persistence the platform gets (Community Edition would force local)
    assert values["vvp"]["persistence"]["type"] in ("jdbc", "local")
    if values["vvp"]["persistence"]["type"] == "jdbc":
        datasource = values["vvp"]["persistence"]["datasource"]
        assert app["spring"]["datasource"]["url"] == datasource["url"]
        assert app["spring"]["datasource"]["username"] == datasource["username"]
        assert app["spring"]["datasource"]["password"] == "from-the-secret-store"
    else:
        assert app["spring"]["datasource"]["url"].startswith("jdbc:sqlite:")
    # vvp.registry is where the platform's own images come from too
    deployment = yaml.safe_load(rendered["ververica-platform/templates/deployment.yaml"])
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert images and all(i.startswith(values["vvp"]["registry"] + "/vvp-") for i in images), images
    assert app["vvp"]["flinkDeploymentDefaults"]["registry"] == values["vvp"]["registry"]
    if "licenseConfigPath" in values:
        spec = deployment["spec"]["template"]["spec"]
        secrets = {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
        assert values["volumes"][0]["secret"]["secretName"] in secrets
        spring = [
            c
            for c in spec["containers"]
            if any(e["name"] == "spring.config.additional-location" for e in c.get("env", []))
        ]
        assert {c["name"] for c in spring} >= {"appmanager", "gateway"}
        for container in spring:
            env_vars = {e["name"]: e.get("value") for e in container["env"]}
            assert env_vars["spring.config.additional-location"].endswith("," + values["licenseConfigPath"])
            assert any(m["mountPath"] == "/vvp/license" for m in container["volumeMounts"])


def test_without_the_license_values_the_chart_turns_jdbc_into_an_error(tmp_path: Path, config: Path) -> None:
    """The failure gen's values had before they named a license: Community Edition forces local persistence."""
    values = render_env(tmp_path, "prod", config)
    assert values["vvp"]["persistence"]["type"] == "jdbc"
    bare = {k: v for k, v in values.items() if k not in ("acceptCommunityEditionLicense", "licenseConfigPath")}
    with pytest.raises(helm.HelmError, match=r"datasource\.url may not be set when using 'local' persistence"):
        chart_render(merged(bare, PASSWORD_VALUES))


def test_a_license_values_file_is_needed_where_the_environment_names_one(tmp_path: Path, config: Path) -> None:
    edit(
        config / "environments" / "staging.yaml", "      secretName: vvp-license", "      valuesFile: vvp-license.yaml"
    )
    values = render_env(tmp_path, "staging", config)
    assert values["acceptCommunityEditionLicense"] is False
    assert "licenseConfigPath" not in values
    with pytest.raises(helm.HelmError, match="No Ververica Platform license provided"):
        chart_render(merged(values, PASSWORD_VALUES))
    license_values = yaml.safe_load(LICENSE_VALUES.read_text())
    app = application_config(chart_render(merged(values, license_values, PASSWORD_VALUES)))
    assert app["vvp"]["license"]["data"] == license_values["vvp"]["license"]["data"]
    assert app["spring"]["datasource"]["url"].startswith("jdbc:postgresql:")
