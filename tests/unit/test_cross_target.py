"""An intent is never dropped when switching targets: a setting only one target supports is mapped
to the other target's equivalent, or refused there with a located error and its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Result, assert_located, edit, line_of, run_cli

DEPLOYMENT = "deployments/analytics/events-ingest.yaml"


def render(config: Path, target: str) -> Result:
    return run_cli(
        "render", "--config", str(config), "--target", target, "--env", "prod", "--out", str(config / target)
    )


def platform(config: Path, block: str) -> Path:
    """Add ``block`` (lines below ``platform:``) to the deployment's own file."""
    path = config / DEPLOYMENT
    body = "".join(f"  {line}\n" for line in block.splitlines())
    edit(path, "metadata:\n", f"platform:\n{body}metadata:\n")
    return path


def spec_of(config: Path, target: str, file: str) -> dict[str, Any]:
    found = sorted((config / target).rglob(file))
    assert found, file
    loaded: dict[str, Any] = yaml.safe_load(found[0].read_text())["spec"]
    return loaded


# -- from the Flink operator target to VVP ------------------------------------------------------------
@pytest.mark.parametrize("target", ["vvp", "vvp-operator"])
def test_starting_from_a_given_savepoint_is_refused_on_vvp_with_the_reason(config: Path, target: str) -> None:
    path = platform(config, "flinkOperator:\n  initialSavepointPath: s3://acme-flink-prod/analytics/savepoints/sp-1")
    result = render(config, target)
    assert_located(
        result, path, line_of(path, "initialSavepointPath"), "no equivalent on Ververica Platform", "deploymentId"
    )


def test_starting_from_a_given_savepoint_renders_on_the_operator(config: Path) -> None:
    platform(config, "flinkOperator:\n  initialSavepointPath: s3://acme-flink-prod/analytics/savepoints/sp-1")
    assert render(config, "flink-operator").code == 0
    job = spec_of(config, "flink-operator", "flinkdeployment-events-ingest.yaml")["job"]
    assert job["initialSavepointPath"] == "s3://acme-flink-prod/analytics/savepoints/sp-1"


def test_operator_nonces_map_to_the_vvpdeployments(config: Path) -> None:
    platform(config, "flinkOperator:\n  restartNonce: 3\n  savepointTriggerNonce: 7")
    result = render(config, "vvp-operator")
    assert result.code == 0, result.stderr
    spec = spec_of(config, "vvp-operator", "vvpdeployment-events-ingest.yaml")
    assert (spec["restartNonce"], spec["savepointNonce"]) == (3, 7)


@pytest.mark.parametrize(
    "key", ["restartNonce", "savepointTriggerNonce", "checkpointTriggerNonce", "autoscalerResetNonce"]
)
def test_operator_nonces_are_refused_on_the_rest_target(config: Path, key: str) -> None:
    path = platform(config, f"flinkOperator:\n  {key}: 1")
    assert_located(render(config, "vvp"), path, line_of(path, key), "no equivalent on Ververica Platform")


def test_a_checkpoint_nonce_is_refused_on_the_vvp_operator(config: Path) -> None:
    path = platform(config, "flinkOperator:\n  checkpointTriggerNonce: 1")
    result = render(config, "vvp-operator")
    assert_located(result, path, line_of(path, "checkpointTriggerNonce"), "no manual checkpoint trigger")


# -- from VVP to the Flink operator target ------------------------------------------------------------
def test_vvp_operator_nonces_map_to_the_flink_operators(config: Path) -> None:
    platform(config, "vvp:\n  operator:\n    restartNonce: 4\n    savepointNonce: 9")
    result = render(config, "flink-operator")
    assert result.code == 0, result.stderr
    spec = spec_of(config, "flink-operator", "flinkdeployment-events-ingest.yaml")
    assert spec["restartNonce"] == 4
    assert spec["job"]["savepointTriggerNonce"] == 9


def test_vvp_operator_nonces_are_refused_on_the_rest_target(config: Path) -> None:
    path = platform(config, "vvp:\n  operator:\n    restartNonce: 4")
    assert_located(render(config, "vvp"), path, line_of(path, "restartNonce"), "REST Deployment has no nonce")


@pytest.mark.parametrize("target", ["flink-operator", "vvp-operator"])
def test_the_same_intent_said_twice_differently_is_refused(config: Path, target: str) -> None:
    path = platform(config, "flinkOperator:\n  restartNonce: 1\nvvp:\n  operator:\n    restartNonce: 2")
    result = render(config, target)
    assert result.code == 2, result.stderr
    assert "keep one of them" in result.stderr
    assert f"{path}:" in result.stderr


def test_a_mapped_nonce_in_a_shared_layer_is_refused(config: Path) -> None:
    namespace = config / "namespaces/analytics.yaml"
    edit(namespace, "  vvp:\n    operator:\n", "  vvp:\n    operator:\n      restartNonce: 1\n")
    result = render(config, "flink-operator")
    assert_located(result, namespace, line_of(namespace, "restartNonce"), "belongs to one deployment")


# -- VVP-only Deployment fields on the Flink operator ---------------------------------------------------
VVP_ONLY = [
    ("spec:\n", "spec:\n  maxSavepointCreationAttempts: 2\n", "maxSavepointCreationAttempts"),
    ("spec:\n", "spec:\n  maxJobCreationAttempts: 3\n", "maxJobCreationAttempts"),
    ("spec:\n", "spec:\n  jobFailureExpirationTime: 2h\n", "jobFailureExpirationTime"),
    ("    spec:\n", "    spec:\n      logging:\n        loggingProfile: json\n", "loggingProfile"),
]


@pytest.mark.parametrize(("old", "new", "key"), VVP_ONLY, ids=[case[2] for case in VVP_ONLY])
def test_vvp_only_fields_are_refused_on_the_operator_and_rendered_on_vvp(
    config: Path, old: str, new: str, key: str
) -> None:
    path = config / DEPLOYMENT
    edit(path, old, new)
    result = render(config, "flink-operator")
    assert_located(result, path, line_of(path, f"{key}:"), f"{key} is a Ververica Platform setting", "no equivalent")
    for target in ("vvp", "vvp-operator"):
        rendered = render(config, target)
        assert rendered.code == 0, rendered.stderr
        found = sorted((config / target).rglob("*events-ingest.yaml"))
        assert any(f"{key}:" in f.read_text() for f in found), key


@pytest.mark.parametrize("target", ["vvp", "vvp-operator", "flink-operator"])
def test_the_example_configuration_sets_no_vvp_only_field(config: Path, target: str) -> None:
    """The example renders on every target: it leaves the VVP-only fields to the platform's defaults."""
    result = render(config, target)
    assert result.code == 0, result.stderr


def test_a_vvp_only_field_in_a_file_every_namespace_reads_says_where_it_belongs(config: Path) -> None:
    """An older baseline that sets a VVP-only field: a mixed estate moves it to its VVP namespaces."""
    baseline = config / "baseline.yaml"
    edit(baseline, "spec:\n", "spec:\n  maxJobCreationAttempts: 4\n")
    result = render(config, "flink-operator")
    assert_located(result, baseline, line_of(baseline, "maxJobCreationAttempts:"), "maxJobCreationAttempts is a")
    assert "reaches every namespace: set it in the namespace files of the namespaces on targets vvp" in result.stderr
    assert "Deployment Defaults" in result.stderr
    assert render(config, "vvp").code == 0
