"""Session mode that matches the cluster, on every target: a job's parallelism against the slots of
the session cluster it runs on, cluster-only settings refused where the job's file wrote them, and
the operator's jar URI allowlist and restricted hosts for FlinkSessionJobs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import Result, assert_located, edit, line_of, run_cli

TARGETS = ("vvp", "vvp-operator", "flink-operator")
JOB = "deployments/analytics/alerts-router.yaml"
JOB_TEXT = """profile: small
spec:
  deploymentTargetName: null
  sessionClusterName: shared
  template:
    spec:
      artifact:
        jarUri: {jar}
        entryClass: com.acme.alerts.RouterJob
      parallelism: {parallelism}
"""


def render(config: Path, target: str, env: str = "prod") -> Result:
    return run_cli(
        "render", "--config", str(config), "--target", target, "--env", env, "--out", str(config / f"o-{target}")
    )


def session_job(config: Path, parallelism: int = 1, jar: str = "s3://acme-artifacts/alerts/router-1.2.0.jar") -> Path:
    path = config / JOB
    path.write_text(JOB_TEXT.format(parallelism=parallelism, jar=jar))
    return path


def size_cluster(config: Path, task_managers: int) -> None:
    """The namespace defaults size the session cluster (baseline: 1 slot per TaskManager)."""
    edit(
        config / "namespaces/analytics.yaml",
        'spec:\n  deploymentTargetName: "{{ namespace }}"\n',
        f'spec:\n  deploymentTargetName: "{{{{ namespace }}}}"\n  template:\n    spec:\n'
        f"      numberOfTaskManagers: {task_managers}\n",
    )


def operator_values(config: Path) -> dict[str, str]:
    values = yaml.safe_load((config / "o-flink-operator/prod/helm/flink-kubernetes-operator-values.yaml").read_text())
    text = values["defaultConfiguration"]["flink-conf.yaml"]
    return dict(line.split(": ", 1) for line in text.splitlines() if line and not line.startswith("#"))


# -- capacity ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
def test_a_job_larger_than_its_session_cluster_is_refused(config: Path, target: str) -> None:
    path = session_job(config, parallelism=2)  # the cluster: 1 TaskManager x 1 slot
    result = render(config, target)
    assert_located(result, path, line_of(path, "parallelism"), "session cluster 'shared' has 1 TaskManagers x 1 slots")


@pytest.mark.parametrize("target", TARGETS)
def test_a_job_that_fits_its_cluster_but_not_its_profile_is_accepted(config: Path, target: str) -> None:
    # profile small sizes 1 TaskManager x 2 slots; the session cluster has 4 x 1
    size_cluster(config, 4)
    session_job(config, parallelism=4)
    result = render(config, target)
    assert result.code == 0, result.stderr


def test_the_operator_sizes_the_session_cluster_with_the_named_profile(config: Path) -> None:
    # platform.vvp.sessionCluster.profile sizes the cluster on every target:
    # high-throughput has room for 4 (2 x 2), the namespace defaults for 1
    edit(
        config / "namespaces/analytics.yaml",
        "  vvp:\n",
        "  vvp:\n    sessionCluster:\n      profile: high-throughput\n",
    )
    session_job(config, parallelism=4)
    assert render(config, "vvp").code == 0
    result = render(config, "flink-operator")
    assert result.code == 0, result.stderr
    cluster = yaml.safe_load((config / "o-flink-operator/prod/analytics/flinkdeployment-shared.yaml").read_text())
    profile = yaml.safe_load((config / "profiles/high-throughput.yaml").read_text())["spec"]["template"]["spec"]
    assert cluster["spec"]["taskManager"]["replicas"] == profile["numberOfTaskManagers"]


# -- cluster-only settings -----------------------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    ("setting", "text", "message"),
    [
        ("      numberOfTaskManagers: 2\n", "numberOfTaskManagers", "configures the session cluster"),
        (
            "      flinkConfiguration:\n        taskmanager.numberOfTaskSlots: 4\n",
            "taskmanager.numberOfTaskSlots",
            "cluster-level Flink option",
        ),
        (
            "      resources:\n        taskmanager:\n          memory: 8g\n",
            "memory: 8g",
            "configures the session cluster",
        ),
    ],
)
def test_cluster_settings_in_a_session_job_are_refused_where_written(
    config: Path, target: str, setting: str, text: str, message: str
) -> None:
    path = session_job(config)
    edit(path, "      parallelism: 1\n", "      parallelism: 1\n" + setting)
    result = render(config, target)
    assert_located(result, path, line_of(path, text), message)


def test_the_operators_image_in_a_session_job_is_refused(config: Path) -> None:
    path = session_job(config)
    edit(path, "spec:\n", "platform:\n  flinkOperator:\n    image:\n      tag: 1.20.2-java11\nspec:\n")
    result = render(config, "flink-operator")
    assert_located(result, path, line_of(path, "tag: 1.20.2"), "image runs every session job")


# -- the operator's jar allowlist and restricted hosts ----------------------------------------------------
def test_the_operator_allows_exactly_the_schemes_of_the_session_jobs(config: Path) -> None:
    assert render(config, "flink-operator").code == 0
    assert "kubernetes.operator.user.artifacts.allowed-schemes" not in operator_values(config)
    size_cluster(config, 2)
    session_job(config)
    second = config / "deployments/analytics/alerts-archiver.yaml"
    second.write_text(JOB_TEXT.format(parallelism=1, jar="gs://acme-artifacts/alerts/archiver-0.4.0.jar"))
    result = render(config, "flink-operator")
    assert result.code == 0, result.stderr
    assert operator_values(config)["kubernetes.operator.user.artifacts.allowed-schemes"] == "gs,s3"


def test_the_allowlist_is_gens_to_set(config: Path) -> None:
    baseline = config / "baseline.yaml"
    edit(
        baseline,
        "    chart:\n",
        "    chart:\n      defaultConfiguration:\n"
        "        kubernetes.operator.user.artifacts.allowed-schemes: https,s3\n",
    )
    session_job(config)
    result = render(config, "flink-operator")
    assert_located(result, baseline, line_of(baseline, "allowed-schemes"), "exactly the schemes")


@pytest.mark.parametrize(
    "jar",
    [
        "https://127.0.0.1/router.jar",
        "https://localhost:8443/router.jar",
        "https://10.1.2.3/router.jar",
        "https://169.254.169.254/latest/router.jar",
        "https://artifacts.tools.svc.cluster.local/router.jar",
        "https://nexus/router.jar",
    ],
)
def test_a_session_jar_on_a_restricted_host_is_refused(config: Path, jar: str) -> None:
    path = session_job(config, jar=jar)
    result = render(config, "flink-operator")
    assert_located(result, path, line_of(path, "jarUri"), "refuses this session job", "disallow-restricted-hosts")


def test_a_session_jar_on_a_public_host_is_accepted(config: Path) -> None:
    session_job(config, jar="https://repo1.maven.org/maven2/com/acme/router/1.2.0/router-1.2.0.jar")
    result = render(config, "flink-operator")
    assert result.code == 0, result.stderr
    assert operator_values(config)["kubernetes.operator.user.artifacts.allowed-schemes"] == "https"


def test_restricted_hosts_allowed_when_the_operator_allows_them(config: Path) -> None:
    edit(
        config / "baseline.yaml",
        "    chart:\n",
        "    chart:\n      defaultConfiguration:\n"
        "        kubernetes.operator.user.artifacts.disallow-restricted-hosts: false\n",
    )
    session_job(config, jar="https://10.1.2.3/router.jar")
    result = render(config, "flink-operator")
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_a_profile_parallelism_too_large_for_the_cluster_is_blamed_on_the_choice_of_cluster(
    config: Path, target: str
) -> None:
    # the job's own file puts it on the cluster; its parallelism (2) is its profile's
    path = session_job(config)
    edit(path, "      parallelism: 1\n", "")
    result = render(config, target)
    assert_located(
        result, path, line_of(path, "sessionClusterName"), "parallelism 2 (set at", "1 TaskManagers x 1 slots"
    )
