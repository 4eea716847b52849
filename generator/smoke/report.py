"""What a smoke run found: its checks, figures and notes, the go/no-go verdict, and its text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from generator.errors import GenError
from generator.smoke.adapt import Adaptation

__all__ = ["Check", "SmokeInterrupted", "SmokeReport", "format_report"]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class SmokeReport:
    deployment: str
    namespace: str
    env: str
    profile: str
    flink_configured: str
    flink_local: str
    flink_home: str
    java: str
    prometheus: str
    rules_origin: str
    go: bool = False
    reason: str = ""
    flink_errors: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    adaptations: list[Adaptation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    processes: list[dict[str, Any]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    run_dir: str | None = None  # when kept
    interrupted: bool = False
    alerts_watched: list[str] = field(default_factory=list)  # the alert rules Prometheus evaluated
    alerts: list[dict[str, Any]] = field(default_factory=list)  # every alert pending or firing in the run
    scenario: dict[str, Any] = field(default_factory=dict)  # --lifecycle / --faults: steps and verdicts

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["adaptations"] = [{**asdict(a), "text": a.text()} for a in self.adaptations]
        return data


class SmokeInterrupted(GenError):
    """Ctrl-C (or SIGTERM/SIGHUP) during a run; every process was stopped before this is raised."""

    exit_code = 130

    def __init__(self, report: SmokeReport) -> None:
        self.report = report
        super().__init__("interrupted")

    def lines(self) -> list[str]:
        procs = self.report.processes
        stopped = ", ".join(f"{p['name']} (pid {p['pid']})" for p in procs) or "nothing was started yet"
        kept = f"; kept {self.report.run_dir}" if self.report.run_dir else "; removed the run folder"
        return [f"interrupted: stopped every process gen smoke started: {stopped}{kept}"]


# ---------------------------------------------------------------------------------------------
# text


def scenario_lines(scenario: dict[str, Any]) -> list[str]:
    """The faults of --faults, each alert with its verdict and time (the steps of --lifecycle are
    among the checks, with their times)."""
    if not scenario:
        return []
    steps = len(scenario.get("steps", []))
    lines = ["", f"{scenario['name']}: {steps} steps, alert durations divided by {scenario['time_scale']}"]
    for alert in scenario.get("faults", []):
        if alert["outcome"] == "fired":
            lines.append(
                f"  ok    {alert['alert']}: fired {alert['seconds']:.1f}s after {alert['fault']} "
                f"(expected within {alert['expected_within']:.0f}s)"
            )
        elif alert["outcome"] == "not provable locally":
            lines.append(f"  --    {alert['alert']}: not provable locally ({alert['fault']})")
        else:
            lines.append(f"  FAIL  {alert['alert']}: {alert['outcome']} after {alert['fault']}")
    return lines


def format_report(report: SmokeReport) -> list[str]:
    """The go/no-go summary as text lines."""
    lines = [
        f"gen smoke: {report.namespace}/{report.deployment} (profile {report.profile}, env {report.env})",
        f"  Flink {report.flink_local} from {report.flink_home} (configured: {report.flink_configured}); "
        f"{report.java}; {report.prometheus}",
        f"  alert rules: {report.rules_origin}",
        "",
        f"adapted for this machine ({len(report.adaptations)}):",
    ]
    lines += [f"  - {a.text()}" for a in report.adaptations]
    if report.notes:
        lines += ["", "notes:"] + [f"  - {note}" for note in report.notes]
    lines += ["", "checks:"]
    lines += [f"  {'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}" for c in report.checks]
    if report.alerts_watched:
        watched = ", ".join(report.alerts_watched)
        lines += ["", f"alerts watched for the whole run ({len(report.alerts_watched)}): {watched}"]
        if report.alerts:
            lines += [f"  - {a['text']}" for a in report.alerts]
        else:
            lines.append("  none was pending or firing")
    lines += scenario_lines(report.scenario)
    if report.flink_errors:
        lines += ["", "errors reported by the processes:"] + [f"  {e}" for e in report.flink_errors]
    if report.run_dir:
        lines += ["", f"run folder kept: {report.run_dir}"]
    total = report.timings.get("total", 0.0)
    figures = report.figures
    lines.append("")
    if report.go:
        lines.append(
            f"GO in {total:.1f}s: {figures.get('taskmanagers_registered')} TaskManager(s) x "
            f"{figures.get('slots_per_taskmanager')} slots = {figures.get('slots_total')} slots, "
            f"{figures.get('prometheus_targets', {}).get('up')} Prometheus targets up, "
            f"{figures.get('rule_groups', {}).get('loaded')} rule groups loaded"
        )
    else:
        lines.append(f"NO-GO after {total:.1f}s: {report.reason}")
    return lines
