"""generator.flink.memory against Flink's own memory calculator, to the byte.

tests/data/flink_memory_expected.json was produced by tests/tools/flink_memory_truth.py running the
Flink 2.3.0 calculator (BashJavaUtils); test_matches_live_flink_calculator re-runs the real thing.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.flink.distribution import (
    INSTALL_HINT,
    CalculatorResult,
    calculator_classpath,
    find_flink_home,
    flink_version,
    run_calculator,
)
from generator.flink.memory import MemoryConfigError, format_size, parse_memory_size
from generator.flink.memory_jobmanager import JobManagerMemory, jobmanager_memory
from generator.flink.memory_taskmanager import TaskManagerMemory, taskmanager_memory

DATA = json.loads((Path(__file__).parents[1] / "data" / "flink_memory_expected.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DATA["cases"]
MiB = 1 << 20
GiB = 1 << 30


def _derive_conf(process: str, conf: dict[str, str]) -> TaskManagerMemory | JobManagerMemory:
    return taskmanager_memory(conf) if process == "taskmanager" else jobmanager_memory(conf)


def _derive(case: dict[str, Any]) -> TaskManagerMemory | JobManagerMemory:
    return _derive_conf(case["process"], case["conf"])


def test_data_was_made_by_flink() -> None:
    assert DATA["flink_version"] == "2.3.0"
    assert "BashJavaUtils" in DATA["command"]
    assert sum("expected" in c for c in CASES) >= 90
    assert sum("error" in c for c in CASES) >= 30


@pytest.mark.parametrize("case", [c for c in CASES if "expected" in c], ids=lambda c: c["id"])
def test_figures_match_flink(case: dict[str, Any]) -> None:
    memory = _derive(case)
    got = {name: getattr(memory, name) for name in case["expected"]}
    assert got == case["expected"]
    assert memory.jvm_args() == case["jvm_args"]


@pytest.mark.parametrize("case", [c for c in CASES if "error" in c], ids=lambda c: c["id"])
def test_refused_like_flink(case: dict[str, Any]) -> None:
    with pytest.raises(MemoryConfigError) as caught:
        _derive(case)
    for fragment in case["error"]["messages"]:
        assert fragment in str(caught.value)
        assert fragment in caught.value.flink_message
    assert caught.value.keys
    assert all(isinstance(key, str) and "." in key for key in caught.value.keys)


@pytest.mark.parametrize("case", [c for c in CASES if "human" in c], ids=lambda c: c["id"])
def test_format_size_matches_flink_log(case: dict[str, Any]) -> None:
    for name, text in case["human"].items():
        nbytes = case["expected"][name]
        assert format_size(nbytes, with_bytes=True) == text
        assert format_size(nbytes) == text.split(" (")[0]


def test_reference_worked_examples() -> None:
    """The figures quoted in the research notes (observability.md §4.4/§4.5), independently of Flink runs."""
    tm = taskmanager_memory({"taskmanager.memory.process.size": "1728m"})
    assert (tm.jvm_overhead, tm.total_flink, tm.managed, tm.network, tm.task_heap) == (
        201326592,
        1342177280,
        536870920,
        134217730,
        402653174,
    )
    assert tm.jvm_args() == (
        "-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=268435458 -XX:MaxMetaspaceSize=268435456"
    )
    tm = taskmanager_memory({"taskmanager.memory.process.size": "4096m"})
    assert (tm.jvm_overhead, tm.total_flink, tm.managed, tm.network, tm.task_heap) == (
        429496736,
        3597035104,
        1438814063,
        359703515,
        1530082070,
    )
    assert format_size(tm.jvm_heap) == "1.550gb"
    jm = jobmanager_memory({"jobmanager.memory.process.size": "1600m"})
    assert (jm.jvm_overhead, jm.total_flink, jm.jvm_heap, jm.off_heap) == (201326592, 1207959552, GiB, 128 * MiB)
    assert jm.jvm_args() == "-Xmx1073741824 -Xms1073741824 -XX:MaxMetaspaceSize=268435456"
    jm = jobmanager_memory({"jobmanager.memory.process.size": "2048m"})
    assert (jm.jvm_overhead, jm.jvm_heap) == (214748368, 1530082096)


def test_jobmanager_direct_memory_limit_flag() -> None:
    jm = jobmanager_memory(
        {"jobmanager.memory.process.size": "1600m", "jobmanager.memory.enable-jvm-direct-memory-limit": "TRUE"}
    )
    assert jm.jvm_args() == (
        "-Xmx1073741824 -Xms1073741824 -XX:MaxDirectMemorySize=134217728 -XX:MaxMetaspaceSize=268435456"
    )


def test_dynamic_configs_and_derived_properties() -> None:
    tm = taskmanager_memory({"taskmanager.memory.process.size": "1728m"})
    assert tm.dynamic_configs()["taskmanager.memory.network.min"] == "134217730b"
    assert tm.jvm_heap == tm.framework_heap + tm.task_heap
    assert tm.direct == tm.framework_off_heap + tm.task_off_heap + tm.network
    assert tm.total_flink == tm.jvm_heap + tm.managed + tm.direct
    jm = jobmanager_memory({"jobmanager.memory.process.size": "1g"})
    assert jm.dynamic_configs()["jobmanager.memory.heap.size"] == f"{jm.jvm_heap}b"


def test_error_names_keys() -> None:
    with pytest.raises(MemoryConfigError) as caught:
        taskmanager_memory({"taskmanager.memory.process.size": "2g", "taskmanager.memory.managed.size": "3g"})
    assert "taskmanager.memory.managed.size" in caught.value.keys
    assert "taskmanager.memory.process.size" in caught.value.keys
    assert "taskmanager.memory.managed.size" in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "nbytes"),
    [
        ("1728m", 1728 * MiB),
        ("4g", 4 * GiB),
        ("4 gb", 4 * GiB),
        ("4 GB", 4 * GiB),
        ("1024kb", MiB),
        ("123", 123),
        ("0", 0),
        (" 64 mebibytes ", 64 * MiB),
        ("7b", 7),
        ("7 bytes", 7),
        ("3k", 3072),
        ("2kibibytes", 2048),
        ("2mb", 2 * MiB),
        ("1gibibytes", GiB),
        ("1t", 1 << 40),
        ("1TB", 1 << 40),
        ("1tebibytes", 1 << 40),
        ("9223372036854775807b", 2**63 - 1),
        (5, 5),
    ],
)
def test_parse_memory_size(text: str | int, nbytes: int) -> None:
    assert parse_memory_size(text) == nbytes


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "1.5g", "-1", "4x", "4 g b", "1e9", "9223372036854775808", "8388608t", "g4"],
)
def test_parse_memory_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_memory_size(text)


def test_parse_memory_size_rejects_bad_ints() -> None:
    for value in (-1, 2**63, True):
        with pytest.raises(ValueError):
            parse_memory_size(value)


@given(st.integers(min_value=GiB, max_value=1 << 42))
def test_process_size_invariants(process: int) -> None:
    tm = taskmanager_memory({"taskmanager.memory.process.size": str(process)})
    assert tm.total_process == process
    assert tm.total_flink == process - tm.jvm_metaspace - tm.jvm_overhead
    assert tm.total_flink == tm.jvm_heap + tm.managed + tm.direct
    assert 192 * MiB <= tm.jvm_overhead <= GiB
    assert tm.network >= 64 * MiB
    jm = jobmanager_memory({"jobmanager.memory.process.size": f"{process}b"})
    assert jm.total_process == process
    assert jm.jvm_heap == jm.total_flink - 128 * MiB


# ------------------------------------------------------------------------------------------------
# The real calculator
# ------------------------------------------------------------------------------------------------

LIVE_CASES: list[tuple[str, dict[str, str]]] = [
    ("taskmanager", {"taskmanager.memory.process.size": "3333m", "taskmanager.memory.managed.fraction": "0.123"}),
    ("taskmanager", {"taskmanager.memory.process.size": "24g", "taskmanager.memory.network.fraction": "0.05"}),
    ("taskmanager", {"taskmanager.memory.flink.size": "6789m", "taskmanager.memory.jvm-overhead.fraction": "0.17"}),
    ("taskmanager", {"taskmanager.memory.task.heap.size": "777m", "taskmanager.memory.managed.size": "1234m"}),
    ("taskmanager", {"taskmanager.memory.process.size": "5g", "taskmanager.memory.flink.size": "4g"}),
    ("taskmanager", {"taskmanager.memory.process.size": "600m"}),
    ("jobmanager", {"jobmanager.memory.process.size": "2500m", "jobmanager.memory.jvm-overhead.fraction": "0.21"}),
    ("jobmanager", {"jobmanager.memory.flink.size": "1777m", "jobmanager.memory.off-heap.size": "99m"}),
    ("jobmanager", {"jobmanager.memory.heap.size": "2g", "jobmanager.memory.flink.size": "1g"}),
]


def _flink_home_or_fail() -> Path:
    home = find_flink_home()
    if home is None:
        pytest.fail(f"no Flink distribution found (no importable `pyflink`, FLINK_HOME unset): {INSTALL_HINT}")
    if shutil.which("java") is None:
        pytest.fail(f"no `java` on PATH: {INSTALL_HINT}")
    calculator_classpath(home)  # raises with a clear message if the jars are missing
    return home


def _compare_live(process: str, conf: dict[str, str], result: CalculatorResult) -> None:
    if not result.ok:
        assert result.errors, result.output
        with pytest.raises(MemoryConfigError) as caught:
            _derive_conf(process, conf)
        for _, message in result.errors:
            assert message in str(caught.value)
        return
    ours = _derive_conf(process, conf)
    assert ours.jvm_args() == result.jvm_params
    for key, value in ours.dynamic_configs().items():
        assert result.dynamic_configs[key] == value, key
    logged = {label: size for label, size, _ in result.log_sizes[:2]}
    assert logged == {"Total Process Memory": ours.total_process, "Total Flink Memory": ours.total_flink}


def test_matches_live_flink_calculator() -> None:
    home = _flink_home_or_fail()
    assert flink_version(home) is not None

    def run(case: tuple[str, dict[str, str]]) -> CalculatorResult:
        return run_calculator(home, case[0], case[1])

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, LIVE_CASES))
    for (process, conf), result in zip(LIVE_CASES, results, strict=True):
        _compare_live(process, conf, result)
    assert sum(r.ok for r in results) >= 6
