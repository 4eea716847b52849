"""``gen smoke --lifecycle`` and ``--faults`` on the real local Flink and Prometheus, for one
profile (stateful-heavy/prod: RocksDB, incremental checkpoints, a checkpoint tolerance of 3, a
failure-rate restart strategy) on its configured target.

- lifecycle: every step passes with its time, no alert fires, every process is stopped;
- faults: each injected alert fires within its expected time, the cluster-only alerts are listed as
  not provable locally, every process is stopped (also the ones killed on purpose).
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_smoke import _assert_clean, _gen_smoke

ARGS = ("--profile", "stateful-heavy", "--env", "prod", "--max-taskmanagers", "2", "--timeout", "900")
INJECTED = {
    "FlinkJobRestarting",
    "FlinkBackpressureSustained",
    "FlinkCheckpointFailures",
    "FlinkCheckpointToleranceReached",
    "FlinkTaskManagersMissing",
    "FlinkJobManagerDown",
}
CLUSTER_ONLY = {"FlinkContainerOOMKilled", "FlinkPodEvicted", "FlinkPodRestarting", "FlinkCPUThrottlingHigh"}


def test_lifecycle_fires_no_alert(run_tmp: Path) -> None:
    run = _gen_smoke(run_tmp, *ARGS, "--lifecycle")
    report = run.report
    print(f"lifecycle: {report['reason'] or 'go'} in {run.seconds:.1f}s: {report['scenario']['steps']}")
    assert run.code == 0, f"{report['reason']}\n{report['flink_errors']}\n{run.stderr[-3000:]}"
    steps = report["scenario"]["steps"]
    assert [s["name"] for s in steps] == [
        "start",
        "savepoint",
        "stop with savepoint",
        "restore from the savepoint",
        "TaskManager restart",
        "healthy after recovery",
    ]
    assert all(s["ok"] and s["seconds"] > 0 for s in steps)
    assert "restored from the savepoint" in steps[3]["detail"]
    assert report["scenario"]["time_scale"] == 10
    assert [a for a in report["alerts"] if a["fired"]] == []
    assert "FlinkCheckpointFailures" in report["alerts_watched"]
    assert "FlinkCheckpointToleranceReached" in report["alerts_watched"]
    # the restarted TaskManager is a process of the run too, and was stopped
    assert any("-restart" in p["name"] for p in report["processes"])
    _assert_clean(report, run_tmp)


def test_faults_fire_their_alerts_in_time(run_tmp: Path) -> None:
    run = _gen_smoke(run_tmp, *ARGS, "--faults")
    report = run.report
    faults = {f["alert"]: f for f in report["scenario"]["faults"]}
    print(f"faults: {report['reason'] or 'go'} in {run.seconds:.1f}s: {faults}")
    assert run.code == 0, f"{report['reason']}\n{report['flink_errors']}\n{run.stderr[-3000:]}"
    for alert in INJECTED:
        assert faults[alert]["outcome"] == "fired", faults[alert]
        assert 0 < faults[alert]["seconds"] <= faults[alert]["expected_within"]
    for alert in CLUSTER_ONLY:
        assert faults[alert]["outcome"] == "not provable locally"
    fired = {a["name"] for a in report["alerts"] if a["fired"]}
    assert fired >= INJECTED
    for text in ("FlinkJobManagerDown: fired", "not provable locally"):
        assert text in run.stderr
    _assert_clean(report, run_tmp)
