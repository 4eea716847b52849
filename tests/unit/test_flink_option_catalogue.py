"""Every flinkConfiguration key is an option of the deployment's Flink version (or below an open
prefix), and every value is of the option's type: otherwise a located error with a hint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.flink import catalogue, options
from tests.conftest import edit, run_cli

LOCATED = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<msg>.+)$", re.M)
DEPLOYMENT = "deployments/analytics/events-ingest.yaml"
ANCHOR = "      numberOfTaskManagers: 4\n"
CATALOGUE = Path(catalogue.__file__).parent / "option-catalogue"


def add_conf(config: Path, lines: str, file: str = DEPLOYMENT) -> Path:
    path = config / file
    edit(path, ANCHOR, ANCHOR + "      flinkConfiguration:\n" + lines)
    return path


def render(config: Path, tmp_path: Path, *args: str) -> tuple[int, str]:
    result = run_cli("render", "--config", str(config), "--out", str(tmp_path / "out"), "--env", "prod", *args)
    return result.code, result.stderr


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# -- the catalogue ---------------------------------------------------------------------------------
def test_the_catalogue_covers_every_flink_version_gen_supports() -> None:
    assert set(options.SUPPORTED_VERSIONS) <= set(catalogue.versions())
    for version in catalogue.versions():
        data = json.loads((CATALOGUE / f"{version}.json").read_text())
        assert data["flink"].startswith(version + ".")
        known = catalogue.catalogue(version)
        assert known is not None and len(known.options) > 700
        assert known.options["taskmanager.numberOfTaskSlots"]["type"] == "int"
        assert known.options["execution.checkpointing.interval"]["type"] == "duration"
        assert known.options["taskmanager.memory.process.size"]["type"] == "memory"
        assert known.options["pipeline.auto-generate-uids"]["type"] == "bool"


def test_the_catalogue_knows_renames_and_enum_constants() -> None:
    known = catalogue.catalogue("2.0")
    assert known is not None
    assert "state.backend" in known.options["state.backend.type"]["deprecatedKeys"]
    assert "web.port" in known.options["rest.port"]["deprecatedKeys"]
    assert known.by_name["state.checkpoints.dir"] is known.options["execution.checkpointing.dir"]
    mode = known.options["execution.checkpointing.mode"]
    assert mode["type"] == "enum" and set(mode["choices"]) == {"EXACTLY_ONCE", "AT_LEAST_ONCE"}


@pytest.mark.parametrize("version", ["1.19", "1.20", "2.0", "2.1", "2.2"])
def test_every_option_gen_knows_is_an_option_of_the_flink_version(version: str) -> None:
    for key in options.OPTIONS:  # in the spelling gen writes for that version
        assert catalogue.check(key, "", version) is None, key


def test_flink_1_18_lacks_options_that_came_later() -> None:
    problem = catalogue.check("restart-strategy.exponential-delay.attempts-before-reset-backoff", "8", "1.18")
    assert problem is not None and "Flink 1.18 has no option" in problem[0]
    assert "1.19" in problem[1]  # the versions that have it


def test_a_typo_gets_the_closest_key() -> None:
    problem = catalogue.check("taskmanager.numberOfTaskSlot", "3", "1.20")
    assert problem == (
        "Flink 1.20 has no option taskmanager.numberOfTaskSlot",
        "did you mean taskmanager.numberOfTaskSlots?",
    )


@pytest.mark.parametrize(
    "key",
    [
        "s3.endpoint",
        "fs.s3a.path.style.access",
        "fs.azure.account.auth.type",
        "gs.writer.temporary.bucket.name",
        "metrics.reporter.prom.filter.includes",
        "containerized.taskmanager.env.TZ",
        "kubernetes.operator.periodic.savepoint.interval",
        "job.autoscaler.enabled",
        "properties.bootstrap.servers",
    ],
)
def test_keys_below_an_open_prefix_pass(key: str) -> None:
    assert catalogue.check(key, "x", "1.20") is None


def test_declared_prefixes_pass_only_when_declared() -> None:
    assert catalogue.check("acme.audit.sink", "x", "2.2") is not None
    assert catalogue.check("acme.audit.sink", "x", "2.2", ["acme."]) is None


@pytest.mark.parametrize(
    ("key", "good", "bad", "message"),
    [
        ("pipeline.object-reuse", "TRUE", "1", "is not a boolean"),
        ("table.exec.resource.default-parallelism", "4", "four", "is not a whole number"),
        ("state.backend.rocksdb.checkpoint.transfer.thread.num", "4", "3000000000", "outside the range of a Java int"),
        ("heartbeat.timeout", "50000", "50 seconds later", "is not a duration"),
        ("state.backend.rocksdb.block.cache-size", "64m", "lots", "is not a memory size"),
        ("execution.runtime-mode", "batch", "sometimes", "is not one of"),
        ("taskmanager.memory.segment-size", "32kb", "big", "is not a memory size"),
    ],
)
def test_values_are_checked_for_the_options_type(key: str, good: str, bad: str, message: str) -> None:
    assert catalogue.check(key, good, "1.20") is None
    problem = catalogue.check(key, bad, "1.20")
    assert problem is not None and message in problem[0] and key in problem[0]


# -- through gen render: located errors ------------------------------------------------------------
def test_an_unknown_key_is_a_located_error_with_the_closest_key(config: Path, tmp_path: Path) -> None:
    path = add_conf(config, "        taskmanager.numberOfTaskSlot: 3\n")
    code, stderr = render(config, tmp_path)
    assert code == 2, stderr
    found = [m for m in LOCATED.finditer(stderr) if m["file"].endswith(DEPLOYMENT)]
    assert found, stderr
    assert int(found[0]["line"]) == line_of(path, "numberOfTaskSlot:")
    assert found[0]["key"] == "spec.template.spec.flinkConfiguration.taskmanager.numberOfTaskSlot"
    assert "Flink 1.20 has no option taskmanager.numberOfTaskSlot" in stderr
    assert "did you mean taskmanager.numberOfTaskSlots?" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_a_value_of_the_wrong_type_is_a_located_error(config: Path, tmp_path: Path) -> None:
    path = add_conf(config, "        pipeline.object-reuse: sometimes\n")
    code, stderr = render(config, tmp_path)
    assert code == 2, stderr
    found = [m for m in LOCATED.finditer(stderr) if m["file"].endswith(DEPLOYMENT)]
    assert found and int(found[0]["line"]) == line_of(path, "object-reuse"), stderr
    assert "'sometimes' is not a boolean" in stderr


def test_the_flink_version_decides(config: Path, tmp_path: Path) -> None:
    add_conf(config, "        execution.checkpointing.create-subdir: false\n")
    code, stderr = render(config, tmp_path, "--set", 'spec.template.spec.artifact.flinkVersion="1.18"')
    assert code == 2 and "Flink 1.18 has no option execution.checkpointing.create-subdir" in stderr, stderr
    code, stderr = render(config, tmp_path)
    assert code == 0, stderr


def test_open_and_declared_prefixes_render(config: Path, tmp_path: Path) -> None:
    add_conf(config, "        s3.path.style.access: true\n        acme.audit.level: full\n")
    code, stderr = render(config, tmp_path)
    assert code == 2 and "Flink 1.20 has no option acme.audit.level" in stderr, stderr
    edit(config / "baseline.yaml", "platform:\n", "platform:\n  flinkOptionPrefixes: [acme.]\n")
    code, stderr = render(config, tmp_path)
    assert code == 0, stderr
    rendered = "".join(p.read_text() for p in (tmp_path / "out").rglob("*events-ingest*.yaml"))
    assert "acme.audit.level" in rendered and "s3.path.style.access" in rendered


def test_a_declared_prefix_must_end_with_a_dot(config: Path, tmp_path: Path) -> None:
    edit(config / "baseline.yaml", "platform:\n", "platform:\n  flinkOptionPrefixes: [acme]\n")
    code, stderr = render(config, tmp_path)
    assert code == 2 and "flinkOptionPrefixes" in stderr, stderr
