"""The JobManager's memory components, as Flink's ``JobManagerProcessUtils`` derives them.

Entry points, in Flink's precedence order: ``jobmanager.memory.heap.size``, then
``jobmanager.memory.flink.size``, then ``jobmanager.memory.process.size``. The shared arithmetic is
in :mod:`generator.flink.memory`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.flink.memory import (
    Config,
    MemoryConfigError,
    Option,
    ProcessOptions,
    add_sizes,
    fail_not_configured,
    human,
    metaspace_overhead_from_flink,
    metaspace_overhead_from_process,
)

__all__ = ["JobManagerMemory", "jobmanager_memory"]


@dataclass(frozen=True)
class JobManagerMemory:
    """Every JobManager memory component, in bytes."""

    total_process: int
    total_flink: int
    jvm_heap: int
    off_heap: int
    jvm_metaspace: int
    jvm_overhead: int
    #: ``jobmanager.memory.enable-jvm-direct-memory-limit``: adds ``-XX:MaxDirectMemorySize``.
    jvm_direct_memory_limit: bool = False

    def jvm_args(self) -> str:
        """The JVM memory flags exactly as Flink's start scripts pass them."""
        direct = f" -XX:MaxDirectMemorySize={self.off_heap}" if self.jvm_direct_memory_limit else ""
        return f"-Xmx{self.jvm_heap} -Xms{self.jvm_heap}{direct} -XX:MaxMetaspaceSize={self.jvm_metaspace}"

    def dynamic_configs(self) -> dict[str, str]:
        """The memory ``-D`` options Flink hands the JobManager (values in bytes, ``b`` suffix)."""
        return {
            "jobmanager.memory.heap.size": f"{self.jvm_heap}b",
            "jobmanager.memory.off-heap.size": f"{self.off_heap}b",
            "jobmanager.memory.jvm-metaspace.size": f"{self.jvm_metaspace}b",
            "jobmanager.memory.jvm-overhead.min": f"{self.jvm_overhead}b",
            "jobmanager.memory.jvm-overhead.max": f"{self.jvm_overhead}b",
        }


class _JM:
    PROCESS = Option("jobmanager.memory.process.size")
    FLINK = Option("jobmanager.memory.flink.size")
    HEAP = Option("jobmanager.memory.heap.size")
    OFF_HEAP = Option("jobmanager.memory.off-heap.size", "128m")
    METASPACE = Option("jobmanager.memory.jvm-metaspace.size", "256m")
    OVERHEAD_MIN = Option("jobmanager.memory.jvm-overhead.min", "192m")
    OVERHEAD_MAX = Option("jobmanager.memory.jvm-overhead.max", "1g")
    OVERHEAD_FRACTION = Option("jobmanager.memory.jvm-overhead.fraction", "0.1")
    DIRECT_LIMIT = Option("jobmanager.memory.enable-jvm-direct-memory-limit", "false")

    PROCESS_OPTIONS = ProcessOptions(
        fine_grained=(HEAP,),
        total_flink=FLINK,
        total_process=PROCESS,
        metaspace=METASPACE,
        overhead_min=OVERHEAD_MIN,
        overhead_max=OVERHEAD_MAX,
        overhead_fraction=OVERHEAD_FRACTION,
    )


_JM_CONSISTENCY_HINT = (
    "Please, make the configuration consistent or configure only one option: either JVM Heap or Total Flink Memory."
)


def _jm_from_heap(conf: Config) -> tuple[int, int]:
    heap = conf.memory(_JM.HEAP)
    off_heap = conf.memory(_JM.OFF_HEAP)
    if conf.contains(_JM.FLINK):
        total_flink = conf.memory(_JM.FLINK)
        if conf.contains(_JM.OFF_HEAP):
            if add_sizes(heap, off_heap) != total_flink:
                raise MemoryConfigError(
                    f"Sum of the configured JVM Heap Memory ({human(heap)}) and the configured Off-heap "
                    f"Memory ({human(off_heap)}) does not match the configured Total Flink Memory "
                    f"({human(total_flink)}). {_JM_CONSISTENCY_HINT}",
                    (_JM.HEAP.key, _JM.OFF_HEAP.key, _JM.FLINK.key),
                )
        else:
            if total_flink < heap:
                raise MemoryConfigError(
                    f"The configured JVM Heap Memory ({human(heap)}) exceeds the configured Total Flink "
                    f"Memory ({human(total_flink)}). {_JM_CONSISTENCY_HINT}",
                    (_JM.HEAP.key, _JM.FLINK.key),
                )
            off_heap = total_flink - heap
    return heap, off_heap


def _jm_from_total_flink(conf: Config, total_flink: int) -> tuple[int, int]:
    off_heap = conf.memory(_JM.OFF_HEAP)
    if total_flink <= off_heap:
        raise MemoryConfigError(
            f"The configured Total Flink Memory ({human(total_flink)}) is less than the configured "
            f"Off-heap Memory ({human(off_heap)}).",
            (conf.used_key(_JM.FLINK) if conf.contains(_JM.FLINK) else _JM.PROCESS.key, _JM.OFF_HEAP.key),
        )
    return total_flink - off_heap, off_heap


def jobmanager_memory(conf: Mapping[str, str]) -> JobManagerMemory:
    """Derive the JobManager memory layout from a flat Flink configuration, as Flink does.

    Entry points, in Flink's precedence order: ``heap.size``, then ``flink.size``, then
    ``process.size``. Raises :class:`MemoryConfigError` where Flink refuses.
    """
    cfg = Config(conf)
    opts = _JM.PROCESS_OPTIONS
    if cfg.contains(_JM.HEAP):
        heap, off_heap = _jm_from_heap(cfg)
        metaspace, overhead = metaspace_overhead_from_flink(cfg, opts, add_sizes(heap, off_heap))
    elif cfg.contains(_JM.FLINK):
        total_flink = cfg.memory(_JM.FLINK)
        heap, off_heap = _jm_from_total_flink(cfg, total_flink)
        metaspace, overhead = metaspace_overhead_from_flink(cfg, opts, total_flink)
    elif cfg.contains(_JM.PROCESS):
        process = cfg.memory(_JM.PROCESS)
        metaspace, overhead = metaspace_overhead_from_process(cfg, opts, process)
        heap, off_heap = _jm_from_total_flink(cfg, process - metaspace - overhead)
    else:
        raise fail_not_configured(opts)
    total_flink = add_sizes(heap, off_heap)
    return JobManagerMemory(
        total_process=add_sizes(total_flink, metaspace, overhead),
        total_flink=total_flink,
        jvm_heap=heap,
        off_heap=off_heap,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
        jvm_direct_memory_limit=cfg.boolean(_JM.DIRECT_LIMIT),
    )
