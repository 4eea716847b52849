"""Flink's memory model applied to an effective configuration (shared by `gen memory` and `gen check`).

The platform owns the process size: it comes from ``spec.template.spec.resources.<component>.memory``
(gen forbids ``*.memory.process.size`` in ``flinkConfiguration``); every other memory option comes
from the effective Flink configuration. The result is what Flink itself computes at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.flink.memory import MemoryConfigError
from generator.flink.memory_jobmanager import JobManagerMemory, jobmanager_memory
from generator.flink.memory_taskmanager import TaskManagerMemory, taskmanager_memory
from generator.model import keys
from generator.policy.facts import conf_path


def memory_conf(eff: Effective, component: str) -> dict[str, str]:
    """The Flink configuration one process's memory calculation reads: its ``<component>.memory.*``
    options plus the process size from the resources."""
    prefix = f"{component}.memory."
    facts = model.of(eff)
    conf = {k: v for k, v in sorted(facts.conf.items()) if k.startswith(prefix)}
    size = facts.resources[component].memory
    if size is not None:
        conf[f"{prefix}process.size"] = size
    return conf


def key_path(component: str, key: str) -> Path_:
    """Where a memory option lives in the effective configuration."""
    if key == f"{component}.memory.process.size":
        return (*keys.RESOURCES, component, "memory")
    return conf_path(key)


@dataclass(frozen=True)
class Sizing:
    """Both processes' memory, or Flink's refusal."""

    tm_conf: dict[str, str]
    jm_conf: dict[str, str]
    taskmanager: TaskManagerMemory | None
    jobmanager: JobManagerMemory | None
    tm_error: MemoryConfigError | None
    jm_error: MemoryConfigError | None


def sizing(eff: Effective) -> Sizing:
    tm_conf, jm_conf = memory_conf(eff, "taskmanager"), memory_conf(eff, "jobmanager")
    tm: TaskManagerMemory | None = None
    jm: JobManagerMemory | None = None
    tm_error = jm_error = None
    try:
        tm = taskmanager_memory(tm_conf)
    except MemoryConfigError as exc:
        tm_error = exc
    try:
        jm = jobmanager_memory(jm_conf)
    except MemoryConfigError as exc:
        jm_error = exc
    return Sizing(tm_conf, jm_conf, tm, jm, tm_error, jm_error)
