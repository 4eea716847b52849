"""Snapshots of every Kubernetes object around the jobs (ServiceAccount, Role, RoleBinding,
NetworkPolicy, ResourceQuota, LimitRange, PodMonitor, PrometheusRule, kustomization.yaml) for every
profile x environment; the namespace of each case holds the deployments of one profile, so quotas,
policies and alert groups follow the profile. Reviewed like code: never regenerated blindly."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.render.plan import Selection, render
from tests.kubernetes_support import ENVS, NAMESPACE, PROFILES, is_kubernetes_object, single_profile_config

KINDS = (
    "serviceaccount",
    "role",
    "rolebinding",
    "networkpolicy",
    "resourcequota",
    "limitrange",
    "podmonitor",
    "prometheusrule",
)


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("profiles")
    return {profile: single_profile_config(root / profile, profile) for profile in PROFILES}


def namespace_files(config: Path, env: str, target: str = "vvp") -> dict[str, str]:
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env=env, namespace=NAMESPACE, target=target))
    kubernetes = {
        f.path: f.content
        for f in files
        if f.path.endswith("kustomization.yaml")
        or (is_kubernetes_object(f.path) and f.path.split("/")[-1].split("-")[0] in KINDS)
    }
    assert {path.split("/")[-1].split("-")[0] for path in kubernetes} >= {*KINDS, "kustomization.yaml"}
    return kubernetes


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("profile", PROFILES)
def test_kubernetes_objects(configs: dict[str, Path], profile: str, env: str, snapshot: SnapshotAssertion) -> None:
    assert namespace_files(configs[profile], env) == snapshot


@pytest.mark.parametrize("env", ENVS)
def test_kubernetes_objects_native_mode(configs: dict[str, Path], env: str, snapshot: SnapshotAssertion) -> None:
    """Target flink-operator: the JobManager creates its TaskManager pods (RBAC) and the operator calls REST."""
    files = namespace_files(configs["stateful-heavy"], env, "flink-operator")
    wanted = ("role-", "rolebinding-", "serviceaccount-", "networkpolicy-fraud-scoring-jobmanager")
    assert {p: c for p, c in files.items() if p.split("/")[-1].startswith(wanted)} == snapshot
