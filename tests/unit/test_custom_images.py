"""Custom application images: only official Flink repositories' tags are read as Flink releases;
an application image has its own tag (or digest), and a moving tag needs a digest in production."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.model.images import flink_release, is_moving_tag, is_official_flink
from tests.conftest import Result, assert_located, edit, line_of, run_cli

DEPLOYMENT = "deployments/analytics/events-ingest.yaml"


def render(config: Path, target: str, env: str = "prod", *args: str) -> Result:
    out = config / "o"
    return run_cli("render", "--config", str(config), "--target", target, "--env", env, "--out", str(out), *args)


def operator_image(config: Path, lines: str) -> Path:
    """Give events-ingest its own operator image (``lines`` below ``image:``)."""
    path = config / DEPLOYMENT
    block = "".join(f"      {line}\n" for line in lines.splitlines())
    edit(path, "metadata:\n", f"platform:\n  flinkOperator:\n    image:\n{block}metadata:\n")
    return path


def vvp_image(config: Path, lines: str) -> Path:
    path = config / DEPLOYMENT
    block = "".join(f"        {line}\n" for line in lines.splitlines())
    edit(path, "      artifact:\n", "      artifact:\n" + block)
    return path


def rendered(config: Path, name: str) -> dict[str, object]:
    found = sorted((config / "o").rglob(name))
    assert found, name
    loaded: dict[str, object] = yaml.safe_load(found[0].read_text())
    return loaded


@pytest.mark.parametrize(
    ("repository", "official"),
    [
        ("flink", True),
        ("library/flink", True),
        ("apache/flink", True),
        ("v2.14/flink", True),
        ("acme/events-ingest", False),
        ("flink-sql-runner", False),
        ("team/flink", False),
    ],
)
def test_only_official_repositories_are_flink_releases(repository: str, official: bool) -> None:
    assert is_official_flink(repository) is official


@pytest.mark.parametrize("tag", ["latest", "latest-1.19", "v1", "2", "stable", "1.0.0-SNAPSHOT"])
def test_moving_tags(tag: str) -> None:
    assert is_moving_tag(tag)


@pytest.mark.parametrize("tag", ["1.0.0", "v1.4.2", "2026.12.01-abc123", "1.20.1-scala_2.12-java11"])
def test_fixed_tags(tag: str) -> None:
    assert not is_moving_tag(tag)


def test_flink_release_of_a_tag() -> None:
    assert flink_release("1.20.1-scala_2.12-java11") == ("1.20", "1")
    assert flink_release("1.20") == ("1.20", None)
    assert flink_release("java11") is None


# -- flink-operator ---------------------------------------------------------------------------------
def test_an_application_tag_is_not_a_flink_release(config: Path) -> None:
    operator_image(config, "repository: acme/events-ingest\ntag: 1.0.0")
    result = render(config, "flink-operator")
    assert result.code == 0, result.stderr
    doc = rendered(config, "flinkdeployment-events-ingest.yaml")
    spec = doc["spec"]
    assert isinstance(spec, dict)
    assert spec["image"] == "registry.acme.internal/mirror/apache/acme/events-ingest:1.0.0"
    assert spec["flinkVersion"] == "v1_20"  # from the artifact's flinkVersion, not the tag


def test_an_application_image_without_its_own_tag_is_refused(config: Path) -> None:
    path = operator_image(config, "repository: acme/events-ingest")
    result = render(config, "flink-operator")
    assert_located(result, path, line_of(path, "repository: acme/events-ingest"), "no tag or digest of its own")


@pytest.mark.parametrize("tag", ["latest", "latest-1.19", "v1"])
def test_a_moving_application_tag_is_refused_in_production(config: Path, tag: str) -> None:
    path = operator_image(config, f"repository: acme/events-ingest\ntag: {tag}")
    result = render(config, "flink-operator")
    assert_located(result, path, line_of(path, f"tag: {tag}"), "moves with every push")


def test_a_moving_application_tag_passes_in_development(config: Path) -> None:
    operator_image(config, "repository: acme/events-ingest\ntag: v1")
    assert render(config, "flink-operator", "dev").code == 0


def test_a_digest_pins_a_moving_application_tag(config: Path) -> None:
    digest = "sha256:" + "a" * 64
    operator_image(config, f"repository: acme/events-ingest\ntag: latest\ndigest: '{digest}'")
    result = render(config, "flink-operator")
    assert result.code == 0, result.stderr
    spec = rendered(config, "flinkdeployment-events-ingest.yaml")["spec"]
    assert isinstance(spec, dict)
    assert spec["image"].endswith(f"acme/events-ingest:latest@{digest}")


def test_a_digest_does_not_bypass_the_version_check(config: Path) -> None:
    digest = "sha256:" + "b" * 64
    path = operator_image(config, f"repository: flink\ntag: 1.19.2-java11\ndigest: '{digest}'")
    result = render(config, "flink-operator")
    assert_located(
        result, path, line_of(path, "tag: 1.19.2"), "is Flink 1.19, but the deployment runs flinkVersion 1.20"
    )


# -- VVP ------------------------------------------------------------------------------------------
def test_vvp_application_image_keeps_its_tag(config: Path) -> None:
    vvp_image(config, "flinkImageRepository: acme/events-ingest\nflinkImageTag: 1.0.0")
    result = render(config, "vvp")
    assert result.code == 0, result.stderr
    artifact = rendered(config, "deployment-events-ingest.yaml")["spec"]["template"]["spec"]["artifact"]  # type: ignore[index]
    assert (artifact["flinkImageRepository"], artifact["flinkImageTag"], artifact["flinkVersion"]) == (
        "acme/events-ingest",
        "1.0.0",
        "1.20",
    )


def test_an_application_image_cannot_run_on_vvp_3(config: Path) -> None:
    # a VvpDeployment names an engine (engineVersionName), not an image: the custom image is refused, not dropped
    path = vvp_image(config, "flinkImageRepository: acme/events-ingest\nflinkImageTag: 1.0.0")
    result = render(config, "vvp-operator")
    assert_located(result, path, line_of(path, "flinkImageRepository: acme"), "cannot run on VVP 3")


def test_vvp_application_image_without_its_own_tag_is_refused(config: Path) -> None:
    path = vvp_image(config, "flinkImageRepository: acme/events-ingest")
    result = render(config, "vvp")
    assert_located(
        result, path, line_of(path, "flinkImageRepository: acme"), "has no tag of its own", "written for another image"
    )


def test_vvp_official_tag_names_the_flink_version(config: Path) -> None:
    path = vvp_image(config, "flinkImageTag: 1.19.1-stream1-scala_2.12-java11")
    result = render(config, "vvp")
    assert_located(
        result, path, line_of(path, "flinkImageTag: 1.19"), "is Flink 1.19, but the deployment runs flinkVersion 1.20"
    )


def test_vvp_moving_application_tag_is_refused_in_production(config: Path) -> None:
    path = vvp_image(config, "flinkImageRepository: acme/events-ingest\nflinkImageTag: latest-1.20")
    assert_located(render(config, "vvp"), path, line_of(path, "flinkImageTag: latest"), "moves with every push")
    assert render(config, "vvp", "dev").code == 0


@pytest.mark.parametrize("target", ["vvp", "flink-operator"])
def test_a_flink_version_changed_after_the_image_is_blamed_where_it_changed(config: Path, target: str) -> None:
    # the baseline's images are Flink 1.20; the deployment's own file moves the job to 1.19
    path = vvp_image(config, 'flinkVersion: "1.19"')
    result = render(config, target)
    assert_located(result, path, line_of(path, "flinkVersion"), "Flink 1.20")
