"""The local configuration of a smoke run and the files its processes read.

The deployment's effective Flink configuration is adapted to this machine (:mod:`generator.smoke.adapt`);
the adaptations, the memory plan and the notes go into the report. Flink's configuration folder and
Prometheus' configuration and rule files are written into the run folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from generator import units
from generator.smoke import prometheus
from generator.smoke.adapt import LocalConfig, adapt
from generator.smoke.ports import LOOPBACK
from generator.smoke.session import Session
from generator.smoke.target import RuleSource

__all__ = ["prepare", "write_prometheus_files"]


def _dist_java_opts(home: Path) -> str | None:
    """``env.java.opts.all`` of the distribution's own config.yaml (the JDK 17 module flags)."""
    try:
        data = yaml.safe_load((home / "conf" / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    node: Any = data
    if isinstance(node, dict) and "env.java.opts.all" in node:
        return str(node["env.java.opts.all"])
    for part in ("env", "java", "opts", "all"):
        node = node.get(part) if isinstance(node, dict) else None
    return str(node) if node else None


def prepare(session: Session, max_taskmanagers: int, fast_jvm: bool) -> None:
    """Adapt the deployment's configuration to this machine and write Flink's configuration folder."""
    eff = session.target.effective
    local = adapt(
        eff.flink_conf,
        jobmanager_memory_size=session.target.memory("jobmanager"),
        taskmanager_memory_size=session.target.memory("taskmanager"),
        taskmanagers=session.target.taskmanagers,
        max_taskmanagers=max_taskmanagers,
        run_dir=session.run_dir,
        local_version=session.tools.flink_version_tuple,
        ports=session.ports,
        dist_java_opts=_dist_java_opts(session.tools.flink_home),
        fast_jvm=fast_jvm,
    )
    session.local = local
    session.report.adaptations = list(local.adaptations)
    session.report.figures.update(
        {
            "taskmanagers_configured": local.configured_taskmanagers,
            "taskmanagers": local.taskmanagers,
            "slots_per_taskmanager": local.slots,
            "slots_expected": local.taskmanagers * local.slots,
            "memory": {
                process: {
                    "configured": units.format_memory(plan.configured),
                    "local": units.format_memory(plan.local),
                    "factor": str(plan.factor),
                    "fractions": dict(plan.fractions),
                }
                for process, plan in local.memory.items()
            },
        }
    )
    if eff.flink_version != session.tools.flink_version and not session.tools.flink_version.startswith(
        eff.flink_version + "."
    ):
        session.report.notes.append(
            f"the deployment runs Flink {eff.flink_version}; this machine has Flink {session.tools.flink_version}: "
            f"keys are written as Flink {session.tools.flink_version} reads them, version differences are not covered"
        )
    session.report.notes.append("the Prometheus reporter listens on every interface (Flink has no bind option)")
    session.report.notes.append("CPU requests and limits are not applied locally")
    for plan in local.memory.values():
        if plan.model_error:
            session.report.notes.append(
                f"gen's memory model expects Flink to refuse the {plan.process}: {plan.model_error}"
            )
    for name, plan in local.memory.items():
        session.progress(f"{name} memory: {plan.describe()}", True)
    session.progress(f"adapted {len(local.adaptations)} settings for this machine", True)
    if local.reporter is None:
        raise session.fail(
            "Prometheus reporter",
            "the configuration enables no Prometheus reporter (metrics.reporter.<name>.factory.class: "
            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory)",
        )
    _write_flink_files(session, local)


def _write_flink_files(session: Session, local: LocalConfig) -> None:
    """Flink's configuration folder (config.yaml and the distribution's logging files) and work folders."""
    conf_dir = session.run_dir / "conf"
    conf_dir.mkdir(parents=True)
    (conf_dir / "config.yaml").write_text(
        yaml.safe_dump(local.conf, sort_keys=True, default_flow_style=False, width=1_000_000), encoding="utf-8"
    )
    dist_conf = session.tools.flink_home / "conf"
    for pattern in ("log4j*.properties", "logback*.xml"):
        for path in sorted(dist_conf.glob(pattern)):
            shutil.copyfile(path, conf_dir / path.name)
    for folder in ("tmp", "web", "pid", "log", "storage"):
        (session.run_dir / folder).mkdir(exist_ok=True)


def write_prometheus_files(session: Session, local: LocalConfig, rules: RuleSource) -> None:
    """Prometheus' configuration (every reporter a target, with the cluster's labels) and rule file."""
    eff = session.target.effective
    labels = {"namespace": rules.namespace_label, "flink_deployment": eff.deployment}
    targets = [
        prometheus.ScrapeTarget(
            f"{LOOPBACK}:{spec.reporter_port}",
            {
                **labels,
                "component": spec.component,
                "pod": f"{eff.deployment}-{spec.name if spec.component == 'taskmanager' else 'jobmanager-0'}",
            },
        )
        for spec in local.processes
        if spec.reporter_port is not None
    ]
    prom_dir = session.run_dir / "prometheus"
    prom_dir.mkdir()
    (prom_dir / "rules.yaml").write_text(prometheus.dump(prometheus.rules_document(rules.groups)), encoding="utf-8")
    (prom_dir / "prometheus.yml").write_text(
        prometheus.dump(prometheus.config_document(targets, "rules.yaml")), encoding="utf-8"
    )
