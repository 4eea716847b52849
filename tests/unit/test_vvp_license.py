"""The license and registry of the Ververica Platform chart values: Community Edition is refused where the
tolerance is production (it turns jdbc persistence into local), every production environment names its
license, and vvp.registry (the platform's own images too) agrees with platform.vvp.version."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import edit, run_cli

LOCATED = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<msg>.+)$", re.M)


def fails(config: Path, env: str) -> list[re.Match[str]]:
    result = run_cli("render", "--env", env, "--config", str(config), "--out", str(config.parent / "never"))
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (config.parent / "never").exists()
    return list(LOCATED.finditer(result.stderr))


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_community_edition_is_refused_in_production(config: Path) -> None:
    prod = config / "environments" / "prod.yaml"
    edit(prod, "      secretName: vvp-license", "      communityEdition: true")
    found = fails(config, "prod")
    assert {m["key"] for m in found} == {"platform.vvp.license.communityEdition"}
    assert all(m["file"].endswith("environments/prod.yaml") for m in found)
    assert {int(m["line"]) for m in found} == {line_of(prod, "communityEdition: true")}
    assert "local persistence" in found[0]["msg"]


def test_production_names_a_license(config: Path) -> None:
    prod = config / "environments" / "prod.yaml"
    edit(prod, "    license:\n      secretName: vvp-license\n", "")
    found = fails(config, "prod")
    assert {m["key"] for m in found} == {"platform.vvp.license"}
    assert "Community Edition" in found[0]["msg"]


def test_community_edition_with_jdbc_is_refused_where_the_tolerance_allows_it(config: Path) -> None:
    dev = config / "environments" / "dev.yaml"
    edit(
        dev,
        "        type: local\n",
        "        type: jdbc\n        datasource:\n          url: jdbc:postgresql://db:5432/vvp\n",
    )
    found = fails(config, "dev")
    assert {m["key"] for m in found} == {"platform.vvp.helm.persistence.type"}
    assert "replaces jdbc persistence with local" in found[0]["msg"]


def test_the_registry_serves_the_configured_platform_version(config: Path) -> None:
    prod = config / "environments" / "prod.yaml"
    edit(prod, "  vvp:\n", '  vvp:\n    version: "2.15"\n')
    found = fails(config, "prod")
    assert {m["key"] for m in found} == {"spec.template.spec.artifact.flinkImageRegistry"}
    assert "vvp-appmanager" in found[0]["msg"] and "2.15" in found[0]["msg"]


def test_secret_license_values(config: Path, tmp_path: Path) -> None:
    import yaml

    out = tmp_path / "out"
    assert run_cli("render", "--env", "prod", "--config", str(config), "--out", str(out)).code == 0
    values = yaml.safe_load((out / "prod" / "helm" / "ververica-platform-values.yaml").read_text())
    assert values["acceptCommunityEditionLicense"] is False
    assert values["licenseConfigPath"] == "file:/vvp/license/license.yaml"
    assert values["volumes"] == [{"name": "vvp-license", "secret": {"secretName": "vvp-license"}}]
