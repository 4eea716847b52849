"""The checks against the local Prometheus of a smoke run.

Every scrape target is up; every rule group is loaded and evaluated on the live series without an
error; the deployment's availability rules see the JobManager and the registered TaskManagers, which
proves the label contract between the PodMonitor's labels and the rendered rules.
"""

from __future__ import annotations

from collections.abc import Callable

from generator.render.alert_rules import PAGING_ALERTS
from generator.smoke import alert_watch, http, prometheus
from generator.smoke.session import Session

__all__ = ["collect_alerts", "paging_alerts_fired", "query_until", "verify_prometheus"]


def collect_alerts(session: Session) -> list[alert_watch.SeenAlert]:
    """Every alert pending or firing since Prometheus started, into the report (none when
    Prometheus never started or does not answer)."""
    if not session.prom_base or not session.prom_started or session.rules is None:
        return []
    session.report.alerts_watched = sorted({str(r["alert"]) for g in session.rules.groups for r in g["rules"]})
    try:
        seen = alert_watch.alert_history(session.prom_base, session.prom_started)
    except http.HttpError as exc:
        session.report.notes.append(f"the alerts of the run could not be read from Prometheus: {exc}")
        return []
    session.report.alerts = [{**a.to_dict(), "text": alert_watch.describe(a)} for a in seen]
    return seen


def paging_alerts_fired(session: Session, seen: list[alert_watch.SeenAlert]) -> list[alert_watch.SeenAlert]:
    """The paging alerts that fired, except FlinkTaskManagersMissing when the run starts fewer
    TaskManagers than configured (--max-taskmanagers): that one is expected."""
    local = session.local
    short = local is not None and local.taskmanagers < local.configured_taskmanagers and session.time_scale == 1
    return [
        a for a in seen if a.fired and a.name in PAGING_ALERTS and not (short and a.name == "FlinkTaskManagersMissing")
    ]


def verify_prometheus(session: Session) -> None:
    """Every target up, every rule group loaded and evaluated without error, the availability alerts."""
    local = session.local
    assert local is not None
    expected_targets = sum(1 for s in local.processes if s.reporter_port is not None)

    def targets() -> tuple[list[prometheus.TargetState] | None, str]:
        try:
            states = prometheus.target_states(session.prom_base)
        except http.HttpError:
            return None, "Prometheus not ready"
        up = [t for t in states if t.health == "up"]
        down = "; ".join(f"{t.address} {t.health} {t.error}".strip() for t in states if t.health != "up")
        done = len(up) == expected_targets == len(states)
        return (states if done else None), f"{len(up)}/{expected_targets} up" + (f"; {down}" if down else "")

    states = session.wait("every Prometheus target to be up", targets)
    took = session.mark("prometheus_targets_up")
    session.report.figures["prometheus_targets"] = {"up": len(states), "total": expected_targets}
    session.ok("Prometheus targets", f"{len(states)}/{expected_targets} up after {took:.1f}s")

    assert session.rules is not None
    wanted = [str(g.get("name")) for g in session.rules.groups]
    baseline = {(r.group, r.name): r.last_evaluation for rs in _rules(session).values() for r in rs}

    def rules() -> tuple[dict[str, list[prometheus.RuleState]] | None, str]:
        try:
            groups = prometheus.rule_states(session.prom_base)
        except http.HttpError:
            return None, "Prometheus not ready"
        loaded = [g for g in wanted if g in groups]
        fresh = all(
            r.evaluated and r.last_evaluation != baseline.get((r.group, r.name)) for rs in groups.values() for r in rs
        )
        done = len(loaded) == len(wanted) and fresh
        return (groups if done else None), f"{len(loaded)}/{len(wanted)} groups loaded"

    groups = session.wait("every rule group to be loaded and evaluated", rules)
    took = session.mark("rules_evaluated")
    all_rules = [r for rs in groups.values() for r in rs]
    broken = [f"{r.name} ({r.group}): {r.error}" for r in all_rules if r.health != "ok"]
    session.report.figures["rule_groups"] = {"loaded": len(wanted), "rules": len(all_rules), "unhealthy": len(broken)}
    if broken:
        raise session.fail("alert rules", f"{len(broken)} rule(s) fail to evaluate: " + "; ".join(broken[:3]))
    session.ok(
        "alert rules",
        f"{len(wanted)}/{len(wanted)} groups loaded, {len(all_rules)} rules evaluated without error ({took:.1f}s)",
    )
    _check_alerts(session)


def _rules(session: Session) -> dict[str, list[prometheus.RuleState]]:
    """The rule states Prometheus reports now; none while it does not answer."""
    try:
        return prometheus.rule_states(session.prom_base)
    except http.HttpError:
        return {}


def query_until(session: Session, what: str, expr: str, expected: Callable[[float], bool]) -> float:
    """Query Prometheus until ``expr`` gives one series whose value is ``expected``."""

    def probe() -> tuple[float | None, str]:
        try:
            samples = prometheus.query_vector(session.prom_base, expr)
        except http.HttpError as exc:
            return None, str(exc)
        if len(samples) != 1:
            return None, f"{len(samples)} series"
        value = samples[0][1]
        return (value if expected(value) else None), f"value {value:g}"

    return session.wait(what, probe)


def _check_alerts(session: Session) -> None:
    """The deployment's availability rules see the JobManager and the registered TaskManagers."""
    local = session.local
    assert local is not None
    eff = session.target.effective
    assert session.rules is not None
    sel = f'namespace="{session.rules.namespace_label}", flink_deployment="{eff.deployment}"'
    n, slots = local.taskmanagers, local.slots
    registered = query_until(
        session,
        "Prometheus to see the registered TaskManagers",
        f"max(flink_jobmanager_numRegisteredTaskManagers{{{sel}}})",
        lambda v: v == n,
    )
    total = query_until(
        session,
        "Prometheus to see the slots",
        f"max(flink_jobmanager_taskSlotsTotal{{{sel}}})",
        lambda v: v == n * slots,
    )
    session.report.figures["prometheus_registered_taskmanagers"] = registered
    session.report.figures["prometheus_slots_total"] = total
    # one more evaluation after those samples, then the availability alerts must agree
    before = {(r.group, r.name): r.last_evaluation for rs in _rules(session).values() for r in rs}

    def evaluated_again() -> tuple[dict[str, prometheus.RuleState] | None, str]:
        group = _rules(session).get(session.rules.deployment_group or "" if session.rules else "", [])
        fresh = group and all(r.last_evaluation != before.get((r.group, r.name)) for r in group)
        return ({r.name: r for r in group} if fresh else None), ""

    states = session.wait("one more rule evaluation", evaluated_again)
    details = [f"numRegisteredTaskManagers {registered:g}, taskSlotsTotal {total:g} for {sel}"]
    down = states.get("FlinkJobManagerDown")
    if down is None or down.state != "inactive":
        raise session.fail(
            "availability alerts",
            f"FlinkJobManagerDown is {down.state if down else 'missing'} although the JobManager is up "
            f"(do the rules select the labels {sel}?)",
        )
    details.append("FlinkJobManagerDown inactive")
    missing = states.get("FlinkTaskManagersMissing")
    if missing is not None:
        # the scenarios' rules expect the TaskManagers this run starts
        short = n < local.configured_taskmanagers and session.time_scale == 1
        if short and missing.state not in ("pending", "firing"):
            raise session.fail(
                "availability alerts",
                f"FlinkTaskManagersMissing is {missing.state} with {n} of {local.configured_taskmanagers} "
                "TaskManagers running",
            )
        if not short and missing.state != "inactive":
            raise session.fail(
                "availability alerts", f"FlinkTaskManagersMissing is {missing.state} with every TaskManager up"
            )
        details.append(
            f"FlinkTaskManagersMissing {missing.state}"
            + (f" as expected ({n} of {local.configured_taskmanagers} run locally)" if short else "")
        )
    session.report.figures["alert_states"] = {name: rule.state for name, rule in states.items()}
    session.ok("availability alerts", "; ".join(details))
