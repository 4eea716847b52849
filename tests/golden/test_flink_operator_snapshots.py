"""Snapshots of the flink-operator target's own documents for every profile x environment, in
application and in session mode (reviewed like code, never regenerated blindly)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Resolver
from generator.data import copy_example
from generator.render.plan import Selection, render

PROFILES = ("small", "stateful-heavy", "high-throughput")
ENVS = ("dev", "staging", "prod")
OWN = ("/flinkdeployment-", "/flinksessionjob-", "/helm/flink-kubernetes-operator-values.yaml")


def own_files(config: Path, env: str, profile: str) -> dict[str, str]:
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env=env, profile=profile, target="flink-operator"))
    # a selected render also renders the other profiles' files the kustomization lists: not this profile's
    mine = [f for f in files if not f.owner.deployment or f.owner.profile == profile]
    return {f.path: f.content for f in mine if any(part in f.path for part in OWN)}


@pytest.fixture(scope="module")
def session_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = tmp_path_factory.mktemp("session") / "config"
    copy_example(config)
    path = config / "namespaces/analytics.yaml"
    path.write_text(
        path.read_text().replace(
            'deploymentTargetName: "{{ namespace }}"',
            # the shared cluster offers 2 TaskManagers x 1 slot: room for each job's parallelism 2
            "sessionClusterName: shared\n  template:\n    spec:\n      numberOfTaskManagers: 2",
        )
    )
    # a session job sizes nothing (the same rule as on VVP) and fits the shared cluster's slots
    for name in ("events-ingest", "fraud-scoring"):
        job = config / f"deployments/analytics/{name}.yaml"
        text = re.sub(r"      numberOfTaskManagers: \d+\n", "", job.read_text())
        job.write_text(re.sub(r"      parallelism: \d+\n", "      parallelism: 2\n", text))
    return config


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("profile", PROFILES)
def test_application_mode(profile: str, env: str, snapshot: SnapshotAssertion) -> None:
    files = own_files(example_config_dir(), env, profile)
    assert any("/flinkdeployment-" in p for p in files)
    assert files == snapshot


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("profile", PROFILES)
def test_session_mode(session_config: Path, profile: str, env: str, snapshot: SnapshotAssertion) -> None:
    files = own_files(session_config, env, profile)
    assert f"{env}/analytics/flinkdeployment-shared.yaml" in files
    assert any("/flinksessionjob-" in p for p in files)
    assert files == snapshot
