"""gen smoke: the configuration adaptation, and real runs of a local Flink and Prometheus.

The integration tests run the real ``gen smoke`` (a subprocess, so signals and the console script
path are real) against the Flink 2.3.0 distribution of the PyFlink wheels, Java and the Debian
Prometheus that the test command installs; nothing is skipped when a tool is missing. Each run
starts at most two TaskManagers (about 300 MB each). After every run the test checks that no
process of the run is left (no process mentions the run's folder) and that every port the run
used is free again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Effective, Resolver
from generator.flink.distribution import find_flink_home, run_calculator
from generator.flink.memory_taskmanager import taskmanager_memory
from generator.smoke import tools as smoke_tools
from generator.smoke.adapt import adapt, plan_memory, prometheus_reporters
from generator.smoke.diagnose import flink_errors, summarize
from generator.smoke.ports import PortPicker, port_is_free
from generator.units import parse_memory
from tests.integration.conftest import own_processes

GiB = 1 << 30
MAX_TMS = 2
TIMEOUT = 480  # seconds; a go takes 15-20 s on an idle 2-core machine, CI machines are often busy
REFERENCE = [
    ("small", "dev"),
    ("small", "prod"),
    ("stateful-heavy", "dev"),
    ("stateful-heavy", "prod"),
    ("high-throughput", "dev"),
    ("high-throughput", "prod"),
]
BROKEN = "spec.template.spec.flinkConfiguration.taskmanager.memory.managed.fraction=0.95"


def _effective(profile: str, env: str) -> Effective:
    repo = ConfigRepo(example_config_dir())
    resolver = Resolver(repo)
    namespace, name = next(p for p in repo.deployments() if resolver.profile_of(*p) == profile)
    return resolver.deployment(env, namespace, name)


def _shape(eff: Effective) -> tuple[int, int]:
    tms = eff.get(("spec", "template", "spec", "numberOfTaskManagers"), 1)
    return int(tms), int(eff.flink_conf.get("taskmanager.numberOfTaskSlots", "1"))


def _adapt(eff: Effective, run_dir: Path, max_tms: int = MAX_TMS) -> Any:
    resources = eff.get(("spec", "template", "spec", "resources"))
    return adapt(
        eff.flink_conf,
        jobmanager_memory_size=resources["jobmanager"]["memory"],
        taskmanager_memory_size=resources["taskmanager"]["memory"],
        taskmanagers=_shape(eff)[0],
        max_taskmanagers=max_tms,
        run_dir=run_dir,
        local_version=(2, 3),
        ports=PortPicker(),
        dist_java_opts="--add-opens=java.base/java.lang=ALL-UNNAMED",
    )


# ---------------------------------------------------------------------------------------------
# adaptation (no processes)


@pytest.mark.parametrize(("profile", "env"), REFERENCE)
def test_memory_shrinks_by_one_factor_and_stays_valid(profile: str, env: str, tmp_path: Path) -> None:
    eff = _effective(profile, env)
    local = _adapt(eff, tmp_path)
    resources = eff.get(("spec", "template", "spec", "resources"))
    for process in ("jobmanager", "taskmanager"):
        plan = local.memory[process]
        configured = parse_memory(resources[process]["memory"])
        assert plan.configured == configured
        assert plan.local == min(configured, GiB)
        assert plan.factor == Fraction(plan.local, configured)
        assert plan.model_error is None
        assert local.conf[f"{process}.memory.process.size"] == "1g"
    tm = local.memory["taskmanager"]
    # fractions are not touched: the local configuration holds the configured ones (or none)
    for key in ("managed.fraction", "network.fraction", "jvm-overhead.fraction"):
        assert local.conf.get(f"taskmanager.memory.{key}") == eff.flink_conf.get(f"taskmanager.memory.{key}")
    assert dict(tm.fractions) == {
        "managed": eff.flink_conf.get("taskmanager.memory.managed.fraction", "0.4"),
        "network": eff.flink_conf.get("taskmanager.memory.network.fraction", "0.1"),
        "JVM overhead": eff.flink_conf.get("taskmanager.memory.jvm-overhead.fraction", "0.1"),
    }
    figures = taskmanager_memory(local.conf)
    assert figures.total_process == GiB
    assert figures.managed / figures.total_flink == pytest.approx(float(dict(tm.fractions)["managed"]), rel=1e-6)


def test_explicit_sizes_shrink_with_the_process_but_fixed_needs_do_not() -> None:
    conf = {
        "taskmanager.memory.managed.size": "4g",
        "taskmanager.memory.network.min": "512m",
        "taskmanager.memory.network.max": "512m",
        "taskmanager.memory.jvm-metaspace.size": "256m",
        "taskmanager.memory.framework.heap.size": "128m",
    }
    plan = plan_memory("taskmanager", conf, 16 * GiB, GiB)
    assert plan.local == GiB and plan.factor == Fraction(1, 16)
    assert plan.conf == {
        "taskmanager.memory.process.size": "1g",
        "taskmanager.memory.managed.size": "256m",
        "taskmanager.memory.network.min": "32m",
        "taskmanager.memory.network.max": "32m",
    }
    assert plan.model_error is None
    assert {c.key for c in plan.changes} == set(plan.conf)


def test_budget_doubles_until_the_shrunk_configuration_is_valid() -> None:
    # 2g of metaspace is a fixed need: at 1g or 2g the process cannot hold it, at 4g it can
    conf = {"taskmanager.memory.jvm-metaspace.size": "2g"}
    plan = plan_memory("taskmanager", conf, 16 * GiB, GiB)
    assert plan.local == 4 * GiB
    assert plan.model_error is None
    taskmanager_memory({**conf, **plan.conf})  # does not raise


def test_a_refused_configuration_stays_refused_for_flink_to_say_why() -> None:
    plan = plan_memory("taskmanager", {"taskmanager.memory.managed.fraction": "0.95"}, 2 * GiB, GiB)
    assert plan.local == GiB
    assert plan.model_error is not None
    assert "exceed configured Total Flink Memory" in plan.model_error


def test_every_adaptation_is_listed_and_ports_are_distinct(tmp_path: Path) -> None:
    eff = _effective("high-throughput", "prod")
    configured_tms, slots = _shape(eff)
    local = _adapt(eff, tmp_path)
    changed = {a.key: a for a in local.adaptations}
    assert local.conf["high-availability.type"] == "NONE"
    assert changed["high-availability.type"].before == "kubernetes"
    assert "high-availability.storageDir" not in local.conf and changed["high-availability.storageDir"].after is None
    assert "kubernetes.jobmanager.replicas" not in local.conf
    for key in ("jobmanager.bind-host", "jobmanager.rpc.address", "taskmanager.host", "rest.bind-address"):
        assert local.conf[key] == "127.0.0.1" and key in changed
    for key in ("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir"):
        assert eff.flink_conf[key].startswith("s3://")
        assert local.conf[key].startswith(tmp_path.as_uri() + "/")
    assert local.conf["io.tmp.dirs"].startswith(str(tmp_path))
    jvm = local.conf["env.java.opts.all"].split()
    assert jvm[0] == "--add-opens=java.base/java.lang=ALL-UNNAMED"
    assert jvm[1:] == ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", f"-Djava.io.tmpdir={tmp_path / 'tmp'}"]
    assert configured_tms > MAX_TMS
    assert changed["spec.template.spec.numberOfTaskManagers"].after == str(MAX_TMS)
    assert local.taskmanagers == MAX_TMS and local.slots == slots
    # one set of ports per process, none shared, none in the shared config.yaml
    assert [p.name for p in local.processes] == ["jobmanager", "taskmanager-1", "taskmanager-2"]
    all_ports = [port for spec in local.processes for port in spec.ports] + list(local.shared_ports)
    assert len(all_ports) == len(set(all_ports)) == len(local.ports)
    for key in ("metrics.reporter.prom.port", "taskmanager.rpc.port", "metrics.internal.query-service.port"):
        assert key not in local.conf
        assert key in changed
    assert all(spec.reporter_port is not None for spec in local.processes)
    assert prometheus_reporters(eff.flink_conf) == ["prom"] and local.reporter == "prom"
    # what was not adapted is kept as configured
    for key in ("execution.checkpointing.interval", "restart-strategy.type", "state.backend.type"):
        assert local.conf[key] == eff.flink_conf[key]


def test_fast_jvm_flags_never_fight_a_configured_gc(tmp_path: Path) -> None:
    eff = _effective("small", "dev")
    conf = {**eff.flink_conf, "env.java.opts.taskmanager": "-XX:+UseG1GC -XX:MaxGCPauseMillis=100"}

    def local(conf: dict[str, str], fast_jvm: bool) -> Any:
        return adapt(
            conf,
            jobmanager_memory_size="1g",
            taskmanager_memory_size="2g",
            taskmanagers=1,
            max_taskmanagers=1,
            run_dir=tmp_path,
            local_version=(2, 3),
            ports=PortPicker(),
            fast_jvm=fast_jvm,
        )

    with_gc = local(conf, True)
    assert "-XX:+UseSerialGC" not in with_gc.conf["env.java.opts.all"]
    assert "-XX:TieredStopAtLevel=1" in with_gc.conf["env.java.opts.all"]
    assert with_gc.conf["env.java.opts.taskmanager"] == "-XX:+UseG1GC -XX:MaxGCPauseMillis=100"
    assert local(eff.flink_conf, False).conf["env.java.opts.all"] == f"-Djava.io.tmpdir={tmp_path / 'tmp'}"


def test_port_picker_avoids_busy_and_ephemeral_ports_and_never_repeats() -> None:
    picker = PortPicker()
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    chosen = [picker.pick() for _ in range(50)]
    assert len(set(chosen)) == 50
    assert all(10_000 <= port < low for port in chosen)


def test_port_picker_takes_a_preferred_port_only_when_free() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        picker = PortPicker()
        assert not port_is_free(taken)
        first = picker.pick(taken)
        assert first != taken
        assert picker.pick(first) != first
    free = picker.pick()
    picker2 = PortPicker()
    assert picker2.pick(free) == free


def test_flink_errors_are_read_from_flinks_own_output() -> None:
    home = find_flink_home()
    assert home is not None
    result = run_calculator(
        home,
        "taskmanager",
        {"taskmanager.memory.process.size": "1g", "taskmanager.memory.managed.fraction": "0.95"},
    )
    assert result.returncode != 0
    errors = flink_errors(result.output)
    assert errors[0].startswith(
        "org.apache.flink.configuration.IllegalConfigurationException: TaskManager memory configuration failed: "
    )
    assert len(errors) == 1  # the cause repeats the message: it is not listed again


def test_missing_tools_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    monkeypatch.setenv("PROMETHEUS", "/nonexistent/prometheus")
    monkeypatch.setattr(smoke_tools.distribution, "find_flink_home", lambda: None)
    monkeypatch.setattr(smoke_tools.shutil, "which", lambda name: None if name == "javac" else "/usr/bin/" + name)
    result = cli("smoke", "--profile", "small", "--env", "dev", "--job")
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "error: no Flink distribution found" in result.stderr
    assert "pip install --no-deps apache-flink==2.3.0 apache-flink-libraries==2.3.0" in result.stderr
    assert "pip install 'generator[smoke]'" in result.stderr
    assert "apt-get install --no-install-recommends prometheus" in result.stderr
    assert "openjdk-17-jdk-headless" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--env", "dev"), "name a --profile or a --deployment"),
        (("--env", "dev", "--profile", "nope"), "nope"),
        (("--env", "dev", "--profile", "small", "--deployment", "fraud-scoring"), "uses profile"),
        (("--env", "nope", "--profile", "small"), "nope"),
    ],
)
def test_bad_input_is_exit_2(cli: Any, args: tuple[str, ...], message: str) -> None:
    result = cli("smoke", *args)
    assert result.code == 2
    assert message in result.stderr


# ---------------------------------------------------------------------------------------------
# real runs


@dataclass
class Run:
    code: int
    report: dict[str, Any]
    stderr: str
    seconds: float


def _assert_clean(report: dict[str, Any], tmp: Path) -> None:
    assert own_processes(str(tmp)) == []
    for proc in report["processes"]:
        with pytest.raises(ProcessLookupError):
            os.kill(proc["pid"], 0)
        assert proc["exit_code"] is not None
    assert report["ports"], "the run reports its ports"
    busy = [p for p in report["ports"] if not port_is_free(p, reuse=True)]
    assert busy == []
    assert report["figures"]["cleanup"]["survivors"] == []
    assert list(tmp.glob("gen-smoke-*")) == []  # the run folder is removed


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}


def _gen_smoke(tmp: Path, *args: str) -> Run:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "generator", "smoke", "--format", "json", *args],
        capture_output=True,
        text=True,
        env=_env(tmp),
        timeout=600,
        check=False,
    )
    seconds = time.monotonic() - started
    assert done.stdout, done.stderr
    return Run(done.returncode, json.loads(done.stdout), done.stderr, seconds)


@pytest.mark.parametrize(("profile", "env"), REFERENCE)
def test_reference_profile_is_go(profile: str, env: str, run_tmp: Path) -> None:
    eff = _effective(profile, env)
    configured_tms, slots = _shape(eff)
    tms = min(configured_tms, MAX_TMS)
    job = (profile, env) == ("stateful-heavy", "prod")  # RocksDB + incremental checkpoints
    args = ["--profile", profile, "--env", env, "--max-taskmanagers", str(MAX_TMS), "--timeout", str(TIMEOUT)]
    args += ["--job"] if job else []
    run = _gen_smoke(run_tmp, *args)
    report = run.report
    print(f"{profile}/{env}: {report['reason'] or 'go'} in {run.seconds:.1f}s, timings {report['timings']}")
    assert run.code == 0, f"{report['reason']}\n{report['flink_errors']}\n{run.stderr[-3000:]}"
    assert report["go"] is True and report["reason"] == ""
    assert report["deployment"] == eff.deployment and report["profile"] == profile
    figures = report["figures"]
    assert figures["taskmanagers_configured"] == configured_tms
    assert figures["taskmanagers_registered"] == tms
    assert figures["slots_per_taskmanager"] == slots
    assert figures["slots_total"] == tms * slots
    assert figures["prometheus_registered_taskmanagers"] == tms
    assert figures["prometheus_slots_total"] == tms * slots
    assert figures["prometheus_targets"] == {"up": tms + 1, "total": tms + 1}
    assert set(figures["reporter_series"]) == {"jobmanager", *(f"taskmanager-{i}" for i in range(1, tms + 1))}
    assert all(count > 20 for count in figures["reporter_series"].values())
    assert figures["rule_groups"]["unhealthy"] == 0 and figures["rule_groups"]["loaded"] >= 2
    assert figures["alert_states"]["FlinkJobManagerDown"] == "inactive"
    expected_missing = "inactive" if tms == configured_tms else "pending"
    assert figures["alert_states"]["FlinkTaskManagersMissing"] == expected_missing
    assert figures["memory"]["taskmanager"]["local"] == "1g"
    assert figures["taskmanager_memory"]["totalProcessMemory"] == GiB
    # what Flink itself made of a 1g JobManager: 1g - 256m metaspace - 192m overhead - 128m off-heap
    assert sorted(figures["jobmanager_jvm_memory_flags"]) == [
        "-XX:MaxMetaspaceSize=268435456",
        "-Xms469762048",
        "-Xmx469762048",
    ]
    keys = {a["key"] for a in report["adaptations"]}
    assert {"high-availability.type", "jobmanager.rpc.address", "execution.checkpointing.dir"} <= keys
    assert "taskmanager.memory.process.size" in keys  # every reference profile shrinks the TaskManager
    names = [c["name"] for c in report["checks"]]
    assert all(c["ok"] for c in report["checks"]), report["checks"]
    assert "Prometheus targets" in names and "alert rules" in names and "slots-total" in names
    if job:
        assert figures["checkpoints"]["completed"] >= 1
        assert "checkpoint metric" in names
    _assert_clean(report, run_tmp)


def test_memory_flink_refuses_is_no_go_with_flinks_own_error(run_tmp: Path) -> None:
    run = _gen_smoke(run_tmp, "--profile", "small", "--env", "dev", "--timeout", str(TIMEOUT), "--set", BROKEN)
    report = run.report
    assert run.code == 1
    assert report["go"] is False
    assert "taskmanager-1 exited with code 1" in report["reason"]
    assert "Flink says: org.apache.flink.configuration.IllegalConfigurationException" in report["reason"]
    assert "TaskManager memory configuration failed" in report["reason"]
    assert report["flink_errors"][0].startswith("org.apache.flink.configuration.IllegalConfigurationException")
    assert any("memory model expects Flink to refuse the taskmanager" in note for note in report["notes"])
    _assert_clean(report, run_tmp)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interruption_stops_every_process(sig: signal.Signals, run_tmp: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "smoke", "-f", "json", "-p", "small", "-e", "dev"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(run_tmp),
    )
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "waiting for the JobManager REST API" in line:
                break
        else:
            raise AssertionError("gen smoke never started the processes")
        time.sleep(1.5)  # the JVMs are starting now
        running = own_processes(str(run_tmp))
        assert len(running) >= 4, running  # gen, the JobManager, the TaskManager, Prometheus (and helpers)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "interrupted: stopped every process gen smoke started" in stderr
    report = json.loads(stdout)
    assert report["interrupted"] is True and report["go"] is False
    assert [p["name"] for p in report["processes"]] == ["jobmanager", "taskmanager-1", "prometheus"]
    _assert_clean(report, run_tmp)


def test_a_failed_start_is_summarized_by_its_cause_not_by_shutdown_noise() -> None:
    # the shape of a JobManager that could not bind its RPC port (seen on a busy machine)
    output = "\n".join(
        [
            'Exception in thread "flink-pekko.actor.default-dispatcher-4" java.lang.NoClassDefFoundError: '
            "org/apache/pekko/actor/dungeon/FaultHandling$$anonfun$handleNonFatalOrInterruptedException$1",
            "Caused by: java.lang.ClassNotFoundException: "
            "org.apache.pekko.actor.dungeon.FaultHandling$$anonfun$handleNonFatalOrInterruptedException$1",
            "2026-11-21 18:27:01,001 ERROR org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - "
            "Could not start cluster entrypoint StandaloneSessionClusterEntrypoint.",
            "org.apache.flink.runtime.entrypoint.ClusterEntrypointException: Failed to initialize the cluster "
            "entrypoint StandaloneSessionClusterEntrypoint.",
            "\tat org.apache.flink.runtime.entrypoint.ClusterEntrypoint.startCluster(ClusterEntrypoint.java:269)",
            "Caused by: java.net.BindException: Could not start actor system on any port in port range 6123",
        ]
    )
    errors = flink_errors(output)
    assert errors[:2] == [
        "org.apache.flink.runtime.entrypoint.ClusterEntrypointException: Failed to initialize the cluster entrypoint "
        "StandaloneSessionClusterEntrypoint.",
        "java.net.BindException: Could not start actor system on any port in port range 6123",
    ]
    assert errors[2].startswith("java.lang.NoClassDefFoundError")
    assert summarize(errors) == (
        f"{errors[0]} (cause: java.net.BindException: Could not start actor system on any port in port range 6123)"
    )
