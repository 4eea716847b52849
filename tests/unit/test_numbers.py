"""Numbers are what the user meant, in one form: numbers YAML versions read differently, integers
written as floats, durations and sizes beyond what Flink can read, CPU amounts beyond any node or
finer than Kubernetes takes. Each is refused, located, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import units
from generator.config.yamlload import YamlProblems, ambiguous_number, parse_text
from tests.conftest import edit, run_cli
from tests.unit.located import assert_problem, line_of, refused, rendered

FRAUD = "deployments/analytics/fraud-scoring.yaml"
HEAVY = "profiles/stateful-heavy.yaml"
PROD = "environments/prod.yaml"
CONF = "spec.template.spec.flinkConfiguration"


@pytest.fixture
def out(config: Path, tmp_path: Path) -> Path:
    """An output folder holding the example's render, which a refused render must leave as it was."""
    folder = tmp_path / "out"
    rendered(config, folder)
    return folder


def _set_in(config: Path, file: str, old: str, new: str) -> tuple[int, int]:
    """Replace ``old`` by ``new`` in ``file``; the line and column of the last key written (where
    problems with its value are reported)."""
    edit(config / file, old, new)
    last = new.rstrip("\n").splitlines()[-1]
    return line_of(config / file, last.strip()), len(last) - len(last.lstrip()) + 1


def _value_at(config: Path, file: str, line: int, value: str) -> int:
    """The column of ``value`` on ``line`` (where the YAML reader reports a value it refuses)."""
    return (config / file).read_text().splitlines()[line - 1].index(value) + 1


# -- numbers YAML 1.1 and YAML 1.2 read differently ----------------------------------------------------
PARALLELISM = "spec.template.spec.parallelism"
TASK_MANAGERS = "spec.template.spec.numberOfTaskManagers"
SLOTS = "        taskmanager.numberOfTaskSlots: 1\n"
REPLICAS = "        kubernetes.jobmanager.replicas: 2\n"
AMBIGUOUS = [
    (FRAUD, "      parallelism: 4\n", "      parallelism: 010\n", PARALLELISM, "010 has a leading zero"),
    (HEAVY, "      numberOfTaskManagers: 2\n", "      numberOfTaskManagers: 08\n", TASK_MANAGERS, "08 has a leading"),
    (HEAVY, SLOTS, SLOTS.replace("1", "01"), f"{CONF}.taskmanager.numberOfTaskSlots", "01 has a leading zero"),
    (FRAUD, "[5432]", "[05432]", "platform.kubernetes.networkPolicy.egress[0].ports[0]", "05432 has a leading"),
    (FRAUD, "criticality: high\n", "criticality: 1:30\n", "metadata.labels.criticality", "1:30 is a base-60"),
    (PROD, "  alerts:\n", "  alerts:\n    restartsThreshold: 0o3\n", "platform.alerts.restartsThreshold", "0o3 is a"),
    (HEAVY, REPLICAS, REPLICAS.replace("2", "0b10"), f"{CONF}.kubernetes.jobmanager.replicas", "0b10 is a number"),
]


@pytest.mark.parametrize(("file", "old", "new", "key", "message"), AMBIGUOUS)
def test_numbers_yaml_versions_read_differently_are_refused(
    config: Path, out: Path, file: str, old: str, new: str, key: str, message: str
) -> None:
    line, _ = _set_in(config, file, old, new)
    bad = new.strip().splitlines()[-1].split(": ", 1)[-1].strip("[]")
    result = refused(config, out)
    assert_problem(result, file, line, _value_at(config, file, line, bad), key, message, "quote it if it is text")


def test_a_leading_zero_in_a_set_is_refused_like_in_a_file(config: Path, out: Path) -> None:
    result = refused(config, out, "--set", f"{PARALLELISM}=4", "--set", "spec.maxJobCreationAttempts=007")
    assert_problem(result, "<command line>", 2, 1, "spec.maxJobCreationAttempts", "007 has a leading zero")


def test_quoted_or_plain_decimal_numbers_are_fine() -> None:
    for text in ("10", "0", "0.5", "1_000", "0x1F", "010.5", "1.0e+3", '"010"', "'1:30'"):
        parse_text(f"a: {text}\n", "x.yaml")
        assert not ambiguous_number(text), text
    with pytest.raises(YamlProblems):
        parse_text("a: [1, 2, 010]\n", "x.yaml")


# -- an integer written as a float --------------------------------------------------------------------
RUN_AS = "            runAsUser: 9999\n"
ATTEMPTS = "  state: RUNNING\n"
FLOATS = [
    (FRAUD, "      parallelism: 4\n", "      parallelism: 4.0\n", PARALLELISM, "4.0"),
    (HEAVY, "      numberOfTaskManagers: 2\n", "      numberOfTaskManagers: 2.0\n", TASK_MANAGERS, "2.0"),
    ("baseline.yaml", RUN_AS, RUN_AS.replace("9999", "9999.0"), "spec.template.spec.kubernetes.pods."
     "securityContext.runAsUser", "9999.0"),
    (PROD, "  alerts:\n", "  alerts:\n    restartsThreshold: 3.0\n", "platform.alerts.restartsThreshold", "3.0"),
    ("baseline.yaml", ATTEMPTS, ATTEMPTS + "  maxJobCreationAttempts: 1.0e+1\n", "spec.maxJobCreationAttempts", "10.0"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "old", "new", "key", "written"), FLOATS)
def test_an_integer_written_as_a_float_is_refused(
    config: Path, out: Path, file: str, old: str, new: str, key: str, written: str
) -> None:
    line, col = _set_in(config, file, old, new)
    result = refused(config, out)
    whole = written.split(".")[0]
    assert_problem(result, file, line, col, key, f"expected an integer, got {written}", f"write {whole},")


def test_an_integer_list_item_written_as_a_float_is_blamed_on_its_list(config: Path, out: Path) -> None:
    edit(config / FRAUD, "[5432]", "[5432.0]")
    result = refused(config, out)
    line = line_of(config / FRAUD, "egress:")
    key = "platform.kubernetes.networkPolicy.egress[1].ports[0]"
    assert_problem(result, FRAUD, line, 7, key, "expected an integer, got 5432.0", "write 5432,")


def test_a_flink_integer_option_written_as_a_float_is_refused_too(config: Path, out: Path) -> None:
    line, _ = _set_in(config, HEAVY, SLOTS, SLOTS.replace("1", "1.0"))
    result = refused(config, out)
    assert_problem(result, HEAVY, line, 9, f"{CONF}.taskmanager.numberOfTaskSlots", "'1.0' is not a whole number")


def test_an_integer_set_as_a_float_names_the_command_line(config: Path, out: Path) -> None:
    result = refused(config, out, "--set", "spec.template.spec.numberOfTaskManagers=4.0")
    assert_problem(result, "<command line>", 1, 1, "spec.template.spec.numberOfTaskManagers", "got 4.0")


def test_floats_where_numbers_are_expected_stay_fine(config: Path, tmp_path: Path) -> None:
    edit(config / HEAVY, "          cpu: 4\n", "          cpu: 4.0\n")
    edit(config / PROD, "  kubernetes:\n", "  kubernetes:\n    quota:\n      headroom: 1.0\n")
    out = tmp_path / "floats"
    rendered(config, out, "-e", "prod", "-t", "flink-operator")
    text = (out / "prod/analytics/flinkdeployment-fraud-scoring.yaml").read_text()
    assert "      cpu: 4\n" in text  # one form: whole cores are an integer


# -- durations and memory sizes beyond what Flink reads -----------------------------------------------
INTERVAL = "        execution.checkpointing.interval: 60s\n"
DELAY = "        restart-strategy.failure-rate.delay: 30s\n"
MANAGED = "        taskmanager.memory.managed.size: 9999999999999t\n"
METASPACE = "        taskmanager.memory.jvm-metaspace.size: 8589934592g\n"
EXPIRATION = "  jobFailureExpirationTime: 106751991167301d\n"
LONGER, MORE = "is longer than Flink can hold", "is more than Flink can hold"
BEYOND = [
    ("baseline.yaml", INTERVAL, INTERVAL.replace("60s", "100000000000000000000 d"), f"{CONF}.execution"
     ".checkpointing.interval", LONGER),
    ("baseline.yaml", DELAY, DELAY.replace("30s", "9223372036854775808ms"), f"{CONF}.restart-strategy"
     ".failure-rate.delay", LONGER),
    (FRAUD, "spec:\n", f"spec:\n{EXPIRATION}", "spec.jobFailureExpirationTime", LONGER),
    (HEAVY, SLOTS, SLOTS + MANAGED, f"{CONF}.taskmanager.memory.managed.size", MORE),
    (HEAVY, SLOTS, SLOTS + METASPACE, f"{CONF}.taskmanager.memory.jvm-metaspace.size", MORE),
]  # fmt: skip


@pytest.mark.parametrize(("file", "old", "new", "key", "message"), BEYOND)
def test_durations_and_sizes_beyond_a_java_long_are_refused(
    config: Path, out: Path, file: str, old: str, new: str, key: str, message: str
) -> None:
    line, col = _set_in(config, file, old, new)
    result = refused(config, out)
    assert_problem(result, file, line, col, key, message)


LONG_MAX = 9223372036854775807


@pytest.mark.parametrize(
    ("text", "ms"),
    [(str(LONG_MAX), LONG_MAX), (f"{LONG_MAX} ms", LONG_MAX), ("106751991167 d", 106751991167 * 86_400_000)],
)
def test_the_longest_durations_flink_holds_are_fine(text: str, ms: int) -> None:
    assert units.parse_duration_ms(text) == float(ms)


@pytest.mark.parametrize("text", [str(LONG_MAX + 1), "106751991168 d", f"{LONG_MAX + 1}ns", "153722867280913 min"])
def test_one_past_the_longest_duration_is_refused(text: str) -> None:
    with pytest.raises(units.UnitError, match="longer than Flink can hold"):
        units.normalize_duration(text)


def test_the_largest_memory_size_flink_holds_is_fine_and_one_byte_more_is_not() -> None:
    assert units.normalize_memory("9223372036854775807b") == "9223372036854775807b"
    assert units.normalize_memory("8589934591g") == "8589934591g"
    with pytest.raises(units.UnitError, match="more than Flink can hold"):
        units.normalize_memory("9223372036854775808")


# -- CPU amounts ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("1e30", "1e30 is more than the maximum of 1000 CPUs"),
        ("1001", "1001 is more than the maximum of 1000 CPUs"),
        ("1000001m", "1000001m is more than the maximum of 1000 CPUs"),
        ("0.1004", "0.1004 is not a whole number of millicores"),
        ("2500.5m", "2500.5m is not a whole number of millicores"),
        ("1e-9", "1e-9 is less than the minimum of 0.1 CPU (100m)"),
    ],
)
def test_cpu_amounts_outside_100m_to_1000_cores_or_finer_than_1m_are_refused(
    config: Path, out: Path, new: str, message: str
) -> None:
    line, col = _set_in(config, HEAVY, "          cpu: 4\n", f"          cpu: {new}\n")
    result = refused(config, out)
    assert_problem(result, HEAVY, line, col, "spec.template.spec.resources.taskmanager.cpu", message)


def test_container_default_cpu_is_checked_the_same_way(config: Path, out: Path) -> None:
    new = "  kubernetes:\n    quota:\n      containerDefaults:\n        cpu: 0.2501\n"
    edit(config / PROD, "  kubernetes:\n", new)
    result = refused(config, out)
    line = line_of(config / PROD, "cpu: 0.2501")
    key = "platform.kubernetes.quota.containerDefaults.cpu"
    assert_problem(result, PROD, line, 9, key, "0.2501 is not a whole number of millicores", "write e.g. 250m")


def test_cpu_forms_keep_their_one_form() -> None:
    assert units.format_cpu(units.parse_cpu("1000")) == 1000
    assert units.format_cpu(units.parse_cpu("1m")) == 0.001
    assert units.format_cpu(units.parse_cpu("1500m")) == 1.5
    assert units.format_cpu(units.parse_cpu(0.25)) == 0.25
    for bad in (".inf", "nan", float("inf")):
        with pytest.raises(units.UnitError, match="is not a CPU amount"):
            units.parse_cpu(bad)


def test_validate_refuses_them_too(config: Path) -> None:
    edit(config / FRAUD, "      parallelism: 4\n", "      parallelism: 4.0\n")
    result = run_cli("validate", "-c", str(config))
    assert result.code == 2
    assert "spec.template.spec.parallelism: expected an integer, got 4.0" in result.stderr
