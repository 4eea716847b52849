"""Snapshots of the VVP Deployment of every profile x environment (reviewed like code; the other
kinds have snapshot tests of their own)."""

from __future__ import annotations

import re

import pytest
from syrupy.assertion import SnapshotAssertion

from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Resolver
from generator.render.plan import Selection, render

PROFILES = ("small", "stateful-heavy", "high-throughput")
ENVS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def repo() -> ConfigRepo:
    return ConfigRepo(example_config_dir())


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("profile", PROFILES)
def test_vvp_deployments(repo: ConfigRepo, profile: str, env: str, snapshot: SnapshotAssertion) -> None:
    files = render(repo, Resolver(repo), Selection(env=env, profile=profile, target="vvp"))
    deployments = {f.path: f.content for f in files if re.search(r"/vvp/deployment-[^/]+\.yaml$", f.path)}
    assert deployments, "every profile has an example deployment"
    assert deployments == snapshot
