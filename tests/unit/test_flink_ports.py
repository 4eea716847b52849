"""Every Flink option that holds a port is checked where it is written: 1-65535, a single port where
Flink reads one, ranges and lists where Flink takes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import units
from generator.flink import options
from tests.conftest import edit, run_cli

SINGLE = sorted(o.key for o in options.OPTIONS.values() if o.kind == "port")
RANGES = [*sorted(o.key for o in options.OPTIONS.values() if o.kind == "ports"), "metrics.reporter.jmx.port"]


def test_the_ports_flink_listens_on_are_known() -> None:
    assert {"rest.port", "jobmanager.rpc.port", "taskmanager.data.port"} <= set(SINGLE)
    assert {
        "rest.bind-port",
        "blob.server.port",
        "taskmanager.rpc.port",
        "high-availability.jobmanager.port",
        "metrics.internal.query-service.port",
    } <= set(RANGES)
    for name in ("prom", "jmx", "my_reporter"):  # every reporter's port, whatever its name
        known = options.lookup(f"metrics.reporter.{name}.port")
        assert known is not None and known.kind == "ports"
    assert options.lookup("metrics.reporter.prom.factory.class") is None
    assert options.lookup("kubernetes.operator.metrics.reporter.prom.port") is None


@pytest.mark.parametrize("key", SINGLE + RANGES)
@pytest.mark.parametrize(("value", "expected"), [("1", "1"), (65535, "65535"), (" 8081 ", "8081")])
def test_a_port_within_1_to_65535_is_accepted(key: str, value: object, expected: str) -> None:
    assert options.normalize_value(key, value) == expected


@pytest.mark.parametrize("key", SINGLE + RANGES)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("70000", "'70000' is outside the port range 1-65535"),
        (65536, "'65536' is outside the port range 1-65535"),
        ("0", "0 lets Flink pick a random port"),
        ("-1", "is not a port"),
        ("http", "is not a port"),
        ("1_000", "is not a port"),
        (True, "is not a port"),
        ("", "is not a port"),
    ],
)
def test_a_value_that_is_not_a_port_is_refused(key: str, value: object, message: str) -> None:
    with pytest.raises(units.UnitError, match=message):
        options.normalize_value(key, value)


@pytest.mark.parametrize("key", RANGES)
@pytest.mark.parametrize(
    ("value", "expected"),
    [("50100-50200", "50100-50200"), ("50100 - 50200, 6124", "50100-50200,6124"), ("6124,6125", "6124,6125")],
)
def test_ranges_and_lists_work_where_flink_takes_them(key: str, value: str, expected: str) -> None:
    assert options.normalize_value(key, value) == expected


@pytest.mark.parametrize("key", RANGES)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("50100-70000", "outside the port range 1-65535"),
        ("0-100", "outside the port range 1-65535"),
        ("6125-6124", "'6125-6124' is not a port range: 6125 is above 6124"),
        ("6124,", "is not a port, a port range"),
        ("6124-", "is not a port, a port range"),
    ],
)
def test_bad_ranges_are_refused(key: str, value: str, message: str) -> None:
    with pytest.raises(units.UnitError, match=message):
        options.normalize_value(key, value)


@pytest.mark.parametrize("key", SINGLE)
@pytest.mark.parametrize("value", ["8081-8082", "8081,8082"])
def test_an_option_of_one_port_takes_no_range(key: str, value: str) -> None:
    with pytest.raises(units.UnitError, match="this option holds one port"):
        options.normalize_value(key, value)


@pytest.mark.parametrize(
    "key",
    [
        "rest.port",
        "jobmanager.rpc.port",
        "high-availability.jobmanager.port",
        "blob.server.port",
        "taskmanager.rpc.port",
        "taskmanager.data.port",
        "metrics.internal.query-service.port",
        "metrics.reporter.prom.port",
    ],
)
def test_a_port_above_65535_is_located_by_every_command(key: str, config: Path, tmp_path: Path) -> None:
    baseline = config / "baseline.yaml"
    text = baseline.read_text()
    start = text.index(f"        {key}: ")
    old = text[start : text.index("\n", start) + 1]
    edit(baseline, old, f"        {key}: 70000\n")
    line = baseline.read_text()[:start].count("\n") + 1
    deployment = ("-e", "prod", "-d", "fraud-scoring")
    for command in (
        ("validate",),
        ("render", "--check", "-o", str(tmp_path / "out")),
        ("check", "-e", "prod"),
        ("memory", *deployment),
        ("explain", "spec.template.spec.parallelism", *deployment),
    ):
        result = run_cli(*command, "-c", str(config))
        assert result.code == 2, f"{command}: {result.stdout}{result.stderr}"
        first = result.stderr.splitlines()[0]
        # the baseline's line, and which deployments were being resolved when it was found wrong
        assert (
            f"baseline.yaml:{line}:9: spec.template.spec.flinkConfiguration.{key}: "
            "'70000' is outside the port range 1-65535 [resolving "
        ) in first, f"{command}: {result.stderr}"
