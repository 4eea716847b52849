"""The alert watch of gen smoke, the compressed clock of --lifecycle/--faults, and the alert target
a deployment's Flink configuration gives (checkpoint interval, tolerance)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from generator.render import alert_settings as S
from generator.render.alerts import AlertTarget, alert_groups, alert_target
from generator.smoke.alert_watch import alert_history, describe

START = 1_800_000_000.0
INTERVAL = "execution.checkpointing.interval"


def alerts_series(state: str, alert: str, seconds: list[int], **labels: str) -> dict[str, Any]:
    metric = {"__name__": "ALERTS", "alertname": alert, "alertstate": state, "severity": "critical", **labels}
    return {"metric": metric, "values": [[START + s, "1"] for s in seconds]}


@pytest.fixture
def prometheus() -> Iterator[tuple[str, list[str], list[dict[str, Any]]]]:
    """A loopback HTTP server answering /api/v1/query_range like Prometheus, with the series given."""
    queries: list[str] = []
    result: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            queries.append(self.path)
            body = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", queries, result
    finally:
        server.shutdown()


def test_alert_history_merges_pending_and_firing_per_alert(
    prometheus: tuple[str, list[str], list[dict[str, Any]]],
) -> None:
    base, queries, result = prometheus
    result += [
        alerts_series("pending", "FlinkTaskManagersMissing", [20, 21, 22, 23], flink_deployment="orders"),
        alerts_series("firing", "FlinkTaskManagersMissing", [24, 25, 26], flink_deployment="orders"),
        alerts_series("pending", "FlinkJobManagerDown", [2, 3], flink_deployment="orders"),
        alerts_series("firing", "FlinkJobRestarting", [40, 41], flink_deployment="orders", job_name="a"),
        alerts_series("firing", "FlinkJobRestarting", [50], flink_deployment="orders", job_name="b"),
    ]
    seen = alert_history(base, START, START + 60)
    assert "query=ALERTS" in queries[0] and "step=1" in queries[0]
    assert [(a.name, a.labels.get("job_name")) for a in seen] == [
        ("FlinkJobManagerDown", None),
        ("FlinkTaskManagersMissing", None),
        ("FlinkJobRestarting", "a"),
        ("FlinkJobRestarting", "b"),
    ]
    down, missing, restarting_a, _ = seen
    assert not down.fired and down.first_pending == 2 and down.last_active == 3
    assert missing.fired and missing.first_pending == 20 and missing.first_firing == 24
    assert missing.firing_seconds == 3
    assert restarting_a.first_firing == 40 and restarting_a.first_pending is None
    assert (
        describe(down) == "FlinkJobManagerDown (critical; flink_deployment=orders): pending from 2s to 3s, never fired"
    )
    assert describe(missing) == (
        "FlinkTaskManagersMissing (critical; flink_deployment=orders): FIRED at 24s (pending from 20s), firing for 3s"
    )
    assert describe(restarting_a).startswith(
        "FlinkJobRestarting (critical; flink_deployment=orders, job_name=a): FIRED at 40s"
    )


def test_a_long_run_is_read_in_at_most_10000_steps(prometheus: tuple[str, list[str], list[dict[str, Any]]]) -> None:
    base, queries, _ = prometheus
    assert alert_history(base, START, START + 50_000) == []
    assert "step=5" in queries[0]


@pytest.mark.parametrize("ms", [0, 500, 1000, 6000, 90_000, 150_000, 600_000, 3_600_000, 86_400_000 + 1500])
def test_format_duration_is_the_inverse_of_duration_ms(ms: int) -> None:
    text = S.format_duration(ms)
    assert S.duration_ms(text) == ms
    assert S.format_duration(150_000) == "2m30s"


def test_the_compressed_clock_divides_every_duration_and_nothing_else() -> None:
    base = S.AlertSettings(labels=(("team", "data"),))
    fast = S.scaled(base, 10)
    assert fast.jobmanager_down_for == "30s"
    assert fast.startup_grace == "1m"
    assert fast.checkpoint_duration_floor == "3s"
    assert fast.restarts_for == "0s"
    assert fast.restarts_threshold == base.restarts_threshold
    assert fast.labels == base.labels and fast.severity == base.severity
    assert S.scaled(base, 1) == base
    with pytest.raises(ValueError, match="factor"):
        S.scaled(base, 0)


@pytest.mark.parametrize(
    ("conf", "interval", "tolerance"),
    [
        ({}, None, 0),
        ({INTERVAL: "60s"}, 60_000, 0),
        (
            {"execution.checkpointing.interval": "1 min", "execution.checkpointing.tolerable-failed-checkpoints": "3"},
            60_000,
            3,
        ),
        ({INTERVAL: "0"}, None, 0),
    ],
)
def test_alert_target_reads_the_checkpoint_interval_and_tolerance(
    conf: dict[str, str], interval: int | None, tolerance: int
) -> None:
    target = alert_target("orders", "ns", 2, conf)
    assert (target.checkpoint_interval_ms, target.tolerable_failed_checkpoints) == (interval, tolerance)
    rules = alert_groups("ns", [target], S.AlertSettings(), 2)[0]["rules"]
    names = [r["alert"] for r in rules]
    assert ("FlinkCheckpointToleranceReached" in names) == (interval is not None)


def test_the_tolerance_window_follows_the_interval_and_has_a_floor() -> None:
    def window(target: AlertTarget) -> str:
        rules = alert_groups("ns", [target], S.AlertSettings(), 2)[0]["rules"]
        (rule,) = (r for r in rules if r["alert"] == "FlinkCheckpointToleranceReached")
        return str(rule["expr"]).split("[", 2)[2].split("]", 1)[0]  # the no-completion window

    assert window(AlertTarget("a", "ns", 1, 60_000, 3)) == "2m30s"  # (3 - 0.5) x 60 s
    assert window(AlertTarget("a", "ns", 1, 600_000, 1)) == "5m"  # (1 - 0.5) x 10 min
    assert window(AlertTarget("a", "ns", 1, 10_000, 0)) == "1m"  # the floor
