"""``gen memory``: the TaskManager and JobManager memory breakdown, exactly as Flink computes it."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from generator.commands.base import (
    ConfigOpt,
    DeploymentOpt,
    ExampleOpt,
    NamespaceOpt,
    ProfileOpt,
    SetOpt,
    _repo,
    _run,
    app,
)

if TYPE_CHECKING:
    from generator.config.layers import ConfigRepo
    from generator.config.resolve import Effective, Resolver
    from generator.flink.memory_jobmanager import JobManagerMemory
    from generator.flink.memory_taskmanager import TaskManagerMemory
    from generator.policy.sizing import Sizing


class MemoryFormat(StrEnum):
    text = "text"
    json = "json"


# (field, label, depth) in the order and nesting of Flink's own "Final ... Memory configuration" log block
TM_LAYOUT: tuple[tuple[str, str, int], ...] = (
    ("total_process", "Total Process Memory", 0),
    ("total_flink", "Total Flink Memory", 1),
    ("jvm_heap", "Total JVM Heap Memory", 2),
    ("framework_heap", "Framework Heap", 3),
    ("task_heap", "Task Heap", 3),
    ("off_heap", "Total Off-heap Memory", 2),
    ("managed", "Managed Memory", 3),
    ("direct", "Total JVM Direct Memory", 3),
    ("framework_off_heap", "Framework Off-heap", 4),
    ("task_off_heap", "Task Off-heap", 4),
    ("network", "Network Memory", 4),
    ("jvm_metaspace", "JVM Metaspace", 1),
    ("jvm_overhead", "JVM Overhead", 1),
)
JM_LAYOUT: tuple[tuple[str, str, int], ...] = (
    ("total_process", "Total Process Memory", 0),
    ("total_flink", "Total Flink Memory", 1),
    ("jvm_heap", "JVM Heap", 2),
    ("off_heap", "Off-heap Memory", 2),
    ("jvm_metaspace", "JVM Metaspace", 1),
    ("jvm_overhead", "JVM Overhead", 1),
)


def _select(
    repo: ConfigRepo,
    resolver: Resolver,
    env: str,
    profile: str | None,
    namespace: str | None,
    deployment: str | None,
) -> list[tuple[Effective, str, str]]:
    """The effective configurations to size (one per namespace for a profile's view in a repository
    of several namespaces), each with a description and the file to blame by default."""
    from generator.config.scope import select_scopes

    scopes = select_scopes(
        repo,
        resolver,
        env,
        profile,
        namespace,
        deployment,
        command="memory",
        require_profile=True,
    )
    found = []
    for scope in scopes:
        eff = scope.effective
        if eff.deployment:
            described = f"deployment {eff.namespace}/{eff.deployment} (profile {eff.profile}, env {env})"
        else:
            described = f"profile {eff.profile} (namespace {eff.namespace}, env {env})"
        found.append((eff, described, scope.home))
    return found


def _same_sizing(selected: list[tuple[Effective, str, str]]) -> list[tuple[Effective, str, str]]:
    """Namespaces whose profile view sizes the same memory are shown once, naming them all."""
    from generator.policy.sizing import sizing

    groups: list[tuple[list[str], tuple[Effective, str, str], Any]] = []
    for item in selected:
        eff = item[0]
        result = sizing(eff)
        # the same sizing from the same lines (a namespace file may set the same size elsewhere)
        key = (
            result.tm_conf,
            result.jm_conf,
            eff.flink_version,
            _source(eff, "taskmanager"),
            _source(eff, "jobmanager"),
        )
        for names, _first, seen in groups:
            if seen == key:
                names.append(eff.namespace)
                break
        else:
            groups.append(([eff.namespace], item, key))
    if len(selected) == 1:
        return selected
    shown = []
    for names, (eff, _described, home), _key in groups:
        where = f"namespace {names[0]}" if len(names) == 1 else f"namespaces {', '.join(names)}"
        shown.append((eff, f"profile {eff.profile} ({where}, env {eff.env})", home))
    return shown


def _refusals(eff: Effective, result: Sizing, home: str) -> list[Any]:
    from generator.config.yamlload import dotted
    from generator.errors import Problem
    from generator.policy.sizing import key_path

    problems = []
    for component, error, conf in (
        ("taskmanager", result.tm_error, result.tm_conf),
        ("jobmanager", result.jm_error, result.jm_conf),
    ):
        if error is None:
            continue
        process_key = f"{component}.memory.process.size"
        explicit = [k for k in error.keys if k in conf and k != process_key]
        key = explicit[0] if explicit else process_key
        path = key_path(component, key)
        origin = eff.origin(path)
        file, line, col = (origin.file, origin.line, origin.col) if origin else (home, 1, 1)
        problems.append(
            Problem(
                file,
                line,
                col,
                dotted(path),
                f"Flink refuses this {component} memory configuration: {error.flink_message}",
                f"configuration keys involved: {', '.join(error.keys)}" if error.keys else "",
            )
        )
    return problems


def _fields(memory: TaskManagerMemory | JobManagerMemory, layout: tuple[tuple[str, str, int], ...]) -> dict[str, int]:
    return {name: int(getattr(memory, name)) for name, _, _ in layout}


def _text_block(
    title: str,
    memory: TaskManagerMemory | JobManagerMemory,
    layout: tuple[tuple[str, str, int], ...],
    source: str,
) -> list[str]:
    from generator.flink.memory import format_size

    lines = [title, f"  process size {source}"]
    for name, label, depth in layout:
        value = int(getattr(memory, name))
        lines.append(f"  {'  ' * depth}{label:<{30 - 2 * depth}} {format_size(value):>12} {value:>15} bytes")
    lines.append(f"  JVM options: {memory.jvm_args()}")
    return lines


def _source(eff: Effective, component: str) -> str:
    from generator import model
    from generator.config.yamlload import dotted

    path = (*model.keys.RESOURCES, component, "memory")
    origin = eff.origin(path)
    where = f" at {origin.where()}" if origin else ""
    return f"{model.of(eff).resources[component].memory} from {dotted(path)}{where}"


def _slots(eff: Effective) -> int:
    from generator import model

    return model.of(eff).slots


@app.command()
def memory(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment.")],
    profile: ProfileOpt = None,
    namespace: NamespaceOpt = None,
    deployment: DeploymentOpt = None,
    config: ConfigOpt = None,
    example: ExampleOpt = False,
    sets: SetOpt = None,
    fmt: Annotated[MemoryFormat, typer.Option("--format", "-f", help="text or json.")] = MemoryFormat.text,
) -> None:
    """Print the TaskManager and JobManager memory breakdown as Flink computes it at start-up."""

    def body() -> int:
        from generator.config.resolve import Resolver
        from generator.errors import InputError
        from generator.policy.sizing import sizing

        repo = _repo(config, example)
        resolver = Resolver(repo, sets or ())
        selected = _same_sizing(_select(repo, resolver, env, profile, namespace, deployment))
        problems = [p for eff, _, home in selected for p in _refusals(eff, sizing(eff), home)]
        if problems:
            raise InputError(problems)
        reports = [_report(eff, described, fmt) for eff, described, _ in selected]
        if fmt is MemoryFormat.json:
            data = reports[0] if len(reports) == 1 else {"results": reports}
            typer.echo(json.dumps(data, indent=2))
        else:
            typer.echo("\n\n".join(str(report) for report in reports))
        return 0

    _run(body, json_errors=fmt is MemoryFormat.json)


def _report(eff: Effective, described: str, fmt: MemoryFormat) -> dict[str, Any] | str:
    """One sizing: the JSON object, or the text block."""
    from generator.flink.memory import format_size
    from generator.policy.sizing import sizing

    result = sizing(eff)
    tm, jm = result.taskmanager, result.jobmanager
    assert tm is not None and jm is not None
    slots = _slots(eff)
    if fmt is MemoryFormat.json:
        return {
            "scope": described,
            "flinkVersion": eff.flink_version,
            "taskmanager": {
                "conf": result.tm_conf,
                "memory": _fields(tm, TM_LAYOUT),
                "human": {name: format_size(v, with_bytes=True) for name, v in _fields(tm, TM_LAYOUT).items()},
                "jvm_args": tm.jvm_args(),
                "slots": slots,
            },
            "jobmanager": {
                "conf": result.jm_conf,
                "memory": _fields(jm, JM_LAYOUT),
                "human": {name: format_size(v, with_bytes=True) for name, v in _fields(jm, JM_LAYOUT).items()},
                "jvm_args": jm.jvm_args(),
            },
        }
    lines = [f"Memory of {described}, Flink {eff.flink_version}, as Flink computes it", ""]
    lines += _text_block("TaskManager", tm, TM_LAYOUT, _source(eff, "taskmanager"))
    lines.append(
        f"  per slot ({slots} slot{'s' if slots != 1 else ''}): task heap {format_size(tm.task_heap // slots)}, "
        f"managed {format_size(tm.managed // slots)}, network {format_size(tm.network // slots)}"
    )
    lines.append("")
    lines += _text_block("JobManager", jm, JM_LAYOUT, _source(eff, "jobmanager"))
    return "\n".join(lines)
