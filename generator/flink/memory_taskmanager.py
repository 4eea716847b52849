"""The TaskManager's memory components, as Flink's ``TaskExecutorProcessUtils`` derives them.

Entry points, in Flink's precedence order: ``taskmanager.memory.task.heap.size`` +
``taskmanager.memory.managed.size`` (fine-grained), then ``taskmanager.memory.flink.size``, then
``taskmanager.memory.process.size``. The shared arithmetic is in :mod:`generator.flink.memory`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.flink.javanum import LONG_MAX
from generator.flink.memory import (
    Config,
    MemoryConfigError,
    Option,
    ProcessOptions,
    Range,
    add_sizes,
    fail_not_configured,
    human,
    metaspace_overhead_from_flink,
    metaspace_overhead_from_process,
    read_range,
    with_fraction,
    with_inverse_fraction,
)

__all__ = ["TM_PREFIX", "TaskManagerMemory", "taskmanager_memory"]

TM_PREFIX = "TaskManager memory configuration failed: "


@dataclass(frozen=True)
class TaskManagerMemory:
    """Every TaskManager memory component, in bytes."""

    total_process: int
    total_flink: int
    framework_heap: int
    task_heap: int
    managed: int
    framework_off_heap: int
    task_off_heap: int
    network: int
    jvm_metaspace: int
    jvm_overhead: int

    @property
    def jvm_heap(self) -> int:
        """``-Xmx`` / ``-Xms``: framework heap + task heap."""
        return self.framework_heap + self.task_heap

    @property
    def direct(self) -> int:
        """``-XX:MaxDirectMemorySize``: framework off-heap + task off-heap + network."""
        return self.framework_off_heap + self.task_off_heap + self.network

    @property
    def off_heap(self) -> int:
        """Everything outside the JVM heap inside Total Flink Memory: managed + direct."""
        return self.managed + self.direct

    def jvm_args(self) -> str:
        """The JVM memory flags exactly as Flink's start scripts pass them."""
        return (
            f"-Xmx{self.jvm_heap} -Xms{self.jvm_heap} -XX:MaxDirectMemorySize={self.direct} "
            f"-XX:MaxMetaspaceSize={self.jvm_metaspace}"
        )

    def dynamic_configs(self) -> dict[str, str]:
        """The memory ``-D`` options Flink hands the TaskManager (values in bytes, ``b`` suffix)."""
        return {
            "taskmanager.memory.framework.heap.size": f"{self.framework_heap}b",
            "taskmanager.memory.task.heap.size": f"{self.task_heap}b",
            "taskmanager.memory.framework.off-heap.size": f"{self.framework_off_heap}b",
            "taskmanager.memory.task.off-heap.size": f"{self.task_off_heap}b",
            "taskmanager.memory.network.min": f"{self.network}b",
            "taskmanager.memory.network.max": f"{self.network}b",
            "taskmanager.memory.managed.size": f"{self.managed}b",
            "taskmanager.memory.jvm-metaspace.size": f"{self.jvm_metaspace}b",
            "taskmanager.memory.jvm-overhead.min": f"{self.jvm_overhead}b",
            "taskmanager.memory.jvm-overhead.max": f"{self.jvm_overhead}b",
        }


class _TM:
    PROCESS = Option("taskmanager.memory.process.size")
    FLINK = Option("taskmanager.memory.flink.size")
    FRAMEWORK_HEAP = Option("taskmanager.memory.framework.heap.size", "128m")
    FRAMEWORK_OFF_HEAP = Option("taskmanager.memory.framework.off-heap.size", "128m")
    TASK_HEAP = Option("taskmanager.memory.task.heap.size")
    TASK_OFF_HEAP = Option("taskmanager.memory.task.off-heap.size", "0")
    MANAGED_SIZE = Option("taskmanager.memory.managed.size", None, ("taskmanager.memory.size",))
    MANAGED_FRACTION = Option("taskmanager.memory.managed.fraction", "0.4")
    NETWORK_MIN = Option("taskmanager.memory.network.min", "64m", ("taskmanager.network.memory.min",))
    NETWORK_MAX = Option("taskmanager.memory.network.max", f"{LONG_MAX}b", ("taskmanager.network.memory.max",))
    NETWORK_FRACTION = Option("taskmanager.memory.network.fraction", "0.1", ("taskmanager.network.memory.fraction",))
    METASPACE = Option("taskmanager.memory.jvm-metaspace.size", "256m")
    OVERHEAD_MIN = Option("taskmanager.memory.jvm-overhead.min", "192m")
    OVERHEAD_MAX = Option("taskmanager.memory.jvm-overhead.max", "1g")
    OVERHEAD_FRACTION = Option("taskmanager.memory.jvm-overhead.fraction", "0.1")

    PROCESS_OPTIONS = ProcessOptions(
        fine_grained=(TASK_HEAP, MANAGED_SIZE),
        total_flink=FLINK,
        total_process=PROCESS,
        metaspace=METASPACE,
        overhead_min=OVERHEAD_MIN,
        overhead_max=OVERHEAD_MAX,
        overhead_fraction=OVERHEAD_FRACTION,
    )


@dataclass(frozen=True)
class _TMFlink:
    framework_heap: int
    framework_off_heap: int
    task_heap: int
    task_off_heap: int
    network: int
    managed: int

    @property
    def total(self) -> int:
        return add_sizes(
            self.framework_heap,
            self.framework_off_heap,
            self.task_heap,
            self.task_off_heap,
            self.network,
            self.managed,
        )


def _tm_keys(conf: Config, *options: Option) -> tuple[str, ...]:
    return tuple(conf.used_key(o) for o in options)


def _tm_total_keys(conf: Config) -> tuple[str, ...]:
    """The size option(s) the Total Flink Memory came from."""
    if conf.contains(_TM.FLINK):
        return (conf.used_key(_TM.FLINK),)
    if conf.contains(_TM.PROCESS):
        return (_TM.PROCESS.key, _TM.METASPACE.key, *_TM.PROCESS_OPTIONS.overhead_keys())
    return ()


def _tm_managed_keys(conf: Config) -> tuple[str, ...]:
    if conf.contains(_TM.MANAGED_SIZE):
        return (conf.used_key(_TM.MANAGED_SIZE),)
    return (_TM.MANAGED_FRACTION.key,)


def _tm_network_range(conf: Config) -> Range:
    return read_range(conf, _TM.NETWORK_MIN, _TM.NETWORK_MAX, _TM.NETWORK_FRACTION)


def _tm_managed(conf: Config, total_flink: int) -> int:
    if conf.contains(_TM.MANAGED_SIZE):
        return conf.memory(_TM.MANAGED_SIZE)
    # Managed memory has no min/max options: its range is [0, Long.MAX_VALUE].
    rng = read_range(conf, Option("", "0"), Option("", f"{LONG_MAX}b"), _TM.MANAGED_FRACTION)
    return with_fraction(total_flink, rng)


def _tm_exceeds_with_task_heap(
    conf: Config, fw_heap: int, fw_off: int, task_heap: int, task_off: int, managed: int, total_flink: int
) -> MemoryConfigError:
    return MemoryConfigError(
        f"Sum of configured Framework Heap Memory ({human(fw_heap)}), Framework Off-Heap Memory "
        f"({human(fw_off)}), Task Heap Memory ({human(task_heap)}), Task Off-Heap Memory ({human(task_off)}) "
        f"and Managed Memory ({human(managed)}) exceed configured Total Flink Memory ({human(total_flink)}).",
        (
            *_tm_total_keys(conf),
            *_tm_keys(conf, _TM.FRAMEWORK_HEAP, _TM.FRAMEWORK_OFF_HEAP, _TM.TASK_HEAP, _TM.TASK_OFF_HEAP),
            *_tm_managed_keys(conf),
        ),
    )


def _tm_check_network_rest(conf: Config, network: int) -> None:
    """Network is "the rest" of an explicit Total Flink Memory: it must fit network min/max."""
    keys = (
        *_tm_total_keys(conf),
        *_tm_keys(conf, _TM.TASK_HEAP),
        *_tm_managed_keys(conf),
        *_tm_keys(conf, _TM.NETWORK_MIN, _TM.NETWORK_MAX),
    )
    lead = (
        "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured then the "
        "Network Memory size is the rest of the Total Flink memory after subtracting all other "
        "configured types of memory, but the derived Network Memory is inconsistent with its "
        "configuration."
    )
    try:
        rng = _tm_network_range(conf)
    except MemoryConfigError as err:
        raise MemoryConfigError(f"{lead} {err.flink_message}", (*keys, *err.keys)) from err
    if not rng.min <= network <= rng.max:
        raise MemoryConfigError(
            f"{lead} Derived Network Memory size ({human(network)}) is not in configured Network Memory "
            f"range [{human(rng.min)}, {human(rng.max)}].",
            keys,
        )


def _tm_check_total_flink(conf: Config, flink: _TMFlink) -> None:
    if not conf.contains(_TM.FLINK):
        return
    configured = conf.memory(_TM.FLINK)
    if configured != flink.total:
        raise MemoryConfigError(
            f"Configured and Derived Flink internal memory sizes (total {human(flink.total)}) do not add up "
            f"to the configured Total Flink Memory size ({human(configured)}). Configured and Derived Flink "
            f"internal memory sizes are: Framework Heap Memory ({human(flink.framework_heap)}), Framework "
            f"Off-Heap Memory ({human(flink.framework_off_heap)}), Task Heap Memory ({human(flink.task_heap)}), "
            f"Task Off-Heap Memory ({human(flink.task_off_heap)}), Network Memory ({human(flink.network)}), "
            f"Managed Memory ({human(flink.managed)}).",
            (conf.used_key(_TM.FLINK), *_tm_keys(conf, _TM.TASK_HEAP), *_tm_managed_keys(conf)),
        )


def _tm_from_fine_grained(conf: Config) -> _TMFlink:
    task_heap = conf.memory(_TM.TASK_HEAP)
    managed = conf.memory(_TM.MANAGED_SIZE)
    fw_heap = conf.memory(_TM.FRAMEWORK_HEAP)
    fw_off = conf.memory(_TM.FRAMEWORK_OFF_HEAP)
    task_off = conf.memory(_TM.TASK_OFF_HEAP)
    without_network = add_sizes(fw_heap, fw_off, task_heap, task_off, managed)
    if conf.contains(_TM.FLINK):
        total_flink = conf.memory(_TM.FLINK)
        if without_network > total_flink:
            raise _tm_exceeds_with_task_heap(conf, fw_heap, fw_off, task_heap, task_off, managed, total_flink)
        network = total_flink - without_network
        _tm_check_network_rest(conf, network)
    else:
        network = with_inverse_fraction(without_network, _tm_network_range(conf))
    flink = _TMFlink(fw_heap, fw_off, task_heap, task_off, network, managed)
    _tm_check_total_flink(conf, flink)
    return flink


def _tm_from_total_flink(conf: Config, total_flink: int) -> _TMFlink:
    fw_heap = conf.memory(_TM.FRAMEWORK_HEAP)
    fw_off = conf.memory(_TM.FRAMEWORK_OFF_HEAP)
    task_off = conf.memory(_TM.TASK_OFF_HEAP)
    if conf.contains(_TM.TASK_HEAP):
        # Task heap given: managed first, network is the rest (and must fit its range).
        task_heap = conf.memory(_TM.TASK_HEAP)
        managed = _tm_managed(conf, total_flink)
        without_network = add_sizes(fw_heap, fw_off, task_heap, task_off, managed)
        if without_network > total_flink:
            raise _tm_exceeds_with_task_heap(conf, fw_heap, fw_off, task_heap, task_off, managed, total_flink)
        network = total_flink - without_network
        _tm_check_network_rest(conf, network)
    else:
        # The usual case: managed and network from their fractions, task heap is the rest.
        managed = _tm_managed(conf, total_flink)
        network = with_fraction(total_flink, _tm_network_range(conf))
        without_task_heap = add_sizes(fw_heap, fw_off, task_off, managed, network)
        if without_task_heap > total_flink:
            raise MemoryConfigError(
                f"Sum of configured Framework Heap Memory ({human(fw_heap)}), Framework Off-Heap Memory "
                f"({human(fw_off)}), Task Off-Heap Memory ({human(task_off)}), Managed Memory ({human(managed)}) "
                f"and Network Memory ({human(network)}) exceed configured Total Flink Memory "
                f"({human(total_flink)}).",
                (
                    *_tm_total_keys(conf),
                    *_tm_keys(conf, _TM.FRAMEWORK_HEAP, _TM.FRAMEWORK_OFF_HEAP, _TM.TASK_OFF_HEAP),
                    *_tm_managed_keys(conf),
                    *_tm_keys(conf, _TM.NETWORK_MIN, _TM.NETWORK_MAX, _TM.NETWORK_FRACTION),
                ),
            )
        task_heap = total_flink - without_task_heap
    flink = _TMFlink(fw_heap, fw_off, task_heap, task_off, network, managed)
    _tm_check_total_flink(conf, flink)
    return flink


def _taskmanager(conf: Config) -> TaskManagerMemory:
    opts = _TM.PROCESS_OPTIONS
    if all(conf.contains(o) for o in opts.fine_grained):
        flink = _tm_from_fine_grained(conf)
        metaspace, overhead = metaspace_overhead_from_flink(conf, opts, flink.total)
    elif conf.contains(_TM.FLINK):
        total_flink = conf.memory(_TM.FLINK)
        flink = _tm_from_total_flink(conf, total_flink)
        metaspace, overhead = metaspace_overhead_from_flink(conf, opts, total_flink)
    elif conf.contains(_TM.PROCESS):
        process = conf.memory(_TM.PROCESS)
        metaspace, overhead = metaspace_overhead_from_process(conf, opts, process)
        flink = _tm_from_total_flink(conf, process - metaspace - overhead)
    else:
        raise fail_not_configured(opts)
    total_flink = flink.total
    return TaskManagerMemory(
        total_process=add_sizes(total_flink, metaspace, overhead),
        total_flink=total_flink,
        framework_heap=flink.framework_heap,
        task_heap=flink.task_heap,
        managed=flink.managed,
        framework_off_heap=flink.framework_off_heap,
        task_off_heap=flink.task_off_heap,
        network=flink.network,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
    )


def taskmanager_memory(conf: Mapping[str, str]) -> TaskManagerMemory:
    """Derive the TaskManager memory layout from a flat Flink configuration, as Flink does.

    Entry points, in Flink's precedence order: ``task.heap.size`` + ``managed.size`` (fine-grained),
    then ``flink.size``, then ``process.size``. Raises :class:`MemoryConfigError` where Flink refuses.
    """
    try:
        return _taskmanager(Config(conf))
    except MemoryConfigError as err:
        if err.flink_message.startswith("Could not parse value"):
            raise  # Flink raises these outside the memory-configuration wrapper
        raise MemoryConfigError(TM_PREFIX + err.flink_message, err.keys) from err
