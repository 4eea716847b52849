"""Bad input: exit 2, a `file:line:col: key: message` line, no traceback, output untouched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import edit, run_cli, tree_digest

LOCATED = re.compile(r"^(?P<file>[^:\s]+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<msg>.+)$", re.M)

# (name, file to edit, old text, new text, expected file suffix, text on the expected line, key, message)
CASES = [
    (
        "malformed-yaml",
        "profiles/small.yaml",
        "      parallelism: 2\n",
        "      parallelism: [2\n",
        "profiles/small.yaml",
        None,
        None,
        "malformed YAML",
    ),
    (
        "duplicate-key",
        "environments/prod.yaml",
        "  tolerance: production\n",
        "  tolerance: production\n  tolerance: development\n",
        "environments/prod.yaml",
        "tolerance: development",
        "platform.tolerance",
        "duplicate key (first set on line {tolerance: production})",
    ),
    (
        "unknown-key-did-you-mean",
        "profiles/stateful-heavy.yaml",
        "      numberOfTaskManagers: 2\n",
        "      numberOfTaskManager: 2\n",
        "profiles/stateful-heavy.yaml",
        "numberOfTaskManager: 2",
        "spec.template.spec.numberOfTaskManager",
        "unknown key (hint: did you mean 'numberOfTaskManagers'?)",
    ),
    (
        "wrong-type",
        "deployments/analytics/fraud-scoring.yaml",
        "      parallelism: 4\n",
        "      parallelism: four\n",
        "deployments/analytics/fraud-scoring.yaml",
        "parallelism: four",
        "spec.template.spec.parallelism",
        'expected integer, got string "four"',
    ),
    (
        "bad-memory-size",
        "profiles/stateful-heavy.yaml",
        "          memory: 16g\n",
        "          memory: 16 gigs\n",
        "profiles/stateful-heavy.yaml",
        "16 gigs",
        "spec.template.spec.resources.taskmanager.memory",
        "'16 gigs' is not a memory size",
    ),
    (
        "bad-duration-in-flink-configuration",
        "environments/prod.yaml",
        "      artifact:\n",
        "      flinkConfiguration:\n        execution.checkpointing.interval: every minute\n      artifact:\n",
        "environments/prod.yaml",
        "every minute",
        "spec.template.spec.flinkConfiguration.execution.checkpointing.interval",
        "'every minute' is not a duration",
    ),
    (
        "target-and-session-cluster",
        "deployments/analytics/fraud-scoring.yaml",
        "spec:\n",
        "spec:\n  sessionClusterName: shared\n",
        "deployments/analytics/fraud-scoring.yaml",
        "sessionClusterName: shared",
        "spec.sessionClusterName",
        "deploymentTargetName and sessionClusterName are mutually exclusive",
    ),
    (
        "undefined-template-variable",
        "namespaces/analytics.yaml",
        'baseUri: "s3://acme-flink-{{ env }}/{{ namespace }}"',
        'baseUri: "s3://acme-flink-{{ environment }}/{{ namespace }}"',
        "namespaces/analytics.yaml",
        "{{ environment }}",
        "platform.storage.baseUri",
        # (a namespace file's line: the message names the deployments being resolved before the hint)
        "template uses an undefined variable: 'environment' is undefined [resolving deployment analytics/",
    ),
    (
        "alias-and-key-disagree",
        "environments/dev.yaml",
        "        kubernetes.jobmanager.replicas: 1\n",
        "        kubernetes.jobmanager.replicas: 1\n"
        "        state.backend: rocksdb\n"
        "        state.backend.type: hashmap\n",
        "environments/dev.yaml",
        "state.backend.type: hashmap",
        "spec.template.spec.flinkConfiguration.state.backend.type",
        "'state.backend.type' and 'state.backend' (line {state.backend: rocksdb}) are the same Flink option",
    ),
    (
        "parallelism-exceeds-slots",
        "deployments/analytics/fraud-scoring.yaml",
        "      parallelism: 4\n",
        "      parallelism: 9\n",
        "deployments/analytics/fraud-scoring.yaml",
        "parallelism: 9",
        "spec.template.spec.parallelism",
        "parallelism 9 needs 9 slots, but 4 TaskManagers x 1 slots give 4",
    ),
]


@pytest.fixture
def rendered(tmp_path: Path, config: Path) -> Path:
    out = tmp_path / "out"
    assert run_cli("render", "--config", str(config), "--out", str(out)).code == 0
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_located_and_leaves_output_untouched(case: tuple, config: Path, rendered: Path) -> None:
    _name, file, old, new, suffix, marker, key, fragment = case
    edit(config / file, old, new)
    lines = (config / file).read_text().splitlines()
    line = next((i for i, text in enumerate(lines, 1) if marker and marker in text), None)
    before = tree_digest(rendered)
    result = run_cli("render", "--config", str(config), "--out", str(rendered))
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    found = [m for m in LOCATED.finditer(result.stderr) if m.group("file").endswith(suffix)]
    assert found, result.stderr
    match = found[0]
    if line is not None:
        assert int(match.group("line")) == line, result.stderr
        assert match.group("key") == key, result.stderr
    # "{text}" in a fragment stands for the number of the line holding that text
    fragment = re.sub(
        r"\{([^}]+)\}", lambda m: str(next(i for i, t in enumerate(lines, 1) if m.group(1) in t)), fragment
    )
    assert fragment in result.stderr
    assert tree_digest(rendered) == before


def test_malformed_yaml_reports_line_and_column(config: Path) -> None:
    edit(config / "profiles/small.yaml", "      parallelism: 2\n", "      parallelism: [2\n")
    result = run_cli("validate", "--config", str(config))
    assert result.code == 2
    located = r"profiles/small\.yaml:\d+:\d+: spec\.template\.spec\.parallelism\S*: malformed YAML"
    assert re.search(located, result.stderr), result.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--profile", "huge", "unknown profile 'huge' (hint: available: high-throughput, small, stateful-heavy)"),
        ("--env", "qa", "unknown environment 'qa' (hint: available: dev, prod, staging)"),
        ("--namespace", "payments", "unknown namespace 'payments' (hint: available: analytics)"),
        ("--deployment", "nope", "unknown deployment 'nope'"),
    ],
)
def test_unknown_names_list_the_available_ones(option: str, value: str, message: str, rendered: Path) -> None:
    before = tree_digest(rendered)
    result = run_cli("render", option, value, "--out", str(rendered))
    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_digest(rendered) == before


def test_unknown_profile_in_a_deployment_file_is_located(config: Path) -> None:
    edit(config / "deployments/analytics/fraud-scoring.yaml", "profile: stateful-heavy", "profile: stateful")
    result = run_cli("validate", "--config", str(config))
    assert result.code == 2
    assert re.search(
        r"deployments/analytics/fraud-scoring\.yaml:2:1: profile: unknown profile 'stateful' \(hint: available: ",
        result.stderr,
    ), result.stderr


def test_all_problems_of_a_run_are_reported_at_once_sorted(config: Path) -> None:
    edit(config / "profiles/stateful-heavy.yaml", "          memory: 16g\n", "          memory: lots\n")
    edit(config / "profiles/stateful-heavy.yaml", "          cpu: 4\n", "          cpu: -4\n")
    edit(config / "environments/prod.yaml", "  tolerance: production\n", "  tolerance: strict\n")
    result = run_cli("render", "--config", str(config), "--env", "prod")
    assert result.code == 2
    located = LOCATED.findall(result.stderr)
    assert len(located) == 3, result.stderr
    assert [(f, int(line)) for f, line, *_ in located] == sorted((f, int(line)) for f, line, *_ in located)
    assert "3 problems in the configuration" in result.stderr


def test_set_override_and_bad_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok = run_cli(
        "render",
        "-p",
        "stateful-heavy",
        "-e",
        "prod",
        "-o",
        str(out),
        "--set",
        "spec.template.spec.flinkConfiguration.execution.checkpointing.interval=2min",
    )
    assert ok.code == 0, ok.stderr
    assert (
        "execution.checkpointing.interval: 2min"
        in (out / "prod/analytics/vvp/deployment-fraud-scoring.yaml").read_text()
    )
    bad = run_cli("render", "-p", "small", "-e", "prod", "-o", str(out), "--set", "spec.template.spec.parallelism=x")
    assert bad.code == 2
    assert "<command line>:1:1: spec.template.spec.parallelism: expected integer" in bad.stderr
