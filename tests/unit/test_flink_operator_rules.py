"""The operator's own rules: every one is a located input error (exit 2) before anything renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Result, assert_located, edit, run_cli, tree_digest

TARGET = "flink-operator"
DEPLOYMENT = "deployments/analytics/events-ingest.yaml"


def render(config: Path, *args: str, env: str = "prod") -> Result:
    return run_cli(
        "render", "--config", str(config), "--target", TARGET, "--env", env, "--out", str(config / "o"), *args
    )


def line_of(path: Path, text: str, after: str = "") -> int:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if text in line)


def add_flink_conf(config: Path, entries: str, file: str = DEPLOYMENT) -> Path:
    """Give a deployment file a flinkConfiguration block (``entries``: ``key: value`` lines)."""
    path = config / file
    body = "".join(f"        {line}\n" for line in entries.splitlines())
    edit(path, "      numberOfTaskManagers: 4\n", "      numberOfTaskManagers: 4\n      flinkConfiguration:\n" + body)
    return path


# -- name ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a" * 46, "9-lives", "events-ingest-for-the-analytics-team-in-europe-west"])
def test_a_deployment_name_the_operator_rejects(config: Path, name: str) -> None:
    source = config / DEPLOYMENT
    target = source.with_name(f"{name}.yaml")
    source.rename(target)
    result = render(config)
    assert_located(result, target, 1, "cannot name a FlinkDeployment", "45 characters")
    assert "metadata.name" in result.stderr


def test_a_45_character_name_is_fine(config: Path) -> None:
    source = config / DEPLOYMENT
    source.rename(source.with_name("e" * 45 + ".yaml"))
    assert render(config).code == 0


def test_a_session_cluster_name_the_operator_rejects(config: Path) -> None:
    path = config / "namespaces/analytics.yaml"
    name = "shared-session-cluster-of-the-analytics-team-eu-1"  # a Kubernetes name, too long for the operator
    edit(path, 'deploymentTargetName: "{{ namespace }}"', f"sessionClusterName: {name}")
    result = render(config)
    assert_located(result, path, line_of(path, "sessionClusterName"), f"'{name}' cannot name a FlinkDeployment")


# -- flinkVersion --------------------------------------------------------------------------------
def test_flink_version_is_required(config: Path) -> None:
    edit(config / "baseline.yaml", '        flinkVersion: "1.20"\n', "")
    result = render(config)
    assert result.code == 2
    assert "flinkVersion" in result.stderr and "missing required key" in result.stderr


# -- forbidden keys ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["kubernetes.namespace", "kubernetes.cluster-id", "high-availability.cluster-id"])
def test_forbidden_configuration_keys(config: Path, key: str) -> None:
    path = add_flink_conf(config, f"{key}: mine")
    result = render(config)
    assert_located(result, path, line_of(path, key), key, "forbids this key")


@pytest.mark.parametrize(
    ("key", "instead"),
    [
        ("kubernetes.service-account", "platform.kubernetes.serviceAccounts"),
        ("kubernetes.taskmanager.service-account", "platform.kubernetes.serviceAccounts"),
        ("kubernetes.container.image.ref", "platform.flinkOperator.image"),
    ],
)
def test_keys_the_operator_sets_from_its_spec(config: Path, key: str, instead: str) -> None:
    path = add_flink_conf(config, f"{key}: mine")
    result = render(config)
    assert_located(result, path, line_of(path, key), "sets this key from its own spec field", instead)


def test_problems_of_every_deployment_are_reported_together(config: Path) -> None:
    first = add_flink_conf(config, "kubernetes.cluster-id: one")
    second = config / "deployments/analytics/fraud-scoring.yaml"
    edit(
        second,
        "      numberOfTaskManagers: 4\n",
        "      numberOfTaskManagers: 4\n      flinkConfiguration:\n        kubernetes.namespace: two\n",
    )
    result = render(config)
    assert_located(result, first, line_of(first, "kubernetes.cluster-id"), "forbids")
    assert_located(result, second, line_of(second, "kubernetes.namespace"), "forbids")


# -- high availability ---------------------------------------------------------------------------
def test_standby_jobmanagers_need_ha(config: Path) -> None:
    add_flink_conf(config, "high-availability.type: NONE")
    profile = config / "profiles/high-throughput.yaml"
    result = render(config)
    line = line_of(profile, "kubernetes.jobmanager.replicas: 2")
    assert_located(result, profile, line, "2 JobManagers need high availability")
    # dev runs one JobManager: the same configuration renders there
    assert render(config, env="dev").code == 0


def test_rollback_needs_ha(config: Path) -> None:
    add_flink_conf(config, "high-availability.type: NONE")
    edit(
        config / DEPLOYMENT,
        "metadata:\n",
        "platform:\n  flinkOperator:\n    flinkConfiguration:\n"
        "      kubernetes.operator.deployment.rollback.enabled: true\nmetadata:\n",
    )
    result = render(config, env="dev")
    path = config / DEPLOYMENT
    assert_located(result, path, line_of(path, "rollback.enabled"), "rollbacks need high availability")


# -- state directories ---------------------------------------------------------------------------
def test_stateful_upgrades_need_a_checkpoint_directory(config: Path) -> None:
    add_flink_conf(config, "execution.checkpointing.dir: null")
    baseline = config / "baseline.yaml"
    result = render(config)
    assert_located(
        result, baseline, line_of(baseline, "kind: LATEST_STATE"), "upgradeMode last-state", "checkpoint directory"
    )
    assert "execution.checkpointing.dir" in result.stderr  # the hint names the key
    # a stateless deployment needs none
    edit(config / DEPLOYMENT, "spec:\n  template:", "spec:\n  upgradeStrategy:\n    kind: STATELESS\n  template:")
    assert render(config).code == 0


def test_the_savepoint_upgrade_mode_needs_a_savepoint_directory(config: Path) -> None:
    add_flink_conf(config, "execution.checkpointing.savepoint-dir: null")
    path = config / DEPLOYMENT
    edit(path, "spec:\n  template:", "spec:\n  restoreStrategy:\n    kind: LATEST_SAVEPOINT\n  template:")
    result = render(config)
    assert_located(
        result, path, line_of(path, "kind: LATEST_SAVEPOINT"), "upgradeMode savepoint", "savepoint directory"
    )


def test_a_manual_savepoint_needs_a_savepoint_directory(config: Path) -> None:
    add_flink_conf(config, "execution.checkpointing.savepoint-dir: null")
    path = config / DEPLOYMENT
    edit(path, "metadata:\n", "platform:\n  flinkOperator:\n    savepointTriggerNonce: 1\nmetadata:\n")
    result = render(config)
    assert_located(result, path, line_of(path, "savepointTriggerNonce"), "manual savepoint needs a savepoint directory")


# -- nonces ----------------------------------------------------------------------------------------
def test_nonces_belong_to_one_deployment(config: Path) -> None:
    baseline = config / "baseline.yaml"
    edit(baseline, "  flinkOperator:\n", "  flinkOperator:\n    restartNonce: 1\n")
    result = render(config)
    assert_located(result, baseline, line_of(baseline, "restartNonce"), "belongs to one deployment")
    # the same nonce on the command line is one deployment's
    edit(baseline, "    restartNonce: 1\n", "")
    ok = render(config, "--deployment", "events-ingest", "--set", "platform.flinkOperator.restartNonce=2")
    assert ok.code == 0, ok.stderr


def test_a_savepoint_redeploy_needs_the_savepoint(config: Path) -> None:
    path = config / DEPLOYMENT
    edit(path, "metadata:\n", "platform:\n  flinkOperator:\n    savepointRedeployNonce: 1\nmetadata:\n")
    result = render(config)
    assert_located(result, path, line_of(path, "savepointRedeployNonce"), "initialSavepointPath")


# -- images ----------------------------------------------------------------------------------------
def test_the_flink_image_must_be_pinned(config: Path) -> None:
    baseline = config / "baseline.yaml"
    edit(baseline, "      tag: 1.20.1-scala_2.12-java11\n", "      tag: latest\n")
    result = render(config)
    assert_located(result, baseline, line_of(baseline, "tag: latest"), "'latest' is not a pinned tag")


@pytest.mark.parametrize(
    ("tag", "message"),
    [("1.19.2-java11", "is Flink 1.19, but the deployment runs flinkVersion 1.20"), ("1.20", "moves with every patch")],
)
def test_the_flink_image_matches_the_flink_version_and_a_patch_release(config: Path, tag: str, message: str) -> None:
    baseline = config / "baseline.yaml"
    edit(baseline, "      tag: 1.20.1-scala_2.12-java11\n", f'      tag: "{tag}"\n')
    result = render(config)
    assert_located(result, baseline, line_of(baseline, f'tag: "{tag}"'), message)


def test_an_image_without_tag_or_digest(config: Path) -> None:
    baseline = config / "baseline.yaml"
    edit(baseline, "      tag: 1.20.1-scala_2.12-java11\n", "")
    result = render(config)
    assert result.code == 2
    assert "platform.flinkOperator.image: the image is not pinned" in result.stderr
    assert str(baseline) in result.stderr


def test_an_image_without_the_environments_registry(config: Path) -> None:
    env = config / "environments/prod.yaml"
    edit(env, "  flinkOperator:\n    registry: registry.acme.internal/mirror/apache\n", "")
    result = render(config)
    assert result.code == 2
    assert f"{env}:1:1: platform.flinkOperator.image.registry: the image has no registry" in result.stderr


def test_the_operator_image_must_be_pinned(config: Path) -> None:
    baseline = config / "baseline.yaml"
    edit(baseline, "        tag: 1.15.0\n", "        tag: latest\n")
    result = render(config)
    assert_located(result, baseline, line_of(baseline, "tag: latest"), "'latest' is not a pinned tag")


def test_a_malformed_digest_is_a_schema_error(config: Path) -> None:
    baseline = config / "baseline.yaml"
    edit(baseline, "        tag: 1.15.0\n", "        tag: 1.15.0\n        digest: sha256:abc\n")
    result = render(config)
    assert_located(result, baseline, line_of(baseline, "digest: sha256:abc"), "does not have the expected form")


# -- shapes the operator cannot run ---------------------------------------------------------------
def test_a_sql_script_artifact(config: Path) -> None:
    path = config / DEPLOYMENT
    edit(path, "      artifact:\n", "      artifact:\n        kind: SQLSCRIPT\n        sqlScript: SELECT 1\n")
    result = render(config)
    assert_located(result, path, line_of(path, "kind: SQLSCRIPT"), "needs the SQL runner jar")
    # the jar URI left in the file belongs to kind JAR
    assert_located(result, path, line_of(path, "jarUri"), "jarUri belongs to artifacts of kind JAR")


def test_unbalanced_quotes_in_main_args(config: Path) -> None:
    path = config / DEPLOYMENT
    edit(path, "mainArgs: --source-topic raw-events --sink-topic events", 'mainArgs: "--topic \'raw events"')
    result = render(config)
    assert_located(result, path, line_of(path, "mainArgs"), "cannot split into arguments")


def test_an_operator_key_in_the_shared_configuration_and_the_operator_block(config: Path) -> None:
    add_flink_conf(config, "kubernetes.operator.periodic.savepoint.interval: 1h")
    baseline = config / "baseline.yaml"
    edit(
        baseline,
        "  flinkOperator:\n",
        "  flinkOperator:\n    flinkConfiguration:\n      kubernetes.operator.periodic.savepoint.interval: 6h\n",
    )
    result = render(config)
    assert_located(result, baseline, line_of(baseline, "periodic.savepoint.interval"), "also set in")


def test_flink_keys_do_not_belong_in_the_operator_block(config: Path) -> None:
    baseline = config / "baseline.yaml"
    edit(
        baseline, "  flinkOperator:\n", "  flinkOperator:\n    flinkConfiguration:\n      state.backend.type: rocksdb\n"
    )
    result = render(config)
    assert result.code == 2
    assert str(baseline) in result.stderr and "kubernetes.operator" in result.stderr


def test_nothing_is_written_when_a_rule_fails(config: Path) -> None:
    out = config / "o"
    assert render(config).code == 0
    before = tree_digest(out)
    add_flink_conf(config, "kubernetes.cluster-id: x")
    assert render(config).code == 2
    assert tree_digest(out) == before
