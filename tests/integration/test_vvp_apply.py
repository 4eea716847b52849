"""``gen vvp apply`` against a local, stateful AppManager that checks every request against our own
description of the AppManager 2.4 API (tests/vvp_appmanager.py): the plan, create, a second apply that
changes nothing, one edited file that gives exactly one update, deletes only with --allow-delete, the
token from the environment or a file, and TLS verification."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator.deliver.vvp_api import Client
from tests.conftest import Result, run_cli
from tests.vvp_appmanager import AppManager, Running, certificate

TOKEN = "test-token-7f3a9c"  # a stand-in the server expects; never printed by gen
ENV = "prod"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def platform(tls: tuple[Path, Path]) -> Iterator[Running]:
    running = Running(AppManager(TOKEN), *tls)
    yield running
    running.stop()


@pytest.fixture
def out(tmp_path: Path, config: Path) -> Path:
    folder = tmp_path / "out"
    result = run_cli("render", "--env", ENV, "--config", str(config), "--out", str(folder))
    assert result.code == 0, result.stderr
    return folder


def vvp_apply(platform: Running, out: Path, ca: Path, *args: str) -> Result:
    result = run_cli(
        "vvp", "apply", "--env", ENV, "--out", str(out), "--url", platform.url, "--ca-file", str(ca), *args
    )
    assert TOKEN not in result.stdout + result.stderr
    return result


def rendered(out: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted((out / ENV).glob("*/vvp/*.yaml")):
        doc = yaml.safe_load(path.read_text())
        name = doc["metadata"].get("name", "") if doc["kind"] != "DeploymentDefaults" else ""
        found.append((doc["kind"], f"{doc['metadata']['namespace']}/{name}" if name else doc["metadata"]["namespace"]))
    return found


def writes(platform: Running, since: int = 0) -> list[tuple[str, str]]:
    return [(m, p) for m, p in platform.app.requests[since:] if m != "GET"]


def test_dry_run_apply_again_and_one_update(
    platform: Running, out: Path, tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VVP_API_TOKEN", TOKEN)
    resources = rendered(out)
    kinds = {kind for kind, _ in resources}
    assert kinds == {"DeploymentTarget", "DeploymentDefaults", "Deployment"}

    plan = vvp_apply(platform, out, tls[0], "--dry-run")
    assert plan.code == 0, plan.stderr
    expected = sorted(f"create {kind} {label}" for kind, label in resources if kind != "DeploymentDefaults")
    lines = plan.stdout.splitlines()
    assert sorted(line.removesuffix(" (POST)") for line in lines if line.startswith("create")) == expected
    updates = [line for line in lines if line.startswith("update")]
    assert [line.split(" (")[0] for line in updates] == [
        f"update DeploymentDefaults {label}" for kind, label in resources if kind == "DeploymentDefaults"
    ]
    # the fields the PATCH changes, sorted (the platform's defaults hold none of gen's)
    assert "(PATCH; spec.deploymentTargetName, " in updates[0] and "spec.template" in updates[0]
    assert writes(platform) == [] and platform.app.state == {}
    # targets are created before the deployments that name them
    assert lines[0].startswith("create DeploymentTarget")

    first = vvp_apply(platform, out, tls[0])
    assert first.code == 0, first.stderr
    assert first.stdout == plan.stdout
    assert len(writes(platform)) == len(resources)
    assert {(k, ns, n) for k, ns, n in platform.app.state} == {
        (kind, label.split("/")[0], label.split("/")[1] if "/" in label else "") for kind, label in resources
    }

    seen = len(platform.app.requests)
    again = vvp_apply(platform, out, tls[0])
    assert again.code == 0, again.stderr
    assert all(line.startswith("unchanged ") for line in again.stdout.splitlines()), again.stdout
    assert writes(platform, seen) == []

    edited = next((out / ENV).glob("*/vvp/deployment-events-ingest.yaml"))
    doc = yaml.safe_load(edited.read_text())
    doc["spec"]["template"]["spec"]["parallelism"] = doc["spec"]["template"]["spec"]["parallelism"] + 1
    edited.write_text(yaml.safe_dump(doc))
    seen = len(platform.app.requests)
    one = vvp_apply(platform, out, tls[0])
    assert one.code == 0, one.stderr
    changed = [line for line in one.stdout.splitlines() if not line.startswith("unchanged ")]
    assert changed == ["update Deployment analytics/events-ingest (PATCH; spec.template.spec.parallelism)"]
    assert writes(platform, seen) == [("PATCH", "/api/v1/namespaces/analytics/deployments/events-ingest")]
    assert platform.app.violations == []


def test_deletes_only_with_the_flag(
    platform: Running, out: Path, tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VVP_API_TOKEN", TOKEN)
    assert vvp_apply(platform, out, tls[0]).code == 0
    next((out / ENV).glob("*/vvp/deployment-fraud-scoring.yaml")).unlink()
    key = ("Deployment", "analytics", "fraud-scoring")

    kept = vvp_apply(platform, out, tls[0])
    assert kept.code == 0, kept.stderr
    assert "keep Deployment analytics/fraud-scoring (no longer rendered; --allow-delete deletes it)" in kept.stdout
    assert key in platform.app.state
    assert not [m for m, _ in platform.app.requests if m == "DELETE"]

    plan = vvp_apply(platform, out, tls[0], "--allow-delete", "--dry-run")
    assert "delete Deployment analytics/fraud-scoring" in plan.stdout.splitlines()
    assert key in platform.app.state

    deleted = vvp_apply(platform, out, tls[0], "--allow-delete")
    assert deleted.code == 0, deleted.stderr
    assert key not in platform.app.state
    assert [p for m, p in platform.app.requests if m == "DELETE"] == [
        "/api/v1/namespaces/analytics/deployments/fraud-scoring"
    ]
    assert platform.app.violations == []


def test_a_request_the_api_description_does_not_allow_is_caught(
    platform: Running, out: Path, tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(platform.url, TOKEN, ca_file=str(tls[0]))
    # DeploymentTargets have no PATCH in the API
    assert client.request("PATCH", "/api/v1/namespaces/analytics/deployment-targets/analytics", {}).status == 400
    # a field the Deployment resource does not have
    bad = {"kind": "Deployment", "metadata": {"name": "x", "namespace": "analytics"}, "spec": {"replicas": 2}}
    assert client.request("POST", "/api/v1/namespaces/analytics/deployments", bad).status == 400
    # a type the API does not give the field
    typed = {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"spec": {"parallelism": "2"}}}}
    assert client.request("POST", "/api/v1/namespaces/analytics/deployments", typed).status == 400
    assert platform.app.violations == [
        "PATCH /api/v1/namespaces/analytics/deployment-targets/analytics: no such operation in the API description",
        "POST /api/v1/namespaces/analytics/deployments: Deployment has no field spec.replicas",
        "POST /api/v1/namespaces/analytics/deployments: Deployment.spec.template.spec.parallelism is integer in the "
        "API, not str",
    ]
    # through gen: a rendered file with a field the API does not know fails the apply, with the platform's message
    monkeypatch.setenv("VVP_API_TOKEN", TOKEN)
    edited = next((out / ENV).glob("*/vvp/deployment-events-ingest.yaml"))
    doc = yaml.safe_load(edited.read_text())
    doc["spec"]["template"]["spec"]["jobManagerReplicas"] = 2
    edited.write_text(yaml.safe_dump(doc))
    result = vvp_apply(platform, out, tls[0])
    assert result.code == 2
    assert "HTTP 400: Deployment has no field spec.template.spec.jobManagerReplicas" in result.stderr
    assert "Traceback" not in result.stderr


def test_tls_is_verified_and_the_token_never_comes_from_the_command_line(
    platform: Running, out: Path, tls: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VVP_API_TOKEN", raising=False)
    missing = vvp_apply(platform, out, tls[0], "--dry-run")
    assert missing.code == 2 and "no API token: $VVP_API_TOKEN is not set" in missing.stderr
    assert platform.app.requests == []

    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    from_file = vvp_apply(platform, out, tls[0], "--dry-run", "--token-file", str(token_file))
    assert from_file.code == 0, from_file.stderr
    assert platform.app.requests and platform.app.violations == []

    monkeypatch.setenv("VVP_API_TOKEN", TOKEN)
    unverified = run_cli("vvp", "apply", "--env", ENV, "--out", str(out), "--url", platform.url, "--dry-run")
    assert unverified.code == 2
    assert "CERTIFICATE_VERIFY_FAILED" in unverified.stderr
    plain = run_cli("vvp", "apply", "--env", ENV, "--out", str(out), "--url", platform.url.replace("https", "http"))
    assert plain.code == 2 and "is not an https URL" in plain.stderr
    # no option takes the token itself
    wrong = run_cli("vvp", "apply", "--env", ENV, "--out", str(out), "--url", platform.url, "--token", TOKEN)
    assert wrong.code == 2 and "No such option" in wrong.stderr


def test_a_deployment_targets_spec_is_immutable(
    platform: Running, out: Path, tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VVP_API_TOKEN", TOKEN)
    assert vvp_apply(platform, out, tls[0]).code == 0
    target = next((out / ENV).glob("*/vvp/deploymenttarget-*.yaml"))
    doc = yaml.safe_load(target.read_text())
    doc["spec"]["kubernetes"]["namespace"] = "elsewhere"
    target.write_text(yaml.safe_dump(doc))
    seen = len(platform.app.requests)
    result = vvp_apply(platform, out, tls[0])
    assert result.code == 2
    assert "spec is immutable" in result.stderr and "spec.kubernetes.namespace" in result.stderr
    assert writes(platform, seen) == []  # refused while planning: nothing changed
