"""From a deployment's effective Flink configuration to one that runs on this machine.

Only what cannot run on a laptop changes, and every change is listed as an :class:`Adaptation`:

* memory: each process size shrinks to a budget (1 GiB by default) by one factor per process.
  Fractions stay as configured; sizes that grow with the workload (Total Flink Memory, managed,
  network, task heap/off-heap, JVM overhead min/max, JobManager heap) shrink by the same factor;
  fixed needs of the JVM and of Flink itself (metaspace, framework heap/off-heap, JobManager
  off-heap) stay as configured. When the shrunk configuration is not valid under Flink's memory
  model while the original is, the budget doubles until it is. A configuration Flink refuses at
  its own size is left refused: the real Flink process is the one that says why.
* addresses: every bind and advertised address is 127.0.0.1;
* ports: every process gets its own ports, free ones chosen at random (see ``ports``);
* storage: checkpoints, savepoints, local state and temporary files go to the run folder;
* high availability: Kubernetes HA needs the Kubernetes API; one JobManager runs without HA;
* TLS: keystores only exist in the cluster, so internal/REST TLS is switched off;
* keys Flink 2 removed are dropped when the local distribution is Flink 2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from generator import model, units
from generator.flink import options
from generator.flink.memory import MemoryConfigError
from generator.flink.memory_jobmanager import jobmanager_memory
from generator.flink.memory_taskmanager import taskmanager_memory

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "PROMETHEUS_FACTORY",
    "Adaptation",
    "LocalConfig",
    "MemoryPlan",
    "PortSource",
    "ProcessSpec",
    "adapt",
    "plan_memory",
    "prometheus_reporters",
]

PROMETHEUS_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
DEFAULT_MEMORY_BUDGET: Mapping[str, int] = {"jobmanager": 1 << 30, "taskmanager": 1 << 30}
LOOPBACK = "127.0.0.1"
_MIB = 1 << 20

# Sizes that grow with the workload: they shrink with the process.
_SCALED: Mapping[str, tuple[str, ...]] = {
    "taskmanager": (
        "taskmanager.memory.flink.size",
        "taskmanager.memory.managed.size",
        "taskmanager.memory.network.min",
        "taskmanager.memory.network.max",
        "taskmanager.memory.task.heap.size",
        "taskmanager.memory.task.off-heap.size",
        "taskmanager.memory.jvm-overhead.min",
        "taskmanager.memory.jvm-overhead.max",
    ),
    "jobmanager": (
        "jobmanager.memory.flink.size",
        "jobmanager.memory.heap.size",
        "jobmanager.memory.jvm-overhead.min",
        "jobmanager.memory.jvm-overhead.max",
    ),
}
# Fractions (kept as configured) and Flink's defaults for them.
_FRACTIONS: Mapping[str, tuple[tuple[str, str, str], ...]] = {
    "taskmanager": (
        ("managed", "taskmanager.memory.managed.fraction", "0.4"),
        ("network", "taskmanager.memory.network.fraction", "0.1"),
        ("JVM overhead", "taskmanager.memory.jvm-overhead.fraction", "0.1"),
    ),
    "jobmanager": (("JVM overhead", "jobmanager.memory.jvm-overhead.fraction", "0.1"),),
}

_BIND_KEYS = (
    "jobmanager.bind-host",
    "jobmanager.rpc.address",
    "taskmanager.bind-host",
    "taskmanager.host",
    "rest.address",
    "rest.bind-address",
)
# Keys holding a storage location: (folder in the run folder, written as a file:// URI)
_PATH_KEYS: Mapping[str, tuple[str, bool]] = {
    "execution.checkpointing.dir": ("checkpoints", True),
    "execution.checkpointing.savepoint-dir": ("savepoints", True),
    "execution.checkpointing.local-backup.dirs": ("local-state", False),
    "state.backend.rocksdb.localdir": ("rocksdb", False),
    "state.backend.forst.local-dir": ("forst", False),
    "state.changelog.dstl.dfs.base-path": ("changelog", True),
    "jobmanager.archive.fs.dir": ("archive", True),
    "blob.storage.directory": ("blob", False),
    "web.upload.dir": ("web-upload", False),
    "process.working-dir": ("work", False),
    "process.jobmanager.working-dir": ("work", False),
    "process.taskmanager.working-dir": ("work", False),
}
# Set even when the configuration does not, so that nothing lands outside the run folder.
_ALWAYS_PATHS: Mapping[str, str] = {
    "io.tmp.dirs": "tmp",
    "web.tmpdir": "web",
    "env.pid.dir": "pid",
    "env.log.dir": "log",
}
_REMOTE_URI = re.compile(r"^(?:s3[ap]?|gs|gcs|abfss?|wasbs?|hdfs|oss|viewfs|cosn|obs|file)://", re.IGNORECASE)
_SSL_KEYS = ("security.ssl.internal.enabled", "security.ssl.rest.enabled", "security.ssl.enabled")
_PORT_REASON = "free on 127.0.0.1"
# A smoke run lives for seconds: C1 only and the serial GC start the JVMs with about 30% less CPU.
FAST_JVM_OPTS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
_GC_FLAG = re.compile(r"-XX:\+Use\w+GC\b")
_REPORTER_PORT = re.compile(r"^metrics\.reporter\.(?P<name>[^.]+)\.port$")


class PortSource(Protocol):
    """What :func:`adapt` needs from a port picker (``ports.PortPicker`` is one)."""

    def pick(self, *preferred: int) -> int: ...


@dataclass(frozen=True)
class Adaptation:
    """One change to the effective configuration; ``before``/``after`` are shown values (None: not set)."""

    key: str
    before: str | None
    after: str | None
    reason: str

    def text(self) -> str:
        before = "(not set)" if self.before is None else self.before
        after = "(removed)" if self.after is None else self.after
        return f"{self.key}: {before} -> {after} ({self.reason})"


@dataclass(frozen=True)
class MemoryPlan:
    """How one process' memory is sized locally."""

    process: str  # "jobmanager" | "taskmanager"
    configured: int  # bytes, from spec.template.spec.resources.<process>.memory
    local: int  # bytes
    factor: Fraction  # local / configured
    conf: dict[str, str]  # memory keys as written locally (process size and the shrunk sizes)
    changes: tuple[Adaptation, ...]
    fractions: tuple[tuple[str, str], ...]  # (what, value) kept as configured
    model_error: str | None  # Flink's memory model refuses the local configuration (Flink's wording)

    def describe(self) -> str:
        size = f"{units.format_memory(self.configured)}"
        if self.local != self.configured:
            ratio = self.factor
            shown = f"1/{ratio.denominator}" if ratio.numerator == 1 else f"{float(ratio):.3g}"
            size += f" -> {units.format_memory(self.local)} (x{shown})"
        fractions = ", ".join(f"{what} {value}" for what, value in self.fractions)
        return f"{size}; fractions kept: {fractions}"


@dataclass(frozen=True)
class ProcessSpec:
    """One local Flink process: its ``-D`` overrides on top of the shared config.yaml."""

    name: str  # "jobmanager", "taskmanager-1", ...
    component: str  # "jobmanager" | "taskmanager"
    dynamic: dict[str, str]
    reporter_port: int | None  # the scraped Prometheus reporter

    @property
    def ports(self) -> list[int]:
        found: list[int] = []
        for key, value in self.dynamic.items():
            if _is_port_key(key):
                found.extend(int(p) for p in value.split(","))
        return found


@dataclass(frozen=True)
class LocalConfig:
    conf: dict[str, str]  # config.yaml, flat keys as the local Flink reads them
    processes: tuple[ProcessSpec, ...]
    adaptations: tuple[Adaptation, ...]
    memory: Mapping[str, MemoryPlan]
    rest_port: int
    slots: int
    taskmanagers: int  # started locally
    configured_taskmanagers: int
    reporter: str | None  # name of the scraped Prometheus reporter (None: the configuration has none)
    shared_ports: tuple[int, ...] = field(default=())

    @property
    def ports(self) -> list[int]:
        """Every port a local Flink process listens on."""
        return sorted({*self.shared_ports, *(p for spec in self.processes for p in spec.ports)})


def _is_port_key(key: str) -> bool:
    return key.endswith(".port") or key.endswith(".ports")


def prometheus_reporters(conf: Mapping[str, str]) -> list[str]:
    """Names of the Prometheus (pull) reporters the configuration enables, sorted."""
    prefix, suffix = "metrics.reporter.", ".factory.class"
    names = set()
    for key, value in conf.items():
        if key.startswith(prefix) and key.endswith(suffix) and value.strip() == PROMETHEUS_FACTORY:
            names.add(key[len(prefix) : -len(suffix)])
    return sorted(n for n in names if "." not in n)


# ---------------------------------------------------------------------------------------------
# memory


def _scale(nbytes: int, factor: Fraction) -> int:
    scaled = int(nbytes * factor)
    return scaled - scaled % _MIB if scaled >= _MIB else max(scaled, 1)


def _model_error(process: str, conf: Mapping[str, str]) -> str | None:
    try:
        if process == "taskmanager":
            taskmanager_memory(conf)
        else:
            jobmanager_memory(conf)
    except MemoryConfigError as exc:
        return exc.flink_message
    return None


def plan_memory(process: str, conf: Mapping[str, str], configured: int, budget: int) -> MemoryPlan:
    """Size ``process`` ("jobmanager" | "taskmanager") for this machine (see the module docstring)."""
    size_key = f"{process}.memory.process.size"
    candidates: list[int] = []
    size = min(budget, configured)
    while size < configured:
        candidates.append(size)
        size *= 2
    candidates.append(configured)

    def build(local: int) -> tuple[dict[str, str], list[Adaptation]]:
        factor = Fraction(local, configured)
        written = {size_key: units.format_memory(local)}
        changes: list[Adaptation] = []
        if local != configured:
            changes.append(
                Adaptation(
                    size_key,
                    units.format_memory(configured),
                    written[size_key],
                    f"x{factor}, from spec.template.spec.resources.{process}.memory",
                )
            )
        for key in _SCALED[process]:
            if key not in conf or local == configured:
                continue
            try:
                original = units.parse_memory(conf[key])
            except units.UnitError:
                continue  # Flink reports it
            written[key] = units.format_memory(_scale(original, factor))
            changes.append(Adaptation(key, conf[key], written[key], f"x{factor} like the process size"))
        return written, changes

    chosen: tuple[int, dict[str, str], list[Adaptation], str | None] | None = None
    for local in candidates:
        written, changes = build(local)
        error = _model_error(process, {**conf, **written})
        if error is None:
            chosen = (local, written, changes, None)
            break
        if chosen is None:
            chosen = (local, written, changes, error)
    assert chosen is not None
    local, written, changes, error = chosen
    fractions = tuple((what, conf.get(key, default)) for what, key, default in _FRACTIONS[process])
    return MemoryPlan(
        process, configured, local, Fraction(local, configured), written, tuple(changes), fractions, error
    )


# ---------------------------------------------------------------------------------------------
# the whole configuration


def adapt(
    conf: Mapping[str, str],
    *,
    jobmanager_memory_size: str,
    taskmanager_memory_size: str,
    taskmanagers: int,
    max_taskmanagers: int,
    run_dir: Path,
    local_version: options.Version,
    ports: PortSource,
    dist_java_opts: str | None = None,
    budgets: Mapping[str, int] = DEFAULT_MEMORY_BUDGET,
    fast_jvm: bool = True,
) -> LocalConfig:
    """The local configuration of one smoke run; ``conf`` holds canonical Flink keys."""
    if taskmanagers < 1:
        raise ValueError("a smoke run needs at least one TaskManager")
    if max_taskmanagers < 1:
        raise ValueError("--max-taskmanagers must be at least 1")
    out: dict[str, str] = {}
    changes: list[Adaptation] = []

    # keys as the local Flink reads them; keys it no longer has are dropped
    for key, value in conf.items():
        if local_version[0] >= 2 and key in options.REMOVED_IN_2:
            changes.append(Adaptation(key, value, None, f"Flink 2 removed it: {options.REMOVED_IN_2[key]}"))
            continue
        out[options.emit_key(key, local_version)] = value

    # memory
    memory: dict[str, MemoryPlan] = {}
    for process, size_text in (("jobmanager", jobmanager_memory_size), ("taskmanager", taskmanager_memory_size)):
        plan = plan_memory(process, conf, units.parse_memory(size_text), budgets[process])
        memory[process] = plan
        out.update(plan.conf)
        changes.extend(plan.changes)

    # TaskManagers
    local_tms = min(taskmanagers, max_taskmanagers)
    if local_tms < taskmanagers:
        changes.append(
            Adaptation(
                "spec.template.spec.numberOfTaskManagers",
                str(taskmanagers),
                str(local_tms),
                f"capped by --max-taskmanagers {max_taskmanagers}",
            )
        )

    # high availability
    ha = conf.get(model.HA_TYPE)
    if ha is not None and model.ha_of(conf).type != "none":
        out[model.HA_TYPE] = "NONE"
        changes.append(
            Adaptation(
                model.HA_TYPE,
                ha,
                "NONE",
                "Kubernetes HA keeps its leader election in the Kubernetes API; one local JobManager runs without",
            )
        )
    for key in sorted(conf):
        if key.startswith("high-availability.") and key != model.HA_TYPE:
            out.pop(options.emit_key(key, local_version), None)
            changes.append(Adaptation(key, conf[key], None, "only used with high availability"))
    replicas = conf.get(model.JOBMANAGER_REPLICAS)
    if replicas is not None and replicas != "1":
        out.pop(model.JOBMANAGER_REPLICAS, None)
        changes.append(Adaptation(model.JOBMANAGER_REPLICAS, replicas, None, "one local JobManager; standbys need HA"))

    # addresses
    for key in _BIND_KEYS:
        before = conf.get(key)
        out[key] = LOOPBACK
        if before != LOOPBACK:
            changes.append(Adaptation(key, before, LOOPBACK, "loopback only"))

    # storage
    for key, (folder, uri) in _PATH_KEYS.items():
        if key in conf:
            path = run_dir / "storage" / folder
            out[key] = path.as_uri() if uri else str(path)
            changes.append(Adaptation(key, conf[key], out[key], "a folder of this run"))
    for key, folder in _ALWAYS_PATHS.items():
        local_path = str(run_dir / folder)
        if conf.get(key) != local_path:
            out[key] = local_path
            changes.append(Adaptation(key, conf.get(key), local_path, "a folder of this run"))
    for key, value in sorted(conf.items()):
        if key in _PATH_KEYS or key in _ALWAYS_PATHS or key.startswith("high-availability."):
            continue
        if _REMOTE_URI.match(value.strip()):
            target = (run_dir / "storage" / re.sub(r"[^A-Za-z0-9.-]+", "_", key)).as_uri()
            out[options.emit_key(key, local_version)] = target
            changes.append(Adaptation(key, value, target, "remote storage moved to a folder of this run"))

    # TLS
    for key in _SSL_KEYS:
        if conf.get(key, "").strip().lower() == "true":
            out[key] = "false"
            changes.append(Adaptation(key, "true", "false", "the keystores only exist in the cluster"))

    # JVM options: the distribution's own module flags, then the configuration's, then the local ones
    tmp_opt = f"-Djava.io.tmpdir={run_dir / 'tmp'}"
    user_opts = conf.get("env.java.opts.all")
    configured_jvm = " ".join(v for k, v in conf.items() if k.startswith("env.java.opts"))
    fast = [o for o in FAST_JVM_OPTS if not (_GC_FLAG.match(o) and _GC_FLAG.search(configured_jvm))] if fast_jvm else []
    local_opts = [*fast, tmp_opt]
    out["env.java.opts.all"] = " ".join(part for part in (dist_java_opts, user_opts, *local_opts) if part)
    dist_shown = "<the distribution's --add-opens/--add-exports>" if dist_java_opts else ""
    shown = " ".join(p for p in (dist_shown, user_opts or "", *local_opts) if p)
    why = "what the local JVMs need"
    if fast:
        why += "; C1-only JIT and the serial GC start a short run with about 30% less CPU (--no-fast-jvm: off)"
    changes.append(Adaptation("env.java.opts.all", user_opts, shown, why))

    # ports: random free ones (ports.PortPicker says why not the configured ones); first the
    # JobManager's, which config.yaml holds for everyone, then one set per process (-D)
    shared: list[int] = []
    for key in ("rest.port", "jobmanager.rpc.port", "blob.server.port"):
        port = ports.pick()
        out[key] = str(port)
        shared.append(port)
        changes.append(Adaptation(key, conf.get(key), str(port), _PORT_REASON))
    for key in ("rest.bind-port", "taskmanager.data.bind-port"):
        if key in conf:
            out.pop(key, None)
            changes.append(Adaptation(key, conf[key], None, "the port below is used"))
    rest_port = int(out["rest.port"])

    names = ["jobmanager", *(f"taskmanager-{i}" for i in range(1, local_tms + 1))]
    reporters = prometheus_reporters(conf)
    reporter_keys = sorted({m["name"] for k in conf if (m := _REPORTER_PORT.match(k))} | set(reporters))
    per_process: dict[str, dict[str, str]] = {name: {} for name in names}
    per_key: dict[str, list[str]] = {}

    def assign(key: str, name: str) -> int:
        port = ports.pick()
        per_process[name][key] = str(port)
        per_key.setdefault(key, []).append(f"{port} ({name})")
        return port

    reporter_ports: dict[str, int | None] = dict.fromkeys(names)
    for index, name in enumerate(names):
        component = "jobmanager" if index == 0 else "taskmanager"
        assign("metrics.internal.query-service.port", name)
        for reporter in reporter_keys:
            port = assign(f"metrics.reporter.{reporter}.port", name)
            if reporters and reporter == reporters[0]:
                reporter_ports[name] = port
        if component == "taskmanager":
            assign("taskmanager.rpc.port", name)
            assign("taskmanager.data.port", name)
            if conf.get("queryable-state.enable", "false").lower() == "true":
                assign("queryable-state.proxy.ports", name)
                assign("queryable-state.server.ports", name)
    for key, assigned in per_key.items():
        out.pop(options.emit_key(key, local_version), None)
        changes.append(Adaptation(key, conf.get(key), ", ".join(assigned), "one per local process, " + _PORT_REASON))

    processes = tuple(
        ProcessSpec(name, "jobmanager" if i == 0 else "taskmanager", per_process[name], reporter_ports[name])
        for i, name in enumerate(names)
    )
    return LocalConfig(
        conf=dict(sorted(out.items())),
        processes=processes,
        adaptations=tuple(changes),
        memory=memory,
        rest_port=rest_port,
        slots=model.slots_of(conf),
        taskmanagers=local_tms,
        configured_taskmanagers=taskmanagers,
        reporter=reporters[0] if reporters else None,
        shared_ports=tuple(shared),
    )
