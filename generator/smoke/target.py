"""Which deployment a smoke run boots, and the alert rule groups it loads into Prometheus."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from generator import model
from generator.config.layers import ConfigRepo
from generator.config.resolve import Effective, Resolver
from generator.config.yamlload import dotted
from generator.errors import UsageError
from generator.flink import options
from generator.model import keys

__all__ = ["RuleSource", "SmokeTarget", "resolve_target", "rule_source", "scaled_rule_source"]


@dataclass(frozen=True)
class RuleSource:
    groups: list[dict[str, Any]]
    origin: str  # the rendered file, or how the groups were built
    namespace_label: str  # value of the `namespace` label the deployment's rules select
    deployment_group: str | None  # name of the deployment's own group (None: the rules have none)


@dataclass(frozen=True)
class SmokeTarget:
    effective: Effective
    # rendering the namespace takes seconds: the run calls this while the JVMs start
    load_rules: Callable[[], RuleSource]
    notes: tuple[str, ...] = field(default=())

    @property
    def taskmanagers(self) -> int:
        return model.of(self.effective).task_managers

    def memory(self, process: str) -> str:
        value = model.of(self.effective).resources[process].memory
        if not value:
            raise UsageError(
                f"deployment {self.effective.deployment} sets no {dotted((*keys.RESOURCES, process, 'memory'))}",
                hint="gen smoke sizes the local processes from the configured process memory",
            )
        return value


def _pick(
    repo: ConfigRepo, resolver: Resolver, profile: str | None, deployment: str | None, namespace: str | None
) -> tuple[str, str, tuple[str, ...]]:
    if profile is None and deployment is None:
        raise UsageError("name a --profile or a --deployment to boot")
    if profile is not None:
        repo.require("profile", profile)
    pairs = [p for p in repo.deployments() if namespace is None or p[0] == namespace]
    if namespace is not None and namespace not in repo.names("namespace"):
        raise UsageError(f"unknown namespace '{namespace}'", hint=f"available: {', '.join(repo.names('namespace'))}")
    if deployment is not None:
        matches = [p for p in pairs if p[1] == deployment]
        if not matches:
            available = ", ".join(sorted({d for _, d in pairs}))
            raise UsageError(f"unknown deployment '{deployment}'", hint=f"available: {available}")
        if len(matches) > 1:
            spaces = ", ".join(ns for ns, _ in matches)
            raise UsageError(
                f"deployment '{deployment}' exists in several namespaces ({spaces})", hint="add --namespace"
            )
        ns, name = matches[0]
        actual = resolver.profile_of(ns, name)
        if profile is not None and actual != profile:
            raise UsageError(f"deployment '{name}' uses profile '{actual}', not '{profile}'")
        return ns, name, ()
    of_profile = [p for p in pairs if resolver.profile_of(*p) == profile]
    if not of_profile:
        listed = ", ".join(f"{n} ({resolver.profile_of(ns, n)})" for ns, n in pairs) or "none"
        raise UsageError(f"no deployment uses profile '{profile}'", hint=f"deployments: {listed}")
    ns, name = of_profile[0]
    notes: tuple[str, ...] = ()
    if len(of_profile) > 1:
        others = ", ".join(f"{o_ns}/{o_name}" for o_ns, o_name in of_profile[1:])
        notes = (
            f"profile {profile} has more deployments ({others}); this run boots {ns}/{name} (pick with --deployment)",
        )
    return ns, name, notes


def resolve_target(
    repo: ConfigRepo,
    resolver: Resolver,
    env: str,
    *,
    profile: str | None = None,
    deployment: str | None = None,
    namespace: str | None = None,
) -> SmokeTarget:
    """The deployment to boot (the first of ``profile`` unless ``deployment`` names one) and its rules."""
    repo.require("environment", env)
    ns, name, notes = _pick(repo, resolver, profile, deployment, namespace)
    eff = resolver.deployment(env, ns, name)
    return SmokeTarget(eff, lambda: rule_source(repo, resolver, env, eff), notes)


def _deployment_group(groups: Sequence[Mapping[str, Any]], deployment: str) -> tuple[str | None, str | None]:
    """(group name, namespace label) of the group whose rules carry ``flink_deployment: deployment``."""
    for group in groups:
        for rule in group.get("rules", []) or []:
            labels = rule.get("labels", {}) or {}
            if labels.get("flink_deployment") == deployment:
                return str(group.get("name")), str(labels.get("namespace", "")) or None
    return None, None


def rule_source(repo: ConfigRepo, resolver: Resolver, env: str, eff: Effective) -> RuleSource:
    """The rule groups of the deployment's namespace: from the rendered PrometheusRule when the
    renderers produce one, else built by :func:`generator.render.alerts.alert_groups` directly."""
    from generator.render.plan import Selection, render_run

    facts = model.of(eff)
    run = render_run(repo, resolver, Selection(env=env, namespace=eff.namespace))
    for out_file in run.files:
        if "PrometheusRule" not in out_file.content:
            continue
        doc = yaml.safe_load(out_file.content)
        if isinstance(doc, dict) and doc.get("kind") == "PrometheusRule":
            groups = list(doc.get("spec", {}).get("groups", []) or [])
            group, label = _deployment_group(groups, eff.deployment)
            return RuleSource(groups, out_file.path, label or facts.kubernetes_namespace, group)

    from generator.render.alerts import alert_groups, alert_settings_from_mapping, alert_target

    try:
        settings = alert_settings_from_mapping(facts.alerts)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    namespace = facts.kubernetes_namespace
    deployments = [d for ctx in run.contexts for d in ctx.deployments if model.of(d).kubernetes_namespace == namespace]
    if eff.deployment not in {d.deployment for d in deployments}:
        deployments.append(eff)
    targets = [alert_target(d.deployment, namespace, model.of(d).task_managers, model.of(d).conf) for d in deployments]
    major = options.parse_version(facts.flink_version)[0]
    groups = alert_groups(namespace, targets, settings, major)
    group, label = _deployment_group(groups, eff.deployment)
    return RuleSource(
        groups, "built with generator.render.alerts (no PrometheusRule is rendered yet)", namespace, group
    )


def scaled_rule_source(eff: Effective, factor: int, taskmanagers: int) -> RuleSource:
    """The deployment's rules on a compressed clock, for --lifecycle and --faults: every duration of
    the environment's alert settings and the checkpoint interval divided by ``factor``, and the
    TaskManagers this run starts as the expected count. The expressions are the rendered ones."""
    from generator.render.alert_settings import scaled
    from generator.render.alerts import AlertTarget, alert_groups, alert_settings_from_mapping, alert_target

    facts = model.of(eff)
    try:
        settings = scaled(alert_settings_from_mapping(facts.alerts), factor)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    namespace = facts.kubernetes_namespace
    full = alert_target(eff.deployment, namespace, taskmanagers, facts.conf)
    interval = full.checkpoint_interval_ms // factor if full.checkpoint_interval_ms else None
    target = AlertTarget(eff.deployment, namespace, taskmanagers, interval, full.tolerable_failed_checkpoints)
    groups = alert_groups(namespace, [target], settings, options.parse_version(facts.flink_version)[0])
    group, _ = _deployment_group(groups, eff.deployment)
    return RuleSource(groups, f"built with generator.render.alerts, durations divided by {factor}", namespace, group)
