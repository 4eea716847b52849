"""Sizes, CPU, durations and Flink configuration keys."""

from __future__ import annotations

import pytest

from generator import units
from generator.config.layers import flatten_flink_conf
from generator.config.yamlload import parse_text
from generator.flink import options


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("4g", "4g"), ("2048m", "2g"), ("1.5 GiB", "1536m"), ("512 mb", "512m"), ("1728m", "1728m"), (1024, "1k")],
)
def test_memory_sizes_normalise(text: object, canonical: str) -> None:
    assert units.normalize_memory(text) == canonical


@pytest.mark.parametrize("bad", ["4x", "", "-1g", "1.3b", "four", True, 0])
def test_bad_memory_sizes(bad: object) -> None:
    with pytest.raises(units.UnitError):
        units.parse_memory(bad)


@pytest.mark.parametrize(("text", "cores"), [(0.5, 0.5), ("500m", 0.5), ("2", 2.0), (4, 4.0)])
def test_cpu(text: object, cores: float) -> None:
    assert units.parse_cpu(text) == cores


@pytest.mark.parametrize(
    ("text", "canonical", "ms"),
    [
        ("10 s", "10s", 10_000),
        ("10min", "10min", 600_000),
        ("10 minutes", "10min", 600_000),
        ("500", "500ms", 500),
        ("1 h", "1h", 3_600_000),
        ("2d", "2d", 172_800_000),
    ],
)
def test_durations(text: str, canonical: str, ms: int) -> None:
    assert units.normalize_duration(text) == canonical
    assert units.parse_duration_ms(text) == ms


@pytest.mark.parametrize("bad", ["1.5s", "10 fortnights", "soon", "-5s"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(units.UnitError):
        units.normalize_duration(bad)


def conf_of(text: str) -> tuple[dict[str, object], list[str]]:
    doc = parse_text(text, "x.yaml")
    problems = flatten_flink_conf(doc)
    return doc.data["spec"]["template"]["spec"]["flinkConfiguration"], [str(p) for p in problems]


def test_nested_and_dotted_forms_are_one_key_and_aliases_become_canonical() -> None:
    conf, problems = conf_of(
        "spec:\n  template:\n    spec:\n      flinkConfiguration:\n"
        "        state:\n          backend: rocksdb\n          checkpoints:\n            dir: s3://b/c\n"
        "        execution.checkpointing.interval: 60s\n"
    )
    assert problems == []
    assert conf == {
        "state.backend.type": "rocksdb",
        "execution.checkpointing.dir": "s3://b/c",
        "execution.checkpointing.interval": "60s",
    }


def test_alias_and_key_with_different_values_name_both_places() -> None:
    _, problems = conf_of(
        "spec:\n  template:\n    spec:\n      flinkConfiguration:\n"
        "        state.checkpoints.dir: s3://a\n        execution:\n          checkpointing:\n            dir: s3://b\n"
    )
    assert problems == [
        "x.yaml:8:13: spec.template.spec.flinkConfiguration.execution.checkpointing.dir: "
        "'execution.checkpointing.dir' and 'state.checkpoints.dir' (line 5) are the same Flink option "
        "'execution.checkpointing.dir' with different values (hint: keep only 'execution.checkpointing.dir')"
    ]


def test_emitted_key_follows_the_flink_version() -> None:
    assert options.emit_key("execution.checkpointing.dir", (1, 20)) == "execution.checkpointing.dir"
    assert options.emit_key("execution.checkpointing.dir", (1, 19)) == "state.checkpoints.dir"
    assert options.emit_key("execution.checkpointing.num-retained", (1, 18)) == "state.checkpoints.num-retained"
    assert options.emit_key("state.backend.type", (1, 18)) == "state.backend.type"
    assert options.emit_key("execution.checkpointing.dir", (2, 0)) == "execution.checkpointing.dir"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("execution.checkpointing.interval", "1 min", "1min"),
        ("taskmanager.numberOfTaskSlots", 4, "4"),
        ("pipeline.auto-generate-uids", False, "false"),
        (
            "execution.checkpointing.externalized-checkpoint-retention",
            "retain_on_cancellation",
            "RETAIN_ON_CANCELLATION",
        ),
        ("metrics.reporter.prom.port", "9249-9250", "9249-9250"),
        ("some.connector.option", "x", "x"),
    ],
)
def test_known_values_are_checked_and_normalised(key: str, value: object, expected: str) -> None:
    assert options.normalize_value(key, value) == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("taskmanager.numberOfTaskSlots", "0"),
        ("pipeline.auto-generate-uids", "yes please"),
        ("metrics.reporter.prom.port", "70000"),
        ("execution.checkpointing.mode", "SOMETIMES"),
    ],
)
def test_bad_known_values(key: str, value: str) -> None:
    with pytest.raises(units.UnitError):
        options.normalize_value(key, value)
