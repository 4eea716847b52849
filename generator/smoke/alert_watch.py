"""Every alert that was pending or firing during a smoke run, from Prometheus' own record.

Prometheus writes the state of every active alert into the series ``ALERTS{alertname, alertstate,
...}`` at each rule evaluation (every second in a smoke run). A range query over the whole run
therefore lists each alert that was pending or firing, when it first was and for how long, without
polling during the run: nothing between two polls is missed.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import asdict, dataclass
from typing import Any

from generator.smoke import http

__all__ = ["SeenAlert", "alert_history", "describe"]

# the series labels that say which alert this is (the rest: routing labels, annotations' input)
_IDENTITY = ("alertname", "severity", "job_name", "task_name", "pod", "container")


@dataclass(frozen=True)
class SeenAlert:
    name: str
    severity: str
    labels: dict[str, str]  # the identifying labels besides the name (job_name, pod, ...)
    first_pending: float | None  # seconds since the watch started
    first_firing: float | None
    last_active: float  # the last evaluation that saw it pending or firing
    firing_seconds: float  # how long it was firing in total

    @property
    def fired(self) -> bool:
        return self.first_firing is not None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fired": self.fired}


def _range(base: str, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"})
    answer = http.get_json(f"{base}/api/v1/query_range?{query}", timeout=10.0)
    if not isinstance(answer, dict) or answer.get("status") != "success":
        raise http.HttpError(base, f"unexpected answer: {str(answer)[:200]}")
    result: list[dict[str, Any]] = answer.get("data", {}).get("result", [])
    return result


def alert_history(base: str, since: float, until: float | None = None) -> list[SeenAlert]:
    """The alerts that were pending or firing between ``since`` and ``until`` (Unix seconds; default
    now), sorted by when they first became active. Times are seconds after ``since``."""
    until = until if until is not None else time.time()
    step = max(1.0, (until - since) / 10_000)  # Prometheus answers at most 11,000 points per series
    merged: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for series in _range(base, "ALERTS", since, until, step):
        metric = dict(series.get("metric", {}))
        state = metric.pop("alertstate", "")
        metric.pop("__name__", None)
        identity = tuple(sorted((k, v) for k, v in metric.items() if k in _IDENTITY or k == "flink_deployment"))
        entry = merged.setdefault(identity, {"metric": metric, "pending": None, "firing": None, "last": 0.0, "n": 0})
        times = [float(t) - since for t, _ in series.get("values", [])]
        if not times:
            continue
        if state == "pending":
            entry["pending"] = min(times) if entry["pending"] is None else min(entry["pending"], min(times))
        elif state == "firing":
            entry["firing"] = min(times) if entry["firing"] is None else min(entry["firing"], min(times))
            entry["n"] += len(times)
        entry["last"] = max(entry["last"], max(times))
    seen = []
    for entry in merged.values():
        metric = entry["metric"]
        labels = {k: v for k, v in metric.items() if k in _IDENTITY[2:] or k == "flink_deployment"}
        seen.append(
            SeenAlert(
                name=metric.get("alertname", "?"),
                severity=metric.get("severity", ""),
                labels=labels,
                first_pending=None if entry["pending"] is None else round(entry["pending"], 1),
                first_firing=None if entry["firing"] is None else round(entry["firing"], 1),
                last_active=round(entry["last"], 1),
                firing_seconds=round(entry["n"] * step, 1),
            )
        )
    return sorted(seen, key=lambda a: (min(t for t in (a.first_pending, a.first_firing) if t is not None), a.name))


def describe(alert: SeenAlert) -> str:
    """One line: the alert, what it was about, and when it was pending and firing."""
    about = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    head = f"{alert.name} ({alert.severity}{'; ' + about if about else ''})"
    if alert.fired:
        return (
            f"{head}: FIRED at {alert.first_firing:.0f}s"
            + (f" (pending from {alert.first_pending:.0f}s)" if alert.first_pending is not None else "")
            + f", firing for {alert.firing_seconds:.0f}s"
        )
    return f"{head}: pending from {alert.first_pending:.0f}s to {alert.last_active:.0f}s, never fired"
