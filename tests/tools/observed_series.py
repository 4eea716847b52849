#!/usr/bin/env python3
"""Record the series a real ``gen smoke --lifecycle`` or ``--faults`` run produced, for promtool tests.

Usage (from the repository root)::

    gen smoke -p stateful-heavy -e prod --max-taskmanagers 2 --faults --keep --format json > run.json
    python tests/tools/observed_series.py run.json -o tests/data/observed/faults-stateful-heavy-prod.json

It dumps, with ``promtool tsdb dump``, the series the Flink alerts read from the kept run folder's
Prometheus data, puts each on a one-second grid from the start of Prometheus (``_`` where nothing
was scraped, ``stale`` where Prometheus marked the series stale) and writes them with the run's
scenario (steps, faults and when each was injected) and its alerts. The series are Flink's and
Prometheus' own: nothing here computes a value.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

METRICS = (
    "flink_jobmanager_job_numberOfFailedCheckpoints",
    "flink_jobmanager_job_numberOfCompletedCheckpoints",
    "flink_jobmanager_job_uptime",
    "flink_jobmanager_job_numRestarts",
    "flink_jobmanager_job_lastCheckpointDuration",
    "flink_jobmanager_numRegisteredTaskManagers",
    "flink_taskmanager_job_task_backPressuredTimeMsPerSecond",
    "up",
)
_LINE = re.compile(r"^(?P<series>\{.*\}) (?P<value>\S+) (?P<ts>\d+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
# per-run addresses and ids; job_name, task_name and subtask_index identify the series
_DROP = {"instance", "job", "host", "job_id", "tm_id", "task_id", "task_attempt_id", "task_attempt_num"}


def dump(data_dir: Path) -> list[tuple[str, dict[str, str], float, int]]:
    match = '{__name__=~"' + "|".join(METRICS) + '"}'
    out = subprocess.run(
        ["promtool", "tsdb", "dump", f"--match={match}", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    samples = []
    for line in out.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        labels = dict(_LABEL.findall(m["series"]))
        name = labels.pop("__name__")
        samples.append((name, labels, float(m["value"]), int(m["ts"])))
    return samples


def grid(samples: list[tuple[str, dict[str, str], float, int]], start_ms: int) -> dict[str, str]:
    by_series: dict[str, dict[int, float]] = {}
    for name, labels, value, ts in samples:
        kept = {k: v for k, v in sorted(labels.items()) if k not in _DROP}
        # the job's id is dropped, so two jobs of one name (stop, then restore) must stay apart
        if "job_id" in labels:
            kept["job_id"] = labels["job_id"][:8]
        key = name + "{" + ", ".join(f'{k}="{v}"' for k, v in kept.items()) + "}"
        slot = round((ts - start_ms) / 1000)
        if slot >= 0:
            by_series.setdefault(key, {})[slot] = value
    series = {}
    for key, points in sorted(by_series.items()):
        last = max(points)
        values = []
        for slot in range(last + 1):
            value = points.get(slot)
            if value is None:
                values.append("_")
            elif math.isnan(value):
                values.append("stale")
            else:
                values.append(f"{value:g}")
        series[key] = " ".join(values)
    return series


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the run's --format json report (run with --keep)")
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report: dict[str, Any] = json.loads(args.report.read_text(encoding="utf-8"))
    data_dir = Path(report["run_dir"]) / "prometheus" / "data"
    samples = dump(data_dir)
    start_ms = min(ts for *_, ts in samples)
    record = {
        "profile": report["profile"],
        "env": report["env"],
        "deployment": report["deployment"],
        "flink": report["flink_local"],
        "taskmanagers": report["figures"]["taskmanagers"],
        "scenario": report["scenario"],
        "alerts": [{k: a[k] for k in ("name", "first_pending", "first_firing", "fired")} for a in report["alerts"]],
        # the grid starts at the first sample; the report's times count from Prometheus' start
        "grid_start_after_prometheus_start": round(start_ms / 1000 - report["figures"]["prometheus_started"], 1),
        "series": grid(samples, start_ms),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(record['series'])} series, {max(len(v.split()) for v in record['series'].values())}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
