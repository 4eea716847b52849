#!/usr/bin/env python3
"""Regenerate tests/data/flink_memory_expected.json from Flink's own memory calculator.

Usage (from the repository root, with a JDK on PATH)::

    python tests/tools/flink_memory_truth.py FLINK_HOME [-o tests/data/flink_memory_expected.json]

FLINK_HOME is an unpacked Flink distribution, e.g. the ``pyflink`` directory that
``pip install --no-deps apache-flink==2.3.0 apache-flink-libraries==2.3.0`` puts in site-packages.
For each case the script runs::

    java -cp FLINK_HOME/bin/bash-java-utils.jar:FLINK_HOME/lib/flink-dist-<v>.jar \\
        org.apache.flink.runtime.util.bash.BashJavaUtils GET_TM_RESOURCE_PARAMS|GET_JM_RESOURCE_PARAMS \\
        --configDir <dir holding an empty config.yaml> -D key=value ...

and records Flink's figures: every component in bytes (from the "Final ... Memory configuration"
log block, cross-checked against the ``-D`` dynamic configs), the JVM flags line, the human-readable
sizes Flink logged, or, for refused configurations, the exception chain's messages.
Nothing here uses generator.flink.memory: the data is Flink's, not ours.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from generator.flink.distribution import (  # noqa: E402
    CALCULATOR_MAIN_CLASS,
    CalculatorResult,
    flink_version,
    java_version,
    run_calculator,
)

TM = "taskmanager.memory."
JM = "jobmanager.memory."

TM_LOG_FIELDS = (
    ("Total Process Memory", "total_process"),
    ("Total Flink Memory", "total_flink"),
    ("Total JVM Heap Memory", "jvm_heap"),
    ("Framework", "framework_heap"),
    ("Task", "task_heap"),
    ("Total Off-heap Memory", "off_heap"),
    ("Managed", "managed"),
    ("Total JVM Direct Memory", "direct"),
    ("Framework", "framework_off_heap"),
    ("Task", "task_off_heap"),
    ("Network", "network"),
    ("JVM Metaspace", "jvm_metaspace"),
    ("JVM Overhead", "jvm_overhead"),
)
JM_LOG_FIELDS = (
    ("Total Process Memory", "total_process"),
    ("Total Flink Memory", "total_flink"),
    ("JVM Heap", "jvm_heap"),
    ("Off-heap", "off_heap"),
    ("JVM Metaspace", "jvm_metaspace"),
    ("JVM Overhead", "jvm_overhead"),
)
# dynamic config key -> field it must equal
TM_DYNAMIC = {
    TM + "framework.heap.size": "framework_heap",
    TM + "task.heap.size": "task_heap",
    TM + "managed.size": "managed",
    TM + "framework.off-heap.size": "framework_off_heap",
    TM + "task.off-heap.size": "task_off_heap",
    TM + "network.min": "network",
    TM + "network.max": "network",
    TM + "jvm-metaspace.size": "jvm_metaspace",
    TM + "jvm-overhead.min": "jvm_overhead",
    TM + "jvm-overhead.max": "jvm_overhead",
}
JM_DYNAMIC = {
    JM + "heap.size": "jvm_heap",
    JM + "off-heap.size": "off_heap",
    JM + "jvm-metaspace.size": "jvm_metaspace",
    JM + "jvm-overhead.min": "jvm_overhead",
    JM + "jvm-overhead.max": "jvm_overhead",
}


def _tm_cases() -> Iterator[tuple[str, dict[str, str]]]:
    managed_size = {"1g": "128m", "1728m": "256m", "4g": "1g", "16g": "4g", "64g": "16g"}
    for size in ("1g", "1728m", "4g", "16g", "64g"):
        base = {TM + "process.size": size}
        variants: dict[str, dict[str, str]] = {
            "default": {},
            "managed-fraction-0.25": {TM + "managed.fraction": "0.25"},
            "managed-size": {TM + "managed.size": managed_size[size]},
            "managed-zero": {TM + "managed.size": "0"},
            "network-fraction-min-max": {
                TM + "network.fraction": "0.15",
                TM + "network.min": "128m",
                TM + "network.max": "2g",
            },
            "network-fixed-256m": {TM + "network.min": "256m", TM + "network.max": "256m"},
            "overhead-metaspace": {
                TM + "jvm-overhead.fraction": "0.2",
                TM + "jvm-overhead.min": "256m",
                TM + "jvm-overhead.max": "2g",
                TM + "jvm-metaspace.size": "384m",
            },
            "framework-and-task-off-heap": {
                TM + "framework.heap.size": "256m",
                TM + "framework.off-heap.size": "192m",
                TM + "task.off-heap.size": "64m",
            },
            "odd-fractions": {
                TM + "managed.fraction": "0.33",
                TM + "network.fraction": "0.07",
                TM + "jvm-overhead.fraction": "0.13",
            },
        }
        for name, extra in variants.items():
            yield f"tm-process-{size}-{name}", {**base, **extra}

    # MemorySize syntax
    for text in ("4 gb", "4096MB", "4194304kb", "4294967296", "4gibibytes", "4G", " 4g "):
        yield (
            f"tm-syntax-{text.strip().replace(' ', '_')}{'-padded' if text != text.strip() else ''}",
            {TM + "process.size": text},
        )

    # Total Flink Memory only
    for size in ("512m", "1g", "1280m", "3g", "10g", "50g"):
        yield f"tm-flink-{size}", {TM + "flink.size": size}
    yield "tm-flink-2g-managed-size", {TM + "flink.size": "2g", TM + "managed.size": "512m"}
    yield "tm-flink-2g-task-heap", {TM + "flink.size": "2g", TM + "task.heap.size": "512m"}
    yield "tm-flink-2g-task-heap-too-big", {TM + "flink.size": "2g", TM + "task.heap.size": "1g"}
    yield (
        "tm-flink-2g-task-heap-network-above-max",
        {
            TM + "flink.size": "2g",
            TM + "task.heap.size": "512m",
            TM + "network.max": "100m",
        },
    )
    yield "tm-flink-1g-overhead-fraction", {TM + "flink.size": "1g", TM + "jvm-overhead.fraction": "0.3"}

    # Both process and flink size
    yield "tm-both-2g-1g", {TM + "process.size": "2g", TM + "flink.size": "1g"}
    yield "tm-both-4g-3g", {TM + "process.size": "4g", TM + "flink.size": "3g"}
    yield "tm-both-4g-3500m", {TM + "process.size": "4g", TM + "flink.size": "3500m"}
    yield "tm-both-2g-1900m-too-small", {TM + "process.size": "2g", TM + "flink.size": "1900m"}
    yield "tm-both-4g-3800m-overhead-below-min", {TM + "process.size": "4g", TM + "flink.size": "3800m"}
    yield "tm-both-8g-4g-overhead-above-max", {TM + "process.size": "8g", TM + "flink.size": "4g"}

    # Fine-grained: task heap + managed
    for heap, managed in (("512m", "512m"), ("1g", "2g"), ("100m", "0"), ("3000m", "7g")):
        yield f"tm-fine-{heap}-{managed}", {TM + "task.heap.size": heap, TM + "managed.size": managed}
    yield (
        "tm-fine-network-fraction-0.2",
        {
            TM + "task.heap.size": "384m",
            TM + "managed.size": "128m",
            TM + "network.fraction": "0.2",
        },
    )
    yield (
        "tm-fine-with-flink-size",
        {
            TM + "task.heap.size": "512m",
            TM + "managed.size": "512m",
            TM + "flink.size": "1408m",
        },
    )
    yield (
        "tm-fine-with-flink-size-network-below-min",
        {
            TM + "task.heap.size": "512m",
            TM + "managed.size": "256m",
            TM + "flink.size": "1g",
        },
    )
    yield (
        "tm-fine-with-flink-size-too-small",
        {
            TM + "task.heap.size": "512m",
            TM + "managed.size": "512m",
            TM + "flink.size": "1g",
        },
    )
    yield (
        "tm-fine-with-process-size",
        {
            TM + "task.heap.size": "1g",
            TM + "managed.size": "1g",
            TM + "process.size": "4g",
        },
    )
    yield (
        "tm-fine-with-process-size-3500m",
        {
            TM + "task.heap.size": "1g",
            TM + "managed.size": "1g",
            TM + "process.size": "3500m",
        },
    )
    yield (
        "tm-fine-with-process-size-too-small",
        {
            TM + "task.heap.size": "1g",
            TM + "managed.size": "1g",
            TM + "process.size": "2g",
        },
    )
    yield "tm-task-heap-with-process-4g", {TM + "task.heap.size": "1g", TM + "process.size": "4g"}
    yield "tm-managed-size-with-process-4g", {TM + "managed.size": "1g", TM + "process.size": "4g"}
    yield "tm-managed-fraction-zero", {TM + "process.size": "4g", TM + "managed.fraction": "0"}

    # Deprecated keys Flink 2.3 still honours
    yield (
        "tm-deprecated-keys",
        {
            TM + "process.size": "4g",
            "taskmanager.memory.size": "1g",
            "taskmanager.network.memory.min": "100m",
            "taskmanager.network.memory.max": "100m",
        },
    )
    yield (
        "tm-new-key-wins-over-deprecated",
        {
            TM + "process.size": "4g",
            TM + "network.min": "200m",
            TM + "network.max": "200m",
            "taskmanager.network.memory.min": "100m",
            "taskmanager.network.memory.max": "100m",
        },
    )

    # Refused configurations
    yield "tm-error-nothing-configured", {}
    yield "tm-error-process-500m", {TM + "process.size": "500m"}
    yield "tm-error-process-400m", {TM + "process.size": "400m"}
    yield "tm-error-managed-size-too-big", {TM + "process.size": "2g", TM + "managed.size": "3g"}
    yield "tm-error-framework-heap-too-big", {TM + "process.size": "1g", TM + "framework.heap.size": "1g"}
    yield "tm-error-managed-fraction-1", {TM + "process.size": "4g", TM + "managed.fraction": "1"}
    yield "tm-error-network-fraction-1.5", {TM + "process.size": "4g", TM + "network.fraction": "1.5"}
    yield "tm-error-overhead-fraction-negative", {TM + "process.size": "4g", TM + "jvm-overhead.fraction": "-0.1"}
    yield "tm-error-overhead-min-above-max", {TM + "process.size": "4g", TM + "jvm-overhead.min": "2g"}
    yield (
        "tm-error-network-min-above-max",
        {
            TM + "process.size": "4g",
            TM + "network.min": "512m",
            TM + "network.max": "256m",
        },
    )
    yield "tm-error-bad-unit", {TM + "process.size": "4x"}
    yield "tm-error-decimal-size", {TM + "process.size": "1.5g"}
    yield "tm-error-negative-size", {TM + "process.size": "-1g"}
    yield "tm-error-bad-fraction", {TM + "process.size": "4g", TM + "network.fraction": "abc"}
    yield "tm-error-deprecated-key-bad-value", {TM + "process.size": "4g", "taskmanager.network.memory.min": "x"}


def _jm_cases() -> Iterator[tuple[str, dict[str, str]]]:
    for size in ("1g", "1600m", "2048m", "4g", "16g"):
        base = {JM + "process.size": size}
        variants: dict[str, dict[str, str]] = {
            "default": {},
            "off-heap-256m": {JM + "off-heap.size": "256m"},
            "overhead": {
                JM + "jvm-overhead.fraction": "0.25",
                JM + "jvm-overhead.min": "128m",
                JM + "jvm-overhead.max": "2g",
            },
            "metaspace-512m": {JM + "jvm-metaspace.size": "512m"},
            "direct-memory-limit": {JM + "enable-jvm-direct-memory-limit": "true"},
        }
        for name, extra in variants.items():
            yield f"jm-process-{size}-{name}", {**base, **extra}
    for size in ("1g", "2g", "12g"):
        yield f"jm-flink-{size}", {JM + "flink.size": size}
    for size in ("1g", "512m", "100m"):
        yield f"jm-heap-{size}", {JM + "heap.size": size}
    yield "jm-heap-and-flink-derives-off-heap", {JM + "heap.size": "1g", JM + "flink.size": "1200m"}
    yield (
        "jm-heap-flink-off-heap-consistent",
        {
            JM + "heap.size": "1g",
            JM + "flink.size": "1152m",
            JM + "off-heap.size": "128m",
        },
    )
    yield "jm-heap-and-process", {JM + "heap.size": "1g", JM + "process.size": "2g"}
    yield "jm-flink-and-process", {JM + "flink.size": "1g", JM + "process.size": "2g"}

    yield "jm-error-nothing-configured", {}
    yield "jm-error-process-400m", {JM + "process.size": "400m"}
    yield "jm-error-flink-below-off-heap", {JM + "flink.size": "100m"}
    yield "jm-error-flink-equals-off-heap", {JM + "flink.size": "128m"}
    yield "jm-error-heap-exceeds-flink", {JM + "heap.size": "2g", JM + "flink.size": "1g"}
    yield (
        "jm-error-heap-off-heap-flink-mismatch",
        {
            JM + "heap.size": "1g",
            JM + "off-heap.size": "256m",
            JM + "flink.size": "1g",
        },
    )
    yield "jm-error-heap-and-process-too-small", {JM + "heap.size": "1g", JM + "process.size": "1g"}
    yield "jm-error-flink-and-process-overhead-below-min", {JM + "flink.size": "1g", JM + "process.size": "1400m"}
    yield "jm-error-overhead-fraction-1", {JM + "process.size": "2g", JM + "jvm-overhead.fraction": "1.0"}
    yield (
        "jm-error-overhead-min-above-max",
        {
            JM + "process.size": "4g",
            JM + "jvm-overhead.fraction": "0.9f",
            JM + "jvm-overhead.min": "2g",
        },
    )
    yield "jm-error-bad-size", {JM + "process.size": "abc"}
    yield (
        "jm-error-direct-limit-not-boolean",
        {
            JM + "process.size": "1g",
            JM + "enable-jvm-direct-memory-limit": "maybe",
        },
    )


def _record(process: str, case_id: str, conf: dict[str, str], result: CalculatorResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": case_id, "process": process, "conf": conf}
    if not result.ok:
        if result.returncode == 0 or not result.errors:
            raise RuntimeError(f"{case_id}: unexpected calculator output:\n{result.output}")
        messages: list[str] = []
        for _, message in result.errors:
            if message and not any(message in seen for seen in messages):
                messages.append(message)
        entry["error"] = {"exception": result.errors[0][0], "messages": messages}
        return entry
    fields = TM_LOG_FIELDS if process == "taskmanager" else JM_LOG_FIELDS
    labels = [label for label, _, _ in result.log_sizes]
    if labels != [label for label, _ in fields]:
        raise RuntimeError(f"{case_id}: unexpected log block {labels}")
    expected = {name: size for (_, name), (_, size, _) in zip(fields, result.log_sizes, strict=True)}
    human = {name: text for (_, name), (_, _, text) in zip(fields, result.log_sizes, strict=True)}
    dynamic = TM_DYNAMIC if process == "taskmanager" else JM_DYNAMIC
    for key, name in dynamic.items():
        if result.dynamic_configs.get(key) != f"{expected[name]}b":
            raise RuntimeError(f"{case_id}: {key}={result.dynamic_configs.get(key)} but log says {expected[name]}")
    entry["expected"] = expected
    entry["jvm_args"] = result.jvm_params
    entry["human"] = human
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("flink_home", type=Path, help="Flink distribution (e.g. site-packages/pyflink)")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "tests/data/flink_memory_expected.json")
    parser.add_argument("--java", default=None, help="java executable (default: java on PATH)")
    args = parser.parse_args(argv)
    home: Path = args.flink_home.resolve()
    version = flink_version(home)
    if version is None:
        parser.error(f"{home} is not a Flink distribution (no lib/flink-dist-*.jar)")

    jobs = [("taskmanager", cid, conf) for cid, conf in _tm_cases()]
    jobs += [("jobmanager", cid, conf) for cid, conf in _jm_cases()]
    ids = [cid for _, cid, _ in jobs]
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate case ids")

    def run(job: tuple[str, str, dict[str, str]]) -> dict[str, Any]:
        process, case_id, conf = job
        return _record(process, case_id, conf, run_calculator(home, process, conf, java=args.java))

    with ThreadPoolExecutor(max_workers=4) as pool:
        cases = list(pool.map(run, jobs))

    data = {
        "description": "Flink's own TaskManager/JobManager memory calculation for the configurations below. "
        "'expected' is in bytes, 'jvm_args' is the JVM flag line Flink prints, 'human' the sizes as Flink "
        "logs them, 'error' the messages of the exception chain for refused configurations.",
        "generated_by": "tests/tools/flink_memory_truth.py",
        "flink_version": version,
        "java_version": java_version(args.java),
        "command": f"java -cp $FLINK_HOME/bin/bash-java-utils.jar:$FLINK_HOME/lib/flink-dist-{version}.jar "
        f"{CALCULATOR_MAIN_CLASS} GET_TM_RESOURCE_PARAMS|GET_JM_RESOURCE_PARAMS "
        "--configDir <dir with an empty config.yaml> -D key=value ... (one -D per 'conf' entry)",
        "flink_home": "site-packages/pyflink of apache-flink + apache-flink-libraries "
        f"{version} (pip install --no-deps)",
        "cases": cases,
    }
    args.output.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    ok = sum("expected" in c for c in cases)
    print(f"wrote {args.output}: {len(cases)} cases ({ok} computed, {len(cases) - ok} refused) with Flink {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
