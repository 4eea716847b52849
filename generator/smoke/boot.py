"""Start and stop the processes of a smoke run: the JobManager, the TaskManagers and Prometheus.

The JVMs start in parallel from the local Flink distribution's start scripts with the run folder's
configuration; Prometheus starts with the rendered rules while they boot. Every process is
recorded in the report with its pid and ports, and :func:`stop` stops them all and checks that no
process and no port of the run is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from generator.smoke.adapt import ProcessSpec
from generator.smoke.ports import LOOPBACK, port_is_free
from generator.smoke.prepare import write_prometheus_files
from generator.smoke.session import Session
from generator.smoke.supervise import Proc
from generator.smoke.target import scaled_rule_source

__all__ = ["boot_flink", "boot_prometheus", "kill", "restart", "stop"]


def _env(session: Session) -> dict[str, str]:
    """The environment of every process: the run folder's configuration, logs and pid files."""
    env = {
        **os.environ,
        "FLINK_CONF_DIR": str(session.run_dir / "conf"),
        "FLINK_LOG_DIR": str(session.run_dir / "log"),
        "FLINK_PID_DIR": str(session.run_dir / "pid"),
    }
    env.pop("FLINK_HOME", None)
    return env


def boot_flink(session: Session) -> None:
    """Start the JobManager and the TaskManagers; the run's deadline counts from here."""
    local = session.local
    assert local is not None
    session.t0 = time.monotonic()
    session.deadline = session.t0 + session.timeout
    for spec in local.processes:
        session.flink[spec.name] = _start(session, spec, spec.name)
    session.rest = f"http://{LOOPBACK}:{local.rest_port}"
    _record_processes(session)
    tms = local.taskmanagers
    session.progress(
        f"started the JobManager and {tms} TaskManager{'s' if tms != 1 else ''} (REST {session.rest})", True
    )


def _start(session: Session, spec: ProcessSpec, name: str) -> Proc:
    script = "jobmanager.sh" if spec.component == "jobmanager" else "taskmanager.sh"
    dynamic = [arg for key, value in spec.dynamic.items() for arg in ("-D", f"{key}={value}")]
    return session.sup.start(
        name,
        ["bash", str(session.tools.flink_home / "bin" / script), "start-foreground", *dynamic],
        env=_env(session),
        log=session.run_dir / "out" / f"{name}.out",
    )


def kill(session: Session, name: str) -> None:
    """SIGKILL one process of the run on purpose (a fault, a crash); its exit is no no-go."""
    proc = session.flink[name]
    session.stopped_on_purpose.add(proc.name)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.popen.wait(timeout=10)


def restart(session: Session, name: str) -> None:
    """Start a killed process again with its own configuration and ports (a pod restart)."""
    local = session.local
    assert local is not None
    spec = next(s for s in local.processes if s.name == name)
    count = sum(1 for p in session.sup.procs if p.name.startswith(name))
    session.flink[name] = _start(session, spec, f"{name}-restart{count}")
    _record_processes(session)


def boot_prometheus(session: Session) -> None:
    """Render the rules (while the JVMs start), then start Prometheus with them."""
    local = session.local
    assert local is not None
    session.progress("rendering the alert rules", False)
    if session.time_scale > 1:
        rules = scaled_rule_source(session.target.effective, session.time_scale, local.taskmanagers)
    else:
        rules = session.target.load_rules()
    session.rules = rules
    session.report.rules_origin = rules.origin
    if rules.deployment_group is None:
        raise session.fail(
            "alert rules",
            f"the rules ({rules.origin}) have no group for deployment {session.target.effective.deployment}",
        )
    write_prometheus_files(session, local, rules)
    prom_port = session.ports.pick()
    prom_dir = session.run_dir / "prometheus"
    session.prom = session.sup.start(
        "prometheus",
        [
            session.tools.prometheus,
            f"--config.file={prom_dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={prom_dir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{prom_port}",
        ],
        env=_env(session),
        log=session.run_dir / "out" / "prometheus.out",
    )
    session.prom_started = time.time()
    session.report.figures["prometheus_started"] = round(session.prom_started, 3)
    session.prom_base = f"http://{LOOPBACK}:{prom_port}"
    session.prom_port = prom_port
    _record_processes(session)
    session.progress(f"started Prometheus ({session.prom_base}) with {len(rules.groups)} rule groups", True)


def _record_processes(session: Session) -> None:
    """The processes started so far, their pids and ports, into the report."""
    local = session.local
    assert local is not None
    by_spec = {spec.name: spec.ports for spec in local.processes}
    ports = {p.name: by_spec.get(p.name.split("-restart")[0], []) for p in session.sup.procs}
    ports["jobmanager"] = sorted({*local.shared_ports, *ports["jobmanager"]})
    if session.prom_port:
        ports["prometheus"] = [session.prom_port]
    session.report.processes = [
        {"name": p.name, "pid": p.pid, "ports": ports.get(p.name, [])} for p in session.sup.procs
    ]
    session.report.ports = sorted({port for listed in ports.values() for port in listed})


def stop(session: Session) -> None:
    """Stop every process of the run and check that they and their ports are gone."""
    started = time.monotonic()
    if session.sup.procs:
        session.progress(f"stopping {len(session.sup.procs)} processes", False)
    killed = session.sup.stop_all()
    session.report.timings["stop"] = round(time.monotonic() - started, 2)
    for entry, proc in zip(session.report.processes, session.sup.procs, strict=False):
        entry["exit_code"] = proc.returncode()
    survivors = [p.name for p in session.sup.procs if p.returncode() is None]
    deadline = time.monotonic() + 10
    busy = [p for p in session.report.ports if not port_is_free(p, reuse=True)]
    while busy and time.monotonic() < deadline:
        time.sleep(0.2)
        busy = [p for p in busy if not port_is_free(p, reuse=True)]
    session.report.figures["cleanup"] = {
        "processes": len(session.sup.procs),
        "killed": [p.name for p in killed],
        "survivors": survivors,
        "ports_in_use": busy,
    }
    if survivors or busy:
        session.report.go = False
        session.report.reason = session.report.reason or (
            f"cleanup: processes still running {survivors}, ports still in use {busy}"
        )
    elif session.sup.procs:
        session.progress(
            f"stopped {len(session.sup.procs)} processes in {session.report.timings['stop']:.1f}s; "
            f"{len(session.report.ports)} ports free again",
            True,
        )
