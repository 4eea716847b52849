"""The alert rules on the series a real Flink produced, through the real promtool.

``tests/data/observed/*.json`` hold the series of real ``gen smoke --lifecycle`` and ``--faults``
runs on the local Flink 2.3.0 (recorded with ``tests/tools/observed_series.py``: failed, completed
and in-flight checkpoint counters, job uptime, restarts, registered TaskManagers, ``up``), one
sample per second, with the run's steps and faults. The runs used the deployment's rules with
every duration divided by the run's time scale; so does this test, with the rules built the same
way. The annotations are left out here (their texts are tested in ``test_alerts.py``): promtool
compares what fires and its labels.

- lifecycle: start, checkpoints, savepoint, stop with savepoint, restore (with the trigger
  failures Flink counts while the restored tasks start), TaskManager killed and started again:
  no alert fires at any second of the run;
- faults: each alert is silent before its fault and fires when the real Prometheus saw it fire.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Resolver
from generator.smoke.target import scaled_rule_source
from generator.validate import promtool

DATA = Path(__file__).resolve().parent.parent / "data" / "observed"
LIFECYCLE = sorted(DATA.glob("lifecycle-*.json"))
FAULTS = sorted(DATA.glob("faults-*.json"))
BACKPRESSURE = "flink_taskmanager_job_task_backPressuredTimeMsPerSecond"
BY_JOB = {
    "FlinkJobRestarting",
    "FlinkCheckpointFailures",
    "FlinkCheckpointToleranceReached",
}


@cache
def record(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def groups(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's rules (durations divided by its time scale), without annotations."""
    repo = ConfigRepo(example_config_dir())
    resolver = Resolver(repo)
    ns = next(n for n, d in repo.deployments() if d == rec["deployment"])
    eff = resolver.deployment(rec["env"], ns, rec["deployment"])
    source = scaled_rule_source(eff, rec["scenario"]["time_scale"], rec["taskmanagers"])
    return [
        {**g, "rules": [{k: v for k, v in r.items() if k != "annotations"} for r in g["rules"]]} for g in source.groups
    ]


def back_pressured_task(rec: dict[str, Any], job_name: str) -> str:
    """The task of ``job_name`` whose recorded back-pressure went highest (the source)."""
    peak: dict[str, float] = {}
    for key, values in rec["series"].items():
        if (
            key.startswith("flink_taskmanager_job_task_backPressuredTimeMsPerSecond")
            and f'job_name="{job_name}"' in key
        ):
            task = key.split('task_name="', 1)[1].split('"', 1)[0]
            numbers = [float(v) for v in values.split() if v not in ("_", "stale")]
            peak[task] = max([peak.get(task, 0.0), *numbers])
    return max(peak, key=lambda t: peak[t])


def length(rec: dict[str, Any]) -> int:
    return max(len(v.split()) for v in rec["series"].values())


def document(rec: dict[str, Any], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "evaluation_interval": "1s",
        "tests": [
            {
                "name": f"{rec['scenario']['name']} of {rec['deployment']} ({rec['profile']}/{rec['env']})",
                "interval": "1s",
                "input_series": [{"series": k, "values": v} for k, v in rec["series"].items()],
                "alert_rule_test": sorted(checks, key=lambda c: int(c["eval_time"][:-1])),
            }
        ],
    }


def test_the_observed_runs_are_there() -> None:
    assert LIFECYCLE and FAULTS, f"no recorded runs in {DATA}"
    for path in LIFECYCLE + FAULTS:
        rec = record(path)
        assert rec["flink"].startswith("2."), "recorded on the local Flink 2.x"
        failed = [k for k in rec["series"] if k.startswith("flink_jobmanager_job_numberOfFailedCheckpoints")]
        assert failed, "the failed-checkpoint counter was recorded"


@pytest.mark.parametrize("path", LIFECYCLE, ids=[p.stem for p in LIFECYCLE])
def test_a_healthy_lifecycle_fires_nothing(path: Path) -> None:
    rec = record(path)
    # the lifecycle's start-up and restore trigger failures are in the record: Flink counted them
    counted = [
        max(float(x) for x in v.split() if x not in ("_", "stale"))
        for k, v in rec["series"].items()
        if k.startswith("flink_jobmanager_job_numberOfFailedCheckpoints")
    ]
    assert sum(counted) >= 1, "the run shows the failed checkpoints a healthy start counts"
    rules = groups(rec)
    names = sorted({r["alert"] for g in rules for r in g["rules"]})
    checks = [
        {"eval_time": f"{t}s", "alertname": name, "exp_alerts": []} for t in range(2, length(rec), 2) for name in names
    ]
    promtool.test_rules(rules, document(rec, checks))


@pytest.mark.parametrize("path", FAULTS, ids=[p.stem for p in FAULTS])
def test_each_fault_fires_its_alert_where_prometheus_saw_it(path: Path) -> None:
    rec = record(path)
    rules = groups(rec)
    labels_of = {r["alert"]: r["labels"] for g in rules for r in g["rules"]}
    offset = rec["grid_start_after_prometheus_start"]
    checks = []
    proven = 0
    for fault in rec["scenario"]["faults"]:
        if fault["outcome"] != "fired":
            continue
        alert = fault["alert"]
        injected = fault["injected_after_prometheus_start"] - offset
        fired = injected + fault["seconds"]
        labels = dict(labels_of[alert])
        if alert in BY_JOB:
            labels["job_name"] = "gen_smoke_failing" if alert == "FlinkJobRestarting" else "gen_smoke"
        if alert == "FlinkBackpressureSustained":
            labels.update(job_name="gen_smoke_slow", task_name=back_pressured_task(rec, "gen_smoke_slow"))
        checks.append({"eval_time": f"{math.floor(injected) - 1}s", "alertname": alert, "exp_alerts": []})
        # it fires where Prometheus saw it fire, and keeps firing while the fault lasts (no flapping)
        checks += [
            {"eval_time": f"{math.ceil(fired) + later}s", "alertname": alert, "exp_alerts": [{"exp_labels": labels}]}
            for later in (2, 4)
        ]
        proven += 1
    assert proven >= 5
    promtool.test_rules(rules, document(rec, checks))


@pytest.mark.parametrize("path", LIFECYCLE, ids=[p.stem for p in LIFECYCLE])
def test_without_the_startup_gate_the_healthy_start_would_alert(path: Path) -> None:
    """The record holds the false alarm the gate exists for: the same rule without it (a failed
    checkpoint in the window, as the rules had it before) fires on the healthy start."""
    rec = record(path)
    rules = groups(rec)
    for group in rules:
        for rule in group["rules"]:
            if rule["alert"] == "FlinkCheckpointFailures":
                rule["expr"] = rule["expr"].split("\nand on", 1)[0]
                labels = {**rule["labels"], "job_name": "gen_smoke"}
    first = min(
        i
        for k, v in rec["series"].items()
        if k.startswith("flink_jobmanager_job_numberOfFailedCheckpoints")
        for i, x in enumerate(v.split())
        if x not in ("_", "stale") and float(x) >= 1
    )
    check = {
        "eval_time": f"{first + 2}s",
        "alertname": "FlinkCheckpointFailures",
        "exp_alerts": [{"exp_labels": labels}],
    }
    promtool.test_rules(rules, document(rec, [check]))
