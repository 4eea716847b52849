"""`gen memory` agrees to the byte with Flink's own memory calculator.

The process size comes from the resources and every other option from the effective Flink
configuration, so the tests size a real deployment with ``--set``. Offline, the figures are compared
with tests/data/flink_memory_expected.json (recorded from Flink 2.3.0's BashJavaUtils); the live test
runs that calculator on exactly the configuration `gen memory` reports (the test command installs
Java and the PyFlink distribution).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from generator.commands.memory import JM_LAYOUT, TM_LAYOUT
from generator.flink.distribution import CalculatorResult, run_calculator
from tests.conftest import edit, run_cli
from tests.integration.test_memory import DATA, _flink_home_or_fail

SIZES = ("1g", "1728m", "4g", "16g", "64g")
TM_RESOURCE = "spec.template.spec.resources.taskmanager.memory"
JM_RESOURCE = "spec.template.spec.resources.jobmanager.memory"
FLINK = "spec.template.spec.flinkConfiguration."
CASES = {c["id"]: c for c in DATA["cases"]}
MANAGED_SIZE = {"1g": "128m", "1728m": "256m", "4g": "1g", "16g": "4g", "64g": "16g"}


def tm_variants(size: str) -> dict[str, dict[str, str]]:
    """Case suffix in the recorded data -> explicit settings (beside the process size)."""
    return {
        "default": {},
        "managed-fraction-0.25": {"taskmanager.memory.managed.fraction": "0.25"},
        "managed-size": {"taskmanager.memory.managed.size": MANAGED_SIZE[size]},
        "network-fraction-min-max": {
            "taskmanager.memory.network.fraction": "0.15",
            "taskmanager.memory.network.min": "128m",
            "taskmanager.memory.network.max": "2g",
        },
        "network-fixed-256m": {"taskmanager.memory.network.min": "256m", "taskmanager.memory.network.max": "256m"},
        "odd-fractions": {
            "taskmanager.memory.managed.fraction": "0.33",
            "taskmanager.memory.network.fraction": "0.07",
            "taskmanager.memory.jvm-overhead.fraction": "0.13",
        },
    }


def run_memory(config: Path, *sets: str, deployment: str = "fraud-scoring") -> tuple[int, str]:
    args = ["memory", "-c", str(config), "-e", "prod", "-d", deployment, "-f", "json"]
    for item in sets:
        args += ["--set", item]
    result = run_cli(*args)
    assert result.code in (0, 2), result.stderr
    assert "Traceback" not in result.stderr
    return result.code, result.stdout if result.code == 0 else result.stderr


def memory_json(config: Path, *sets: str, deployment: str = "fraud-scoring") -> dict[str, Any]:
    code, text = run_memory(config, *sets, deployment=deployment)
    assert code == 0, text
    data: dict[str, Any] = json.loads(text)
    return data


def _sets(resource: str, size: str, extra: dict[str, str]) -> list[str]:
    return [f"{resource}={size}", *(f"{FLINK}{key}={value}" for key, value in extra.items())]


TM_OFFLINE = [
    (size, variant, extra)
    for size in SIZES
    for variant, extra in tm_variants(size).items()
    if "expected" in CASES[f"tm-process-{size}-{variant}"]
]


@pytest.mark.parametrize(("size", "variant", "extra"), TM_OFFLINE, ids=[f"{s}-{v}" for s, v, _ in TM_OFFLINE])
def test_taskmanager_matches_flinks_figures(config: Path, size: str, variant: str, extra: dict[str, str]) -> None:
    case = CASES[f"tm-process-{size}-{variant}"]
    out = memory_json(config, *_sets(TM_RESOURCE, size, extra))["taskmanager"]
    assert out["conf"] == case["conf"]  # exactly what Flink was given
    assert out["memory"] == {name: case["expected"][name] for name, _, _ in TM_LAYOUT}
    assert out["jvm_args"] == case["jvm_args"]
    assert out["human"] == {name: case["human"][name] for name, _, _ in TM_LAYOUT}


TM_REFUSED = [
    (size, variant, extra)
    for size in SIZES
    for variant, extra in tm_variants(size).items()
    if "error" in CASES[f"tm-process-{size}-{variant}"]
]


@pytest.mark.parametrize(("size", "variant", "extra"), TM_REFUSED, ids=[f"{s}-{v}" for s, v, _ in TM_REFUSED])
def test_taskmanager_refused_like_flink(config: Path, size: str, variant: str, extra: dict[str, str]) -> None:
    case = CASES[f"tm-process-{size}-{variant}"]
    code, stderr = run_memory(config, *_sets(TM_RESOURCE, size, extra))
    assert code == 2
    for message in case["error"]["messages"]:
        assert message in stderr


def test_every_size_is_covered_with_default_and_explicit_settings() -> None:
    covered = {(s, v) for s, v, _ in TM_OFFLINE}
    for size in SIZES:
        assert (size, "default") in covered
        assert any(v.startswith("managed") for s, v in covered if s == size)
        assert any(v.startswith("network") or v == "odd-fractions" for s, v in covered if s == size)


@pytest.mark.parametrize("size", ["1g", "1600m", "4g", "16g"])
@pytest.mark.parametrize("variant", ["default", "off-heap-256m"])
def test_jobmanager_matches_flinks_figures(config: Path, size: str, variant: str) -> None:
    case = CASES[f"jm-process-{size}-{variant}"]
    extra = {"jobmanager.memory.off-heap.size": "256m"} if variant != "default" else {}
    out = memory_json(config, *_sets(JM_RESOURCE, size, extra))["jobmanager"]
    assert out["memory"] == {name: case["expected"][name] for name, _, _ in JM_LAYOUT}
    assert out["jvm_args"] == case["jvm_args"]


def test_text_breakdown_of_a_profile(config: Path) -> None:
    result = run_cli("memory", "-c", str(config), "-e", "prod", "--profile", "stateful-heavy")
    assert result.code == 0, result.stderr
    text = result.stdout
    assert "profile stateful-heavy (namespace analytics, env prod)" in text
    case = CASES["tm-process-16g-default"]
    for name, label, _ in TM_LAYOUT:
        line = next(x for x in text.splitlines() if x.strip().startswith(label))
        assert str(case["expected"][name]) in line and case["human"][name].split(" (")[0] in line
    assert case["jvm_args"] in text
    assert "16g from spec.template.spec.resources.taskmanager.memory at " in text
    assert "profiles/stateful-heavy.yaml:" in text
    assert "per slot (1 slot)" in text
    jm_case = CASES["jm-process-2048m-default"]
    assert jm_case["jvm_args"] in text


def test_profile_and_deployment_agree_for_the_example(config: Path) -> None:
    by_profile = run_cli("memory", "-c", str(config), "-e", "prod", "-p", "stateful-heavy", "-f", "json")
    by_deployment = memory_json(config)
    profile_data = json.loads(by_profile.stdout)
    assert profile_data["taskmanager"]["memory"] == by_deployment["taskmanager"]["memory"]
    assert profile_data["jobmanager"]["memory"] == by_deployment["jobmanager"]["memory"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_set_takes_effect_on_a_profile(config: Path, fmt: str) -> None:
    """--set is the top layer of a namespace's resolution too, as of a deployment's."""
    args = ("memory", "-c", str(config), "-e", "prod", "-p", "small", "-f", fmt)
    plain = run_cli(*args)
    assert plain.code == 0, plain.stderr
    result = run_cli(*args, "--set", f"{TM_RESOURCE}=4g", "--set", f"{FLINK}taskmanager.memory.managed.size=1g")
    assert result.code == 0, result.stderr
    assert result.stdout != plain.stdout
    if fmt == "text":
        assert "4g from spec.template.spec.resources.taskmanager.memory at <command line>" in result.stdout
        return
    data = json.loads(result.stdout)
    assert data["scope"] == "profile small (namespace analytics, env prod)"
    assert data["taskmanager"]["memory"]["total_process"] == 4 << 30
    assert data["taskmanager"]["memory"]["managed"] == 1 << 30
    assert data["taskmanager"]["conf"]["taskmanager.memory.managed.size"] == "1g"


def test_a_bad_set_on_a_profile_is_located_on_the_command_line(config: Path) -> None:
    result = run_cli("memory", "-c", str(config), "-e", "prod", "-p", "small", "--set", f"{TM_RESOURCE}=4 gigs")
    assert result.code == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"<command line>:1:1: {TM_RESOURCE}: "), result.stderr
    assert "Traceback" not in result.stderr


def test_refused_configuration_names_flinks_error_and_the_line(config: Path) -> None:
    path = config / "deployments" / "analytics" / "fraud-scoring.yaml"
    edit(
        path,
        "      numberOfTaskManagers: 4\n",
        "      numberOfTaskManagers: 4\n      flinkConfiguration:\n        taskmanager.memory.managed.size: 20g\n",
    )
    line = next(n for n, x in enumerate(path.read_text().splitlines(), 1) if "managed.size: 20g" in x)
    result = run_cli("memory", "-c", str(config), "-e", "prod", "-d", "fraud-scoring")
    assert result.code == 2
    assert f"deployments/analytics/fraud-scoring.yaml:{line}:" in result.stderr
    assert "Flink refuses this taskmanager memory configuration" in result.stderr
    assert "exceed configured Total Flink Memory" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-e", "prod"), "name a --profile or a --deployment"),
        (("-e", "prod", "-p", "small", "-d", "fraud-scoring"), "has profile 'stateful-heavy', not 'small'"),
        (("-e", "prod", "-d", "nope"), "unknown deployment 'nope'"),
        (("-e", "qa", "-p", "small"), "unknown environment 'qa'"),
        (("-e", "prod", "-p", "small", "-n", "nope"), "unknown namespace 'nope'"),
    ],
)
def test_usage_errors(config: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli("memory", "-c", str(config), *args)
    assert result.code == 2
    assert message in result.stderr


# ------------------------------------------------------------------------------------------------
# Flink's own calculator, run on what `gen memory` reports
# ------------------------------------------------------------------------------------------------
# The recorded data already covers every TaskManager size with Flink's defaults and with explicit
# managed/network settings; the live run adds combinations it does not hold (explicit managed *and*
# network together, JobManagers of 1728m and 64g) and keeps the number of JVM starts small.
LIVE: list[tuple[str, str, dict[str, str]]] = [
    (
        "taskmanager",
        size,
        {
            "taskmanager.memory.managed.size": MANAGED_SIZE[size],
            "taskmanager.memory.network.fraction": "0.12",
            "taskmanager.memory.network.min": "96m",
            "taskmanager.memory.network.max": "3g",
        },
    )
    for size in SIZES
] + [
    ("jobmanager", "1728m", {}),
    ("jobmanager", "64g", {}),
    ("jobmanager", "64g", {"jobmanager.memory.off-heap.size": "200m", "jobmanager.memory.jvm-overhead.max": "2g"}),
]


def test_matches_live_flink_calculator(config: Path) -> None:
    home = _flink_home_or_fail()
    outcomes: list[tuple[int, str]] = []
    for process, size, extra in LIVE:
        resource = TM_RESOURCE if process == "taskmanager" else JM_RESOURCE
        outcomes.append(run_memory(config, *_sets(resource, size, extra)))

    def run(job: tuple[str, str, dict[str, str]]) -> CalculatorResult:
        process, size, extra = job
        return run_calculator(home, process, {f"{process}.memory.process.size": size, **extra})

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, LIVE))
    for (process, size, extra), (code, text), flink in zip(LIVE, outcomes, results, strict=True):
        where = f"{process} {size} {extra}"
        if not flink.ok:  # Flink refuses it: so does gen, with Flink's words
            assert code == 2, where
            assert flink.errors and all(message in text for _, message in flink.errors[1:]), (where, flink.errors)
            continue
        assert code == 0, (where, text)
        ours = json.loads(text)[process]
        assert ours["conf"] == {f"{process}.memory.process.size": size, **extra}
        assert ours["jvm_args"] == flink.jvm_params, where
        assert list(ours["memory"].values()) == [nbytes for _, nbytes, _ in flink.log_sizes], where
        assert list(ours["human"].values()) == [human for _, _, human in flink.log_sizes], where
    assert all(r.ok for r in results)
