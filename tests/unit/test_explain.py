"""`gen explain`: the value and every layer that set it, most recent first."""

from __future__ import annotations

import json
from pathlib import Path

from generator.config.layers import example_config_dir
from tests.conftest import edit, run_cli

KEY = "spec.template.spec.resources.taskmanager.memory"


def line_of(path: Path, text: str, after: str = "") -> int:
    """1-based number of the first line holding ``text`` (after the first line holding ``after``)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if text in line)


def test_explain_names_profile_file_and_line_and_what_it_overrode() -> None:
    result = run_cli("explain", KEY, "--profile", "stateful-heavy", "--env", "prod")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f'{KEY} = "16g"')
    example = example_config_dir()
    profile_line = line_of(example / "profiles/stateful-heavy.yaml", "memory: 16g")
    baseline_line = line_of(example / "baseline.yaml", "memory: 2g", after="taskmanager:")
    assert "set by" in lines[1] and f"profiles/stateful-heavy.yaml:{profile_line}:" in lines[1]
    assert "overrode" in lines[2] and '"2g"' in lines[2] and f"baseline.yaml:{baseline_line}:" in lines[2]


def test_explain_json_chain_with_deployment_and_environment_layers(config: Path) -> None:
    edit(
        config / "deployments/analytics/fraud-scoring.yaml",
        "      numberOfTaskManagers: 4\n",
        "      numberOfTaskManagers: 4\n      resources:\n        taskmanager:\n          memory: 32g\n",
    )
    result = run_cli("explain", KEY, "-e", "prod", "-d", "fraud-scoring", "-c", str(config), "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["value"] == "32g"
    assert [c["layer"] for c in data["chain"]] == [
        "deployment analytics/fraud-scoring",
        "profile stateful-heavy",
        "baseline",
    ]
    assert data["chain"][0]["file"].endswith("deployments/analytics/fraud-scoring.yaml")
    assert data["chain"][0]["line"] == line_of(config / "deployments/analytics/fraud-scoring.yaml", "memory: 32g")


def test_explain_accepts_a_deprecated_flink_key_and_shows_the_template() -> None:
    result = run_cli(
        "explain", "spec.template.spec.flinkConfiguration.state.checkpoints.dir", "-e", "dev", "-d", "fraud-scoring"
    )
    assert result.code == 0, result.stderr
    assert '"s3://acme-flink-dev/analytics/checkpoints"' in result.stdout
    assert "{{ platform.storage.baseUri }}/checkpoints" in result.stdout


def test_explain_shows_a_deletion(config: Path) -> None:
    edit(
        config / "environments/dev.yaml",
        "        kubernetes.jobmanager.replicas: 1\n",
        "        kubernetes.jobmanager.replicas: 1\n        pipeline.max-parallelism: null\n",
    )
    result = run_cli(
        "explain",
        "spec.template.spec.flinkConfiguration.pipeline.max-parallelism",
        "-e",
        "dev",
        "-d",
        "fraud-scoring",
        "-c",
        str(config),
    )
    assert result.code == 0, result.stderr
    deleted_at = line_of(config / "environments/dev.yaml", "max-parallelism: null")
    assert "(not set)" in result.stdout and "null (deleted)" in result.stdout
    assert f"environments/dev.yaml:{deleted_at}:" in result.stdout


def test_explain_unknown_key_is_a_usage_error() -> None:
    result = run_cli("explain", "spec.nothing.here", "-e", "prod", "-p", "small")
    assert result.code == 2
    assert "not set" in result.stderr
