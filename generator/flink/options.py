"""The Flink configuration keys `gen` knows: their type, their deprecated aliases, and renames.

Keys are normalised before merging: the nested YAML form and the dotted form are one key, and a
deprecated alias becomes its *canonical* key (the current name). When rendering, the canonical
key is written in the form the target Flink version understands (``emit_key``).
Facts: Flink 1.20 FLINK-34255 renames and the Flink 2.0 list of removed options.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from generator import units

Version = tuple[int, int]
SUPPORTED_VERSIONS: tuple[str, ...] = ("1.18", "1.19", "1.20", "2.0", "2.1", "2.2")
DEFAULT_VERSION = "1.20"


def parse_version(text: str) -> Version:
    major, _, minor = text.partition(".")
    return int(major), int(minor)


@dataclass(frozen=True)
class Option:
    key: str
    kind: str  # duration | memory | int | float | bool | enum | string | port | ports
    aliases: tuple[str, ...] = ()
    since: Version = (1, 0)  # first version that reads `key`; older versions get aliases[0]
    choices: tuple[str, ...] = ()
    minimum: float | None = None


_OPTIONS: tuple[Option, ...] = (
    # high availability
    Option("high-availability.type", "string", ("high-availability", "recovery.mode"), (1, 17)),
    Option("high-availability.storageDir", "string", ("high-availability.zookeeper.storageDir",)),
    Option("high-availability.jobmanager.port", "ports"),
    Option("kubernetes.jobmanager.replicas", "int", minimum=1),
    # checkpointing
    Option("execution.checkpointing.interval", "duration"),
    Option("execution.checkpointing.timeout", "duration"),
    Option("execution.checkpointing.min-pause", "duration"),
    Option("execution.checkpointing.tolerable-failed-checkpoints", "int", minimum=0),
    Option("execution.checkpointing.max-concurrent-checkpoints", "int", minimum=1),
    Option("execution.checkpointing.mode", "enum", choices=("EXACTLY_ONCE", "AT_LEAST_ONCE")),
    Option(
        "execution.checkpointing.externalized-checkpoint-retention",
        "enum",
        choices=("RETAIN_ON_CANCELLATION", "DELETE_ON_CANCELLATION", "NO_EXTERNALIZED_CHECKPOINTS"),
    ),
    Option("execution.checkpointing.unaligned.enabled", "bool", ("execution.checkpointing.unaligned",), (1, 20)),
    Option(
        "execution.checkpointing.aligned-checkpoint-timeout",
        "duration",
        ("execution.checkpointing.alignment-timeout",),
        (1, 20),
    ),
    Option(
        "execution.checkpointing.dir", "string", ("state.checkpoints.dir", "state.backend.fs.checkpointdir"), (1, 20)
    ),
    Option(
        "execution.checkpointing.savepoint-dir",
        "string",
        ("state.savepoints.dir", "savepoints.state.backend.fs.dir"),
        (1, 20),
    ),
    Option("execution.checkpointing.storage", "string", ("state.checkpoint-storage",), (1, 20)),
    Option("execution.checkpointing.incremental", "bool", ("state.backend.incremental",), (1, 20)),
    Option("execution.checkpointing.num-retained", "int", ("state.checkpoints.num-retained",), (1, 20), minimum=1),
    Option(
        "execution.checkpointing.local-backup.enabled",
        "bool",
        ("state.backend.local-recovery",),
        (1, 20),
    ),
    Option("execution.checkpointing.local-backup.dirs", "string", ("taskmanager.state.local.root-dirs",), (1, 20)),
    Option("execution.checkpointing.create-subdir", "bool", ("state.checkpoints.create-subdir",), (1, 20)),
    Option("state.backend.type", "string", ("state.backend",), (1, 17)),
    # restarts
    Option(
        "restart-strategy.type",
        "string",
        ("restart-strategy",),
        (1, 17),
    ),
    Option("restart-strategy.failure-rate.max-failures-per-interval", "int", minimum=1),
    Option("restart-strategy.failure-rate.failure-rate-interval", "duration"),
    Option("restart-strategy.failure-rate.delay", "duration"),
    Option("restart-strategy.fixed-delay.attempts", "int", minimum=1),
    Option("restart-strategy.fixed-delay.delay", "duration"),
    Option("restart-strategy.exponential-delay.initial-backoff", "duration"),
    Option("restart-strategy.exponential-delay.max-backoff", "duration"),
    Option("restart-strategy.exponential-delay.attempts-before-reset-backoff", "int", minimum=1),
    # job
    Option("taskmanager.numberOfTaskSlots", "int", minimum=1),
    Option("parallelism.default", "int", minimum=1),
    Option("pipeline.max-parallelism", "int", minimum=1),
    Option("pipeline.auto-generate-uids", "bool"),
    Option("table.exec.state.ttl", "duration"),
    # memory
    Option("taskmanager.memory.process.size", "memory"),
    Option("taskmanager.memory.flink.size", "memory"),
    Option("taskmanager.memory.managed.size", "memory"),
    Option("taskmanager.memory.managed.fraction", "float", minimum=0),
    Option("taskmanager.memory.network.min", "memory", ("taskmanager.network.memory.min",)),
    Option("taskmanager.memory.network.max", "memory", ("taskmanager.network.memory.max",)),
    Option("taskmanager.memory.network.fraction", "float", ("taskmanager.network.memory.fraction",), minimum=0),
    Option("taskmanager.memory.jvm-metaspace.size", "memory"),
    Option("taskmanager.memory.jvm-overhead.min", "memory"),
    Option("taskmanager.memory.jvm-overhead.max", "memory"),
    Option("taskmanager.memory.jvm-overhead.fraction", "float", minimum=0),
    Option("taskmanager.memory.framework.heap.size", "memory"),
    Option("taskmanager.memory.framework.off-heap.size", "memory"),
    Option("taskmanager.memory.task.heap.size", "memory"),
    Option("taskmanager.memory.task.off-heap.size", "memory"),
    Option("jobmanager.memory.process.size", "memory"),
    Option("jobmanager.memory.flink.size", "memory"),
    Option("jobmanager.memory.heap.size", "memory"),
    Option("jobmanager.memory.off-heap.size", "memory"),
    Option("jobmanager.memory.jvm-metaspace.size", "memory"),
    Option("jobmanager.memory.jvm-overhead.min", "memory"),
    Option("jobmanager.memory.jvm-overhead.max", "memory"),
    Option("jobmanager.memory.jvm-overhead.fraction", "float", minimum=0),
    # network ports: "port" holds one port, "ports" a port, a range (50100-50200) or a list of them;
    # the port of every metric reporter (metrics.reporter.<name>.port) is a "ports" option too
    Option("rest.port", "port"),
    Option("rest.bind-port", "ports"),
    Option("jobmanager.rpc.port", "port"),
    Option("blob.server.port", "ports"),
    Option("taskmanager.rpc.port", "ports"),
    Option("taskmanager.data.port", "port"),
    Option("taskmanager.data.bind-port", "port"),
    Option("metrics.internal.query-service.port", "ports"),
    Option("historyserver.web.port", "port"),
    Option("queryable-state.enable", "bool"),
    Option("queryable-state.proxy.ports", "ports"),
    Option("queryable-state.server.ports", "ports"),
    # security
    Option("security.ssl.internal.enabled", "bool"),
    Option("security.ssl.rest.enabled", "bool"),
    # kubernetes limit factors
    Option("kubernetes.jobmanager.cpu.limit-factor", "float", minimum=1),
    Option("kubernetes.taskmanager.cpu.limit-factor", "float", minimum=1),
    Option("kubernetes.jobmanager.memory.limit-factor", "float", minimum=1),
    Option("kubernetes.taskmanager.memory.limit-factor", "float", minimum=1),
)

OPTIONS: dict[str, Option] = {o.key: o for o in _OPTIONS}
ALIASES: dict[str, str] = {alias: o.key for o in _OPTIONS for alias in o.aliases}
_REPORTER_PORT = re.compile(r"^metrics\.reporter\.[^.]+\.port$")


def lookup(key: str) -> Option | None:
    """What ``gen`` knows of canonical ``key``: its :class:`Option`, or None."""
    known = OPTIONS.get(key)
    if known is None and _REPORTER_PORT.match(key):
        return Option(key, "ports")
    return known


# Options Flink 2.0 removed without a successor we can map to (flink-2.0.md).
REMOVED_IN_2: dict[str, str] = {
    "jobmanager.heap.size": "use jobmanager.memory.process.size or jobmanager.memory.heap.size",
    "jobmanager.heap.mb": "use jobmanager.memory.process.size or jobmanager.memory.heap.size",
    "taskmanager.heap.size": "use taskmanager.memory.process.size",
    "taskmanager.heap.mb": "use taskmanager.memory.process.size",
    "taskmanager.network.numberOfBuffers": "use taskmanager.memory.network.*",
    "web.port": "use rest.port",
    "web.address": "use rest.address",
    "security.ssl.enabled": "use security.ssl.internal.enabled and security.ssl.rest.enabled",
    "state.backend.async": "snapshots are always asynchronous",
    "state.backend.rocksdb.checkpointdir": "use state.backend.rocksdb.localdir",
    "high-availability.job.delay": "use restart-strategy settings",
    "recovery.job.delay": "use restart-strategy settings",
    "cluster.evenly-spread-out-slots": "use taskmanager.load-balance.mode",
    "slotmanager.taskmanager-timeout": "use resourcemanager.taskmanager-timeout",
}


def canonical_key(key: str) -> str:
    """The current name of ``key`` (itself when it is not a known deprecated alias)."""
    return ALIASES.get(key, key)


def emit_key(key: str, version: Version) -> str:
    """The spelling of canonical ``key`` that Flink ``version`` reads."""
    option = OPTIONS.get(key)
    if option is not None and version < option.since and option.aliases:
        return option.aliases[0]
    return key


LOWEST_PORT, HIGHEST_PORT = 1, 65535
_DIGITS = re.compile(r"[0-9]+")
_RANDOM_PORT = "0 lets Flink pick a random port, which no NetworkPolicy can allow: pin a port (1-65535)"


def _port(text: str, value: str, expected: str) -> int:
    """One port of ``value``: digits within 1-65535 (0, Flink's "any free port", is refused)."""
    if not _DIGITS.fullmatch(text):
        raise units.UnitError(f"'{value}' is not {expected}")
    port = int(text)
    if not LOWEST_PORT <= port <= HIGHEST_PORT:
        raise units.UnitError(_RANDOM_PORT if value.strip() == "0" else f"'{value}' is outside the port range 1-65535")
    return port


def _validate_port(value: str) -> str:
    """An option that holds one port."""
    return str(_port(value.strip(), value, "a port: this option holds one port (1-65535), not a range or a list"))


def _validate_ports(value: str) -> str:
    """A port, a range low-high or a comma-separated list of them, each within 1-65535."""
    expected = "a port, a port range (50100-50200) or a list of them"
    for part in value.split(","):
        lo, sep, hi = part.strip().partition("-")
        low = _port(lo.strip(), value, expected)
        high = _port(hi.strip(), value, expected) if sep else low
        if low > high:
            raise units.UnitError(f"'{part.strip()}' is not a port range: {low} is above {high}")
    return value.replace(" ", "")


def _bool(value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise units.UnitError(f"'{value}' is not a boolean: write true or false")
    return lowered


def _number(kind: str, option: Option) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            number: float = int(value) if kind == "int" else float(value)
        except ValueError:
            raise units.UnitError(f"'{value}' is not {'a whole number' if kind == 'int' else 'a number'}") from None
        if option.minimum is not None and number < option.minimum:
            raise units.UnitError(f"{value} is less than the minimum of {option.minimum:g}")
        return str(number) if kind == "int" else value.strip()

    return check


def normalize_value(key: str, value: object) -> str:
    """Flink configuration values are strings; check and canonicalise the ones we know."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | str):
        text = str(value)
    else:
        raise units.UnitError(
            f"a Flink configuration value must be a string, number or boolean, got {type(value).__name__}"
        )
    option = lookup(key)
    if option is None:
        return text
    if option.kind == "duration":
        return units.normalize_duration(text)
    if option.kind == "memory":
        return units.normalize_memory(text)
    if option.kind == "bool":
        return _bool(text)
    if option.kind in ("int", "float"):
        return _number(option.kind, option)(text)
    if option.kind == "enum":
        if text.upper() not in option.choices:
            raise units.UnitError(f"'{text}' is not one of {', '.join(option.choices)}")
        return text.upper()
    if option.kind == "port":
        return _validate_port(text)
    if option.kind == "ports":
        return _validate_ports(text)
    return text
