"""Snapshots of every Ververica Platform kind gen writes, across profiles x environments x both VVP
targets (reviewed like code, never regenerated blindly).

- per deployment: the REST ``Deployment`` (target vvp) or the ``VvpDeployment`` (target
  vvp-operator, PATCH by default and PUT), for every profile x environment;
- per namespace: ``DeploymentTarget``, ``DeploymentDefaults`` and the deployment templates of every
  profile, in application and in session mode (then with the ``SessionCluster``), per environment;
  they are the same for both targets (asserted, so snapshotted once);
- per environment: the platform's Helm values.
"""

from __future__ import annotations

import re

import pytest
from syrupy.assertion import SnapshotAssertion

from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Resolver
from generator.data import copy_example
from generator.output import OutFile
from generator.render.plan import Selection, render

PROFILES = ("small", "stateful-heavy", "high-throughput")
ENVS = ("dev", "staging", "prod")
TARGETS = ("vvp", "vvp-operator")
NAMESPACE_FILES = re.compile(
    r"^[^/]+/[^/]+/vvp/(deploymenttarget-|deploymentdefaults|sessioncluster-|deployment-templates/)"
)
DEPLOYMENT_FILES = re.compile(r"^[^/]+/[^/]+/(vvp/deployment-[^/]+|vvpdeployment-[^/]+)\.yaml$")


def _render(repo: ConfigRepo, sets: tuple[str, ...] = (), **selection: str) -> list[OutFile]:
    return render(repo, Resolver(repo, sets), Selection(**selection))


def _pick(files: list[OutFile], pattern: re.Pattern[str], profile: str | None = None) -> dict[str, str]:
    """The files matching ``pattern``; with ``profile``, only those of that profile's deployments (a
    selected render also writes the other deployments' files the kustomization lists)."""
    return {
        f.path: f.content
        for f in files
        if pattern.search(f.path) and (profile is None or f.owner.profile in ("", profile))
    }


@pytest.fixture(scope="module")
def repo() -> ConfigRepo:
    return ConfigRepo(example_config_dir())


@pytest.fixture(scope="module")
def session_repo(tmp_path_factory: pytest.TempPathFactory) -> ConfigRepo:
    """The example with the analytics namespace in session mode."""
    root = tmp_path_factory.mktemp("session") / "config"
    copy_example(root)
    namespace = root / "namespaces/analytics.yaml"
    namespace.write_text(
        namespace.read_text().replace(
            '  deploymentTargetName: "{{ namespace }}"\n',
            # the shared cluster offers 2 TaskManagers x 1 slot: room for each job's parallelism 2
            "  sessionClusterName: shared\n  template:\n    spec:\n      numberOfTaskManagers: 2\n",
        )
    )
    for name in ("events-ingest", "fraud-scoring"):
        path = root / f"deployments/analytics/{name}.yaml"
        text = re.sub(r"      numberOfTaskManagers: \d+\n", "", path.read_text())
        path.write_text(re.sub(r"      parallelism: \d+\n", "      parallelism: 2\n", text))
    return ConfigRepo(root)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("profile", PROFILES)
def test_deployment_documents(
    repo: ConfigRepo, profile: str, env: str, target: str, snapshot: SnapshotAssertion
) -> None:
    files = _pick(_render(repo, env=env, profile=profile, target=target), DEPLOYMENT_FILES, profile)
    assert len(files) == 1, files
    assert files == snapshot


@pytest.mark.parametrize("env", ENVS)
def test_vvp_deployment_put(repo: ConfigRepo, env: str, snapshot: SnapshotAssertion) -> None:
    files = _render(repo, ("platform.vvp.operator.syncingMode=PUT",), env=env, target="vvp-operator")
    assert _pick(files, DEPLOYMENT_FILES) == snapshot


@pytest.mark.parametrize("mode", ["application", "session"])
@pytest.mark.parametrize("env", ENVS)
def test_namespace_documents(
    repo: ConfigRepo, session_repo: ConfigRepo, env: str, mode: str, snapshot: SnapshotAssertion
) -> None:
    source = repo if mode == "application" else session_repo
    by_target = [_pick(_render(source, env=env, target=target), NAMESPACE_FILES) for target in TARGETS]
    assert by_target[0] == by_target[1]
    kinds = {re.sub(r"-[^/]*$|\.yaml$", "", p.rsplit("/", 1)[-1]) for p in by_target[0]}
    assert kinds == {"deploymenttarget", "deploymentdefaults"} | ({"sessioncluster"} if mode == "session" else set())
    assert by_target[0] == snapshot


@pytest.mark.parametrize("env", ENVS)
def test_session_mode_deployments(session_repo: ConfigRepo, env: str, snapshot: SnapshotAssertion) -> None:
    files = {}
    for target in TARGETS:
        rendered = _render(session_repo, env=env, profile="stateful-heavy", target=target)
        files.update(_pick(rendered, DEPLOYMENT_FILES, "stateful-heavy"))
    assert len(files) == 2
    assert files == snapshot


@pytest.mark.parametrize("env", ENVS)
def test_helm_values(repo: ConfigRepo, env: str, snapshot: SnapshotAssertion) -> None:
    by_target = [
        {f.path: f.content for f in _render(repo, env=env, target=t) if f.path.startswith(f"{env}/helm/ververica")}
        for t in TARGETS
    ]
    # the REST target's platform is VVP 2 (chart values vvp.*), the VvpDeployment's is VVP 3 (vvp-k8s-operator.*)
    for values in by_target:
        assert list(values) == [f"{env}/helm/ververica-platform-values.yaml"]
    assert by_target[0] != by_target[1]
    assert dict(zip(TARGETS, by_target, strict=True)) == snapshot
