"""One smoke run: adapt, boot, check, stop, report.

The run boots one JobManager, the TaskManagers and a Prometheus at once (the JVMs start in
parallel), then checks, in order, each with the run's deadline:

1. the JobManager's REST API answers ``/overview``;
2. every TaskManager registered: ``/overview`` and ``/taskmanagers`` count them, each has the
   configured slots, ``slots-total`` = TaskManagers x slots, the memory Flink computed for a
   TaskManager and the JobManager JVM's memory flags equal gen's memory model to the byte;
3. each process' Prometheus reporter answers with ``flink_*`` series;
4. Prometheus: every target up, every rule group loaded and evaluated on the live series without
   an error; the deployment's availability rules see the JobManager and the registered
   TaskManagers (the label contract holds);
5. optionally (``--job``) a tiny job completes a checkpoint, also seen in Prometheus.

The first failing check is the no-go reason; a process that exits early is one too, with Flink's
own error from its output. Every process is stopped at the end, also on failure and interruption.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from generator import units
from generator.errors import GenError
from generator.flink.memory import MemoryConfigError, format_size
from generator.flink.memory_jobmanager import jobmanager_memory
from generator.flink.memory_taskmanager import taskmanager_memory
from generator.smoke import http, job, prometheus
from generator.smoke.adapt import Adaptation, LocalConfig, adapt
from generator.smoke.ports import LOOPBACK, PortPicker, port_is_free
from generator.smoke.supervise import Proc, Supervisor, interruptible, shielded
from generator.smoke.target import RuleSource, SmokeTarget
from generator.smoke.tools import Tools

__all__ = [
    "DEFAULT_MAX_TASKMANAGERS",
    "DEFAULT_TIMEOUT",
    "Check",
    "SmokeInterrupted",
    "SmokeOptions",
    "SmokeReport",
    "flink_errors",
    "format_report",
    "run_smoke",
    "summarize",
]

DEFAULT_MAX_TASKMANAGERS = 4
DEFAULT_TIMEOUT = 180.0
_POLL = 0.25
T = TypeVar("T")
Progress = Callable[[str, bool], None]  # (text, done): a finished step when done, else what it waits for


def _silent(text: str, done: bool) -> None:
    return None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class SmokeOptions:
    max_taskmanagers: int = DEFAULT_MAX_TASKMANAGERS
    job: bool = False
    timeout: float = DEFAULT_TIMEOUT  # seconds from the start of the processes to the last check
    keep: bool = False  # keep the run folder (configuration, logs, checkpoints)
    fast_jvm: bool = True  # adapt.FAST_JVM_OPTS
    work_root: Path | None = None  # where the run folder is created (default: the temp folder)


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


class _NoGo(Exception):
    def __init__(self, reason: str, errors: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


# ---------------------------------------------------------------------------------------------
# Flink's own errors


_THROWABLE = re.compile(
    r'^(?:Exception in thread "[^"]*" |Caused by: )?'
    r"(?P<cls>(?:[A-Za-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error))(?::\s?(?P<msg>.*))?$"
)
_PROMETHEUS_ERROR = re.compile(r"level=error .*?msg=(?P<msg>\"[^\"]*\"|\S+)(?: .*?err=(?P<err>\"[^\"]*\"|\S+))?")


_NOISE = ("java.lang.NoClassDefFoundError", "java.lang.ClassNotFoundException")


def flink_errors(output: str, limit: int = 4) -> list[str]:
    """The exceptions in a Flink process' output, each once, as ``Class: message``: in order of
    appearance (an exception, then its causes), except that class-loading errors come last (a JVM
    that shuts down after a failure often cannot load classes any more: noise, not the cause)."""
    found: list[str] = []
    for line in output.splitlines():
        match = _THROWABLE.match(line.strip())
        if match is None:
            continue
        message = match["msg"] or ""
        # a cause whose message the outer exception already quotes adds nothing
        if any(message and message in earlier for earlier in found):
            continue
        text = match["cls"] + (f": {message}" if message else "")
        if text not in found:
            found.append(text)
    if not found:
        found = [line.strip() for line in output.splitlines() if line.startswith("[ERROR]")]
    main = [e for e in found if not e.startswith(_NOISE)]
    return (main + [e for e in found if e.startswith(_NOISE)])[:limit]


def summarize(errors: list[str]) -> str:
    """One line: the first error and, when there is one, the last real cause."""
    main = [e for e in errors if not e.startswith(_NOISE)] or errors
    if not main:
        return ""
    return main[0] + (f" (cause: {main[-1]})" if len(main) > 1 else "")


def prometheus_errors(output: str, limit: int = 3) -> list[str]:
    found: list[str] = []
    for line in output.splitlines():
        match = _PROMETHEUS_ERROR.search(line)
        if match:
            text = match["msg"].strip('"') + (f": {match['err'].strip(chr(34))}" if match["err"] else "")
            if text not in found:
                found.append(text)
    return found[:limit]


# ---------------------------------------------------------------------------------------------
# the run


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


class _Run:
    def __init__(self, target: SmokeTarget, tools: Tools, options: SmokeOptions, progress: Progress) -> None:
        self.target = target
        self.tools = tools
        self.options = options
        self.progress = progress
        eff = target.effective
        self.report = SmokeReport(
            deployment=eff.deployment,
            namespace=eff.namespace,
            env=eff.env,
            profile=eff.profile,
            flink_configured=eff.flink_version,
            flink_local=tools.flink_version,
            flink_home=str(tools.flink_home),
            java=tools.java_version,
            prometheus=tools.prometheus_version,
            rules_origin="",
            notes=list(target.notes),
        )
        self.run_dir = Path(tempfile.mkdtemp(prefix="gen-smoke-", dir=options.work_root))
        self.sup = Supervisor(self.run_dir)
        self.ports = PortPicker()
        self.local: LocalConfig | None = None
        self.flink: dict[str, Proc] = {}
        self.prom: Proc | None = None
        self.prom_base = ""
        self.prom_port = 0
        self.rules: RuleSource | None = None
        self.rest = ""
        self.t0 = time.monotonic()
        self.deadline = self.t0 + options.timeout
        self.jar: Path | None = None

    # -- helpers --------------------------------------------------------------------------------

    def _ok(self, name: str, detail: str) -> None:
        self.report.checks.append(Check(name, True, detail))
        self.progress(f"ok  {name}: {detail}", True)

    def _fail(self, name: str, detail: str, errors: list[str] | None = None) -> _NoGo:
        self.report.checks.append(Check(name, False, detail))
        self.progress(f"FAIL {name}: {detail}", True)
        return _NoGo(f"{name}: {detail}", errors)

    def _mark(self, name: str) -> float:
        elapsed = round(time.monotonic() - self.t0, 2)
        self.report.timings[name] = elapsed
        return elapsed

    def _check_alive(self, waiting_for: str) -> None:
        for proc in self.sup.exited():
            output = proc.output()
            if proc is self.prom:
                errors = prometheus_errors(output) or output.strip().splitlines()[-3:]
            else:
                errors = flink_errors(output) or output.strip().splitlines()[-3:]
            said = f"; {'Prometheus' if proc is self.prom else 'Flink'} says: {summarize(errors)}" if errors else ""
            raise self._fail(
                f"{proc.name} running",
                f"{proc.name} exited with code {proc.returncode()} (gen smoke was waiting for {waiting_for}){said}",
                errors,
            )

    def _wait(self, what: str, probe: Callable[[], tuple[T | None, str]]) -> T:
        """Poll ``probe`` (result or None, and a status text) until it gives a result."""
        while True:
            self._check_alive(what)
            result, status = probe()
            if result is not None:
                return result
            # every poll: the caller decides how often to show it
            self.progress(f"waiting for {what}" + (f" ({status})" if status else ""), False)
            if time.monotonic() > self.deadline:
                errors = [e for p in self.flink.values() for e in flink_errors(p.output(), 2)]
                raise self._fail(
                    what,
                    f"not reached within {self.options.timeout:.0f}s" + (f"; last: {status}" if status else ""),
                    errors,
                )
            time.sleep(_POLL)

    # -- steps ----------------------------------------------------------------------------------

    def prepare(self) -> None:
        eff = self.target.effective
        local = adapt(
            eff.flink_conf,
            jobmanager_memory_size=self.target.memory("jobmanager"),
            taskmanager_memory_size=self.target.memory("taskmanager"),
            taskmanagers=self.target.taskmanagers,
            max_taskmanagers=self.options.max_taskmanagers,
            run_dir=self.run_dir,
            local_version=self.tools.flink_version_tuple,
            ports=self.ports,
            dist_java_opts=_dist_java_opts(self.tools.flink_home),
            fast_jvm=self.options.fast_jvm,
        )
        self.local = local
        self.report.adaptations = list(local.adaptations)
        self.report.figures.update(
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
        if eff.flink_version != self.tools.flink_version and not self.tools.flink_version.startswith(
            eff.flink_version + "."
        ):
            self.report.notes.append(
                f"the deployment runs Flink {eff.flink_version}; this machine has Flink {self.tools.flink_version}: "
                f"keys are written as Flink {self.tools.flink_version} reads them, version differences are not covered"
            )
        self.report.notes.append("the Prometheus reporter listens on every interface (Flink has no bind option)")
        self.report.notes.append("CPU requests and limits are not applied locally")
        for plan in local.memory.values():
            if plan.model_error:
                self.report.notes.append(
                    f"gen's memory model expects Flink to refuse the {plan.process}: {plan.model_error}"
                )
        for name, plan in local.memory.items():
            self.progress(f"{name} memory: {plan.describe()}", True)
        self.progress(f"adapted {len(local.adaptations)} settings for this machine", True)
        if local.reporter is None:
            raise self._fail(
                "Prometheus reporter",
                "the configuration enables no Prometheus reporter (metrics.reporter.<name>.factory.class: "
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory)",
            )
        self._write_flink_files(local)

    def compile_job(self) -> None:
        """javac runs while the JVMs start."""
        assert self.tools.javac is not None
        self.progress("compiling the smoke job with javac", False)
        try:
            self.jar = job.build_jar(self.tools.javac, self.tools.flink_home, self.run_dir / "job")
        except job.JobError as exc:
            raise self._fail("smoke job", str(exc)) from None
        self._ok("smoke job", f"compiled {self.jar.name} ({self.jar.stat().st_size} bytes)")

    def _write_flink_files(self, local: LocalConfig) -> None:
        conf_dir = self.run_dir / "conf"
        conf_dir.mkdir(parents=True)
        (conf_dir / "config.yaml").write_text(
            yaml.safe_dump(local.conf, sort_keys=True, default_flow_style=False, width=1_000_000), encoding="utf-8"
        )
        dist_conf = self.tools.flink_home / "conf"
        for pattern in ("log4j*.properties", "logback*.xml"):
            for path in sorted(dist_conf.glob(pattern)):
                shutil.copyfile(path, conf_dir / path.name)
        for folder in ("tmp", "web", "pid", "log", "storage"):
            (self.run_dir / folder).mkdir(exist_ok=True)

    def _write_prometheus_files(self, local: LocalConfig, rules: RuleSource) -> None:
        eff = self.target.effective
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
        prom_dir = self.run_dir / "prometheus"
        prom_dir.mkdir()
        (prom_dir / "rules.yaml").write_text(prometheus.dump(prometheus.rules_document(rules.groups)), encoding="utf-8")
        (prom_dir / "prometheus.yml").write_text(
            prometheus.dump(prometheus.config_document(targets, "rules.yaml")), encoding="utf-8"
        )

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "FLINK_CONF_DIR": str(self.run_dir / "conf"),
            "FLINK_LOG_DIR": str(self.run_dir / "log"),
            "FLINK_PID_DIR": str(self.run_dir / "pid"),
        }
        env.pop("FLINK_HOME", None)
        return env

    def boot_flink(self) -> None:
        local = self.local
        assert local is not None
        home = self.tools.flink_home
        env = self._env()
        self.t0 = time.monotonic()
        self.deadline = self.t0 + self.options.timeout
        for spec in local.processes:
            script = "jobmanager.sh" if spec.component == "jobmanager" else "taskmanager.sh"
            dynamic = [arg for key, value in spec.dynamic.items() for arg in ("-D", f"{key}={value}")]
            self.flink[spec.name] = self.sup.start(
                spec.name,
                ["bash", str(home / "bin" / script), "start-foreground", *dynamic],
                env=env,
                log=self.run_dir / "out" / f"{spec.name}.out",
            )
        self.rest = f"http://{LOOPBACK}:{local.rest_port}"
        self._record_processes()
        tms = local.taskmanagers
        self.progress(f"started the JobManager and {tms} TaskManager{'s' if tms != 1 else ''} (REST {self.rest})", True)

    def boot_prometheus(self) -> None:
        """Render the rules (while the JVMs start), then start Prometheus with them."""
        local = self.local
        assert local is not None
        self.progress("rendering the alert rules", False)
        rules = self.target.load_rules()
        self.rules = rules
        self.report.rules_origin = rules.origin
        if rules.deployment_group is None:
            raise self._fail(
                "alert rules",
                f"the rules ({rules.origin}) have no group for deployment {self.target.effective.deployment}",
            )
        self._write_prometheus_files(local, rules)
        prom_port = self.ports.pick()
        prom_dir = self.run_dir / "prometheus"
        self.prom = self.sup.start(
            "prometheus",
            [
                self.tools.prometheus,
                f"--config.file={prom_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={prom_dir / 'data'}",
                f"--web.listen-address={LOOPBACK}:{prom_port}",
            ],
            env=self._env(),
            log=self.run_dir / "out" / "prometheus.out",
        )
        self.prom_base = f"http://{LOOPBACK}:{prom_port}"
        self.prom_port = prom_port
        self._record_processes()
        self.progress(f"started Prometheus ({self.prom_base}) with {len(rules.groups)} rule groups", True)

    def _record_processes(self) -> None:
        local = self.local
        assert local is not None
        ports = {spec.name: spec.ports for spec in local.processes}
        ports["jobmanager"] = sorted({*local.shared_ports, *ports["jobmanager"]})
        if self.prom_port:
            ports["prometheus"] = [self.prom_port]
        self.report.processes = [{"name": p.name, "pid": p.pid, "ports": ports.get(p.name, [])} for p in self.sup.procs]
        self.report.ports = sorted({port for listed in ports.values() for port in listed})

    def verify_cluster(self) -> None:
        local = self.local
        assert local is not None

        def overview() -> tuple[dict[str, Any] | None, str]:
            try:
                data = http.get_json(f"{self.rest}/overview")
            except http.HttpError as exc:
                return None, "no answer yet" if exc.status is None else str(exc)
            return (data if isinstance(data, dict) else None), ""

        first = self._wait(f"the JobManager REST API on {self.rest}", overview)
        took = self._mark("jobmanager_rest")
        self._ok("JobManager REST /overview", f"answered after {took:.1f}s, Flink {first.get('flink-version')}")
        if first.get("flink-version") != self.tools.flink_version:
            raise self._fail(
                "Flink version", f"/overview says {first.get('flink-version')}, not {self.tools.flink_version}"
            )

        n = local.taskmanagers

        def registered() -> tuple[list[dict[str, Any]] | None, str]:
            # a TaskManager is listed as soon as it registers and reports its slots just after
            try:
                listing = http.get_json(f"{self.rest}/taskmanagers")
            except http.HttpError as exc:
                return None, str(exc)
            tms = listing.get("taskmanagers", []) if isinstance(listing, dict) else []
            ready = [tm for tm in tms if int(tm.get("slotsNumber", 0)) > 0]
            return (tms if len(ready) >= n else None), f"{len(tms)}/{n} registered, {len(ready)} with slots"

        tms = self._wait("the TaskManagers to register", registered)
        took = self._mark("taskmanagers_registered")
        try:
            data = http.get_json(f"{self.rest}/overview")
        except http.HttpError as exc:
            raise self._fail("JobManager REST /overview", str(exc)) from None
        count, slots_total = int(data["taskmanagers"]), int(data["slots-total"])
        self.report.figures.update({"taskmanagers_registered": count, "slots_total": slots_total})
        configured = f"{local.configured_taskmanagers} configured" + (
            f", capped to {n} by --max-taskmanagers" if n < local.configured_taskmanagers else ""
        )
        if count != n:
            raise self._fail("TaskManagers", f"/overview counts {count}, expected {n} ({configured})")
        slots = sorted({int(tm.get("slotsNumber", -1)) for tm in tms})
        if len(tms) != n or slots != [local.slots]:
            raise self._fail(
                "TaskManagers (/taskmanagers)", f"{len(tms)} listed with slots {slots}; expected {n} x {local.slots}"
            )
        self._ok(
            "TaskManagers (/taskmanagers)", f"{n} registered after {took:.1f}s ({configured}), {local.slots} slots each"
        )
        if slots_total != n * local.slots:
            raise self._fail("slots-total", f"{slots_total}, expected {n} x {local.slots} = {n * local.slots}")
        self._ok("slots-total", f"{slots_total} = {n} TaskManager{'s' if n != 1 else ''} x {local.slots} slots")
        self._check_memory(tms[0].get("memoryConfiguration", {}))
        self._check_jobmanager_memory()

    def _check_memory(self, flink: Mapping[str, Any]) -> None:
        local = self.local
        assert local is not None
        model = taskmanager_memory({**self.target.effective.flink_conf, **local.memory["taskmanager"].conf})
        expected = {
            "frameworkHeap": model.framework_heap,
            "taskHeap": model.task_heap,
            "frameworkOffHeap": model.framework_off_heap,
            "taskOffHeap": model.task_off_heap,
            "networkMemory": model.network,
            "managedMemory": model.managed,
            "jvmMetaspace": model.jvm_metaspace,
            "jvmOverhead": model.jvm_overhead,
            "totalFlinkMemory": model.total_flink,
            "totalProcessMemory": model.total_process,
        }
        actual = {key: int(flink.get(key, -1)) for key in expected}
        self.report.figures["taskmanager_memory"] = actual
        differ = [f"{key} {actual[key]} != {value}" for key, value in expected.items() if actual[key] != value]
        if differ:
            raise self._fail("TaskManager memory", "Flink and gen's memory model differ: " + ", ".join(differ))
        self._ok(
            "TaskManager memory",
            f"Flink's figures equal gen's memory model to the byte (process {format_size(model.total_process)}, "
            f"heap {format_size(model.jvm_heap)}, managed {format_size(model.managed)}, "
            f"network {format_size(model.network)})",
        )

    def _check_jobmanager_memory(self) -> None:
        """The JobManager JVM's real memory flags (/jobmanager/environment) against gen's model."""
        local = self.local
        assert local is not None
        try:
            model = jobmanager_memory({**self.target.effective.flink_conf, **local.memory["jobmanager"].conf})
        except MemoryConfigError as exc:  # Flink started it, so the model is wrong
            raise self._fail("JobManager memory", f"gen's memory model refuses what Flink ran: {exc}") from None
        try:
            environment = http.get_json(f"{self.rest}/jobmanager/environment")
        except http.HttpError as exc:
            raise self._fail("JobManager memory", str(exc)) from None
        options = environment.get("jvm", {}).get("options", []) if isinstance(environment, dict) else []
        flags = [
            o for o in options if o.startswith(("-Xmx", "-Xms", "-XX:MaxMetaspaceSize", "-XX:MaxDirectMemorySize"))
        ]
        expected = model.jvm_args().split()
        self.report.figures["jobmanager_jvm_memory_flags"] = flags
        if sorted(flags) != sorted(expected):
            raise self._fail(
                "JobManager memory",
                f"the JVM runs with {' '.join(flags)}; gen's memory model says {' '.join(expected)}",
            )
        self._ok(
            "JobManager memory",
            f"the JVM's flags equal gen's memory model ({' '.join(expected)}: heap {format_size(model.jvm_heap)})",
        )

    def verify_reporters(self) -> None:
        local = self.local
        assert local is not None
        series: dict[str, int] = {}
        for spec in local.processes:
            if spec.reporter_port is None:
                continue
            url = f"http://{LOOPBACK}:{spec.reporter_port}/metrics"
            marker = "flink_jobmanager_" if spec.component == "jobmanager" else "flink_taskmanager_"

            def scrape(url: str = url, marker: str = marker) -> tuple[int | None, str]:
                try:
                    text = http.get_text(url)
                except http.HttpError as exc:
                    return None, str(exc)
                lines = [ln for ln in text.splitlines() if ln.startswith("flink_")]
                return (len(lines) if any(ln.startswith(marker) for ln in lines) else None), f"{len(lines)} series"

            count = self._wait(f"the Prometheus reporter of {spec.name} on {url}", scrape)
            series[spec.name] = count
            self._ok(f"reporter {spec.name}", f"127.0.0.1:{spec.reporter_port} serves {count} flink_* series")
        self.report.figures["reporter_series"] = series

    def verify_prometheus(self) -> None:
        local = self.local
        assert local is not None
        expected_targets = sum(1 for s in local.processes if s.reporter_port is not None)

        def targets() -> tuple[list[prometheus.TargetState] | None, str]:
            try:
                states = prometheus.target_states(self.prom_base)
            except http.HttpError:
                return None, "Prometheus not ready"
            up = [t for t in states if t.health == "up"]
            down = "; ".join(f"{t.address} {t.health} {t.error}".strip() for t in states if t.health != "up")
            done = len(up) == expected_targets == len(states)
            return (states if done else None), f"{len(up)}/{expected_targets} up" + (f"; {down}" if down else "")

        states = self._wait("every Prometheus target to be up", targets)
        took = self._mark("prometheus_targets_up")
        self.report.figures["prometheus_targets"] = {"up": len(states), "total": expected_targets}
        self._ok("Prometheus targets", f"{len(states)}/{expected_targets} up after {took:.1f}s")

        assert self.rules is not None
        wanted = [str(g.get("name")) for g in self.rules.groups]
        baseline = {(r.group, r.name): r.last_evaluation for rs in self._rules().values() for r in rs}

        def rules() -> tuple[dict[str, list[prometheus.RuleState]] | None, str]:
            try:
                groups = prometheus.rule_states(self.prom_base)
            except http.HttpError:
                return None, "Prometheus not ready"
            loaded = [g for g in wanted if g in groups]
            fresh = all(
                r.evaluated and r.last_evaluation != baseline.get((r.group, r.name))
                for rs in groups.values()
                for r in rs
            )
            done = len(loaded) == len(wanted) and fresh
            return (groups if done else None), f"{len(loaded)}/{len(wanted)} groups loaded"

        groups = self._wait("every rule group to be loaded and evaluated", rules)
        took = self._mark("rules_evaluated")
        all_rules = [r for rs in groups.values() for r in rs]
        broken = [f"{r.name} ({r.group}): {r.error}" for r in all_rules if r.health != "ok"]
        self.report.figures["rule_groups"] = {"loaded": len(wanted), "rules": len(all_rules), "unhealthy": len(broken)}
        if broken:
            raise self._fail("alert rules", f"{len(broken)} rule(s) fail to evaluate: " + "; ".join(broken[:3]))
        self._ok(
            "alert rules",
            f"{len(wanted)}/{len(wanted)} groups loaded, {len(all_rules)} rules evaluated without error ({took:.1f}s)",
        )
        self._check_alerts()

    def _rules(self) -> dict[str, list[prometheus.RuleState]]:
        try:
            return prometheus.rule_states(self.prom_base)
        except http.HttpError:
            return {}

    def _query_until(self, what: str, expr: str, expected: Callable[[float], bool]) -> float:
        def probe() -> tuple[float | None, str]:
            try:
                samples = prometheus.query_vector(self.prom_base, expr)
            except http.HttpError as exc:
                return None, str(exc)
            if len(samples) != 1:
                return None, f"{len(samples)} series"
            value = samples[0][1]
            return (value if expected(value) else None), f"value {value:g}"

        return self._wait(what, probe)

    def _check_alerts(self) -> None:
        local = self.local
        assert local is not None
        eff = self.target.effective
        assert self.rules is not None
        sel = f'namespace="{self.rules.namespace_label}", flink_deployment="{eff.deployment}"'
        n, slots = local.taskmanagers, local.slots
        registered = self._query_until(
            "Prometheus to see the registered TaskManagers",
            f"max(flink_jobmanager_numRegisteredTaskManagers{{{sel}}})",
            lambda v: v == n,
        )
        total = self._query_until(
            "Prometheus to see the slots", f"max(flink_jobmanager_taskSlotsTotal{{{sel}}})", lambda v: v == n * slots
        )
        self.report.figures["prometheus_registered_taskmanagers"] = registered
        self.report.figures["prometheus_slots_total"] = total
        # one more evaluation after those samples, then the availability alerts must agree
        before = {(r.group, r.name): r.last_evaluation for rs in self._rules().values() for r in rs}

        def evaluated_again() -> tuple[dict[str, prometheus.RuleState] | None, str]:
            group = self._rules().get(self.rules.deployment_group or "" if self.rules else "", [])
            fresh = group and all(r.last_evaluation != before.get((r.group, r.name)) for r in group)
            return ({r.name: r for r in group} if fresh else None), ""

        states = self._wait("one more rule evaluation", evaluated_again)
        details = [f"numRegisteredTaskManagers {registered:g}, taskSlotsTotal {total:g} for {sel}"]
        down = states.get("FlinkJobManagerDown")
        if down is None or down.state != "inactive":
            raise self._fail(
                "availability alerts",
                f"FlinkJobManagerDown is {down.state if down else 'missing'} although the JobManager is up "
                f"(do the rules select the labels {sel}?)",
            )
        details.append("FlinkJobManagerDown inactive")
        missing = states.get("FlinkTaskManagersMissing")
        if missing is not None:
            short = n < local.configured_taskmanagers
            if short and missing.state not in ("pending", "firing"):
                raise self._fail(
                    "availability alerts",
                    f"FlinkTaskManagersMissing is {missing.state} with {n} of {local.configured_taskmanagers} "
                    "TaskManagers running",
                )
            if not short and missing.state != "inactive":
                raise self._fail(
                    "availability alerts", f"FlinkTaskManagersMissing is {missing.state} with every TaskManager up"
                )
            details.append(
                f"FlinkTaskManagersMissing {missing.state}"
                + (f" as expected ({n} of {local.configured_taskmanagers} run locally)" if short else "")
            )
        self.report.figures["alert_states"] = {name: rule.state for name, rule in states.items()}
        self._ok("availability alerts", "; ".join(details))

    def run_job(self) -> None:
        assert self.jar is not None and self.local is not None
        try:
            job_id = job.submit(self.rest, self.jar)
        except job.JobError as exc:
            raise self._fail("smoke job", str(exc)) from None
        self._ok("smoke job", f"submitted as {job_id}")
        started = time.monotonic()

        def checkpoint() -> tuple[job.CheckpointCounts | None, str]:
            try:
                state = job.job_state(self.rest, job_id)
                counts = job.checkpoint_counts(self.rest, job_id)
            except http.HttpError as exc:
                return None, str(exc)
            if state in ("FAILED", "FAILING", "RESTARTING", "CANCELED", "FINISHED"):
                failure = job.root_exception(self.rest, job_id)
                raise self._fail("checkpoint", f"the job is {state}" + (f": {failure}" if failure else ""))
            done = counts.completed >= 1
            return (counts if done else None), f"job {state}, {counts.completed} completed, {counts.failed} failed"

        counts = self._wait("a completed checkpoint", checkpoint)
        took = time.monotonic() - started
        self._mark("checkpoint_completed")
        self.report.figures["checkpoints"] = {"completed": counts.completed, "failed": counts.failed}
        self._ok(
            "checkpoint",
            f"{counts.completed} completed {took:.1f}s after submission"
            + (f" ({counts.latest_path})" if counts.latest_path else ""),
        )
        assert self.rules is not None
        sel = f'namespace="{self.rules.namespace_label}", flink_deployment="{self.target.effective.deployment}"'
        seen = self._query_until(
            "Prometheus to see the completed checkpoint",
            f"max(flink_jobmanager_job_numberOfCompletedCheckpoints{{{sel}}})",
            lambda v: v >= 1,
        )
        self._ok("checkpoint metric", f"flink_jobmanager_job_numberOfCompletedCheckpoints = {seen:g} in Prometheus")
        job.cancel(self.rest, job_id)

    def stop(self) -> None:
        started = time.monotonic()
        if self.sup.procs:
            self.progress(f"stopping {len(self.sup.procs)} processes", False)
        killed = self.sup.stop_all()
        self.report.timings["stop"] = round(time.monotonic() - started, 2)
        for entry, proc in zip(self.report.processes, self.sup.procs, strict=False):
            entry["exit_code"] = proc.returncode()
        survivors = [p.name for p in self.sup.procs if p.returncode() is None]
        deadline = time.monotonic() + 10
        busy = [p for p in self.report.ports if not port_is_free(p, reuse=True)]
        while busy and time.monotonic() < deadline:
            time.sleep(0.2)
            busy = [p for p in busy if not port_is_free(p, reuse=True)]
        self.report.figures["cleanup"] = {
            "processes": len(self.sup.procs),
            "killed": [p.name for p in killed],
            "survivors": survivors,
            "ports_in_use": busy,
        }
        if survivors or busy:
            self.report.go = False
            self.report.reason = self.report.reason or (
                f"cleanup: processes still running {survivors}, ports still in use {busy}"
            )
        elif self.sup.procs:
            self.progress(
                f"stopped {len(self.sup.procs)} processes in {self.report.timings['stop']:.1f}s; "
                f"{len(self.report.ports)} ports free again",
                True,
            )


def run_smoke(
    target: SmokeTarget, tools: Tools, options: SmokeOptions | None = None, progress: Progress = _silent
) -> SmokeReport:
    """Boot the target's configuration locally and check it; every started process is stopped
    before this returns or raises (:class:`SmokeInterrupted` on Ctrl-C/SIGTERM/SIGHUP)."""
    options = options or SmokeOptions()
    run = _Run(target, tools, options, progress)
    report = run.report
    interrupted = False
    try:
        with interruptible():
            try:
                run.prepare()
                run.boot_flink()
                run.boot_prometheus()
                if options.job:
                    run.compile_job()
                run.verify_cluster()
                run.verify_reporters()
                run.verify_prometheus()
                if options.job:
                    run.run_job()
                report.go = True
            except _NoGo as exc:
                report.reason = exc.reason
                report.flink_errors = exc.errors
    except KeyboardInterrupt:
        interrupted = True
    finally:
        with shielded():
            run.stop()
            report.timings["total"] = round(time.monotonic() - run.t0, 2)
            if options.keep:
                report.run_dir = str(run.run_dir)
            else:
                shutil.rmtree(run.run_dir, ignore_errors=True)
    if interrupted:
        report.interrupted = True
        report.go = False
        report.reason = "interrupted"
        raise SmokeInterrupted(report)
    return report


# ---------------------------------------------------------------------------------------------
# text


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
