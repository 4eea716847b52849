"""Time the JSON Schema checks of a render, engine against engine, on the documents a render checks.

    python -m benchmarks.schema_validators [--deployments 300] [--namespaces 10] [--repeat 5]
    python -m benchmarks.schema_validators --fastschema OLD/fastschema.py
    python -m benchmarks.schema_validators --render-runs 5 --checkout before=DIR --checkout after=.

The documents are those gen checks while it renders the shipped example and the estate
(:mod:`benchmarks.estate`), for the configured targets and for ``vvp-operator`` and
``flink-operator``: every deployment's effective configuration (the ``effective`` input schema)
and every rendered document checked by an accelerated validator (VVP resources, PodMonitor,
PrometheusRule and the Flink Operator's resources, the built-in Kubernetes objects, the Flink
Operator's Helm values), grouped by schema. Every engine answers "valid?" for each of them:

- ``jsonschema``: ``Draft202012Validator(...).is_valid``, what gen falls back to for messages
- ``jsonschema-rs``: gen's compiled check (:func:`generator.config.fastcheck.compile_check`)
- ``fastschema``: the hand-written compiler gen used before, when ``--fastschema FILE`` names a copy
  of it (``git show 4c2a07d:generator/config/fastschema.py > FILE``)

Columns: ``build`` is making the check (for jsonschema-rs: compiling the schema, and converting a
registry the first time one is used); ``first`` is the first pass over the group's documents
(fastschema compiles the targets of ``$ref`` as documents reach them); ``steady`` is the fastest of
``--repeat`` later passes (one for jsonschema); ``us/doc`` is ``steady`` per document. ``build + first`` is what one
process pays for the group: a render checks each document once. Every engine must give every
document the answer jsonschema gives, or the run fails.

``--render-runs N`` with ``--checkout NAME=DIR`` (twice or more) also times whole processes, with
each checkout's ``generator`` on ``PYTHONPATH``, alternating, after one warm-up run each (which also
writes their bytecode): ``python -m generator render`` of the estate (with gen's default ``--jobs``,
one per CPU, and with ``--jobs 1``) and ``render -p stateful-heavy -e prod`` of the shipped example;
median wall, user and system seconds (workers included) of N runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from jsonschema import Draft202012Validator

from benchmarks import estate
from benchmarks.run import DEFAULT_WORK
from generator.config import fastcheck, schema
from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Resolver
from generator.config.schemafiles import schema_folder
from generator.render import plan
from generator.validate import flink_operator_values, kubernetes, outputs

Check = Callable[[Any], bool]
Maker = Callable[[Any, Any, Any], Check]
TARGETS: tuple[str | None, ...] = (None, "vvp-operator", "flink-operator")


@dataclass
class Group:
    """The documents of one schema, and what it takes to check them."""

    name: str
    schema: Any
    registry: Any
    format_checker: Any
    docs: list[Any] = field(default_factory=list)


@dataclass
class Timing:
    build: float
    first: float
    steady: float


def _kind_schema(folder: str, kind: str) -> Any:
    for name, contents in schema_folder(folder).schemas.items():
        if contents.get("properties", {}).get("kind", {}).get("const") == kind and not name.startswith("_"):
            return contents
    raise SystemExit(f"no schema for {kind} in schemas/{folder}")


def _output_groups(doc: Mapping[str, Any], check: Any) -> list[tuple[str, Callable[[], Group]]]:
    """The schemas gen checks ``doc`` against with an accelerated validator: (name, how to make it)."""
    if check is flink_operator_values.check_values:
        folder = schema_folder("output/helm")
        contents = folder.schemas[flink_operator_values.SCHEMA]
        return [("helm flink-operator values", lambda: Group("", contents, folder.registry, None))]
    if check is not None:
        return []  # the VVP Helm values and the kustomization: plain jsonschema or no schema in gen
    api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    if outputs.is_vvp_rest(doc) or api == "ververica.platform/v1":
        vvp = schema_folder("output/vvp")
        return [(f"vvp {kind}", lambda: Group("", _kind_schema("output/vvp", kind), vvp.registry, None))]
    if api.startswith(outputs.CRD_API_GROUPS):
        crd = schema_folder("output/crd")
        return [(f"crd {kind}", lambda: Group("", _kind_schema("output/crd", kind), crd.registry, None))]
    found: list[tuple[str, Callable[[], Group]]] = []
    for group in kubernetes.schema_groups(api, kind):
        accelerated = kubernetes.validator(group[0], api, kind)
        if accelerated is not None:
            fast: Any = accelerated

            def make(fast: Any = fast) -> Group:
                return Group("", fast.schema, fast.registry, None)

            found.append((f"k8s {kind} ({group[0]}-{group[-1]})", make))
    return found


def collect(config: Path) -> list[Group]:
    """Effective configurations and checked output documents of a render of ``config``."""
    input_folder = schema_folder("input")
    effective = Group(
        "effective configuration",
        schema.validator("effective").schema,
        input_folder.registry,
        schema.validator("effective").format_checker,
    )
    groups: dict[str, Group] = {effective.name: effective}
    checked: list[plan.Doc] = []
    real = plan._out_file

    def recording(prefix: str, doc: plan.Doc, owner: Any, where: str) -> Any:
        checked.append(doc)
        return real(prefix, doc, owner, where)

    for target in TARGETS:
        repo = ConfigRepo(config)
        resolver = Resolver(repo)
        with mock.patch.object(plan, "_out_file", recording):
            run = plan.render_run(repo, resolver, plan.Selection(target=target), jobs=1)
        effective.docs.extend(eff.data for ctx in run.contexts for eff in ctx.deployments)
    for doc in checked:
        for name, make in _output_groups(doc.content, doc.check):
            if name not in groups:
                groups[name] = make()
                groups[name].name = name
            groups[name].docs.append(doc.content)
    return list(groups.values())


def _time_pass(check: Check, docs: list[Any]) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    answers = [check(doc) for doc in docs]
    return time.perf_counter() - start, answers


def time_engine(make: Maker, group: Group, repeat: int, expected: list[bool] | None) -> tuple[Timing, list[bool]]:
    start = time.perf_counter()
    check = make(group.schema, group.registry, group.format_checker)
    build = time.perf_counter() - start
    first, answers = _time_pass(check, group.docs)
    if expected is not None and answers != expected:
        wrong = sum(a != e for a, e in zip(answers, expected, strict=True))
        raise SystemExit(f"{group.name}: {wrong} of {len(answers)} answers differ from jsonschema's")
    steady = min(_time_pass(check, group.docs)[0] for _ in range(repeat))
    return Timing(build, first, steady), answers


def _jsonschema(schema_: Any, registry: Any, format_checker: Any) -> Check:
    check: Check = Draft202012Validator(schema_, registry=registry, format_checker=format_checker).is_valid
    return check


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarked_fastschema", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def engines(fastschema: Path | None) -> dict[str, Maker]:
    found: dict[str, Maker] = {"jsonschema": _jsonschema, "jsonschema-rs": fastcheck.compile_check}
    if fastschema is not None:
        found["fastschema"] = _load(fastschema).compile_schema
    return found


def report(title: str, groups: list[Group], makers: dict[str, Maker], repeat: int) -> None:
    names = list(makers)
    fastcheck._REGISTRIES.clear()  # as in a new process: each registry is converted once, when first used
    print(f"\n{title}: {sum(len(g.docs) for g in groups)} documents, {len(groups)} schemas; times in ms")
    head = f"{'schema':<44} {'docs':>5}"
    for name in names:
        head += f" | {name + ' build':>19} {'first':>8} {'steady':>8} {'us/doc':>7}"
    print(head)
    print("-" * len(head))
    totals = {name: Timing(0.0, 0.0, 0.0) for name in names}
    for group in groups:
        expected: list[bool] | None = None
        line = f"{group.name:<44} {len(group.docs):>5}"
        for name in names:
            passes = 1 if name == "jsonschema" else repeat  # seconds per pass on the estate
            timing, answers = time_engine(makers[name], group, passes, expected)
            expected = expected if expected is not None else answers
            total = totals[name]
            total.build, total.first, total.steady = (
                total.build + timing.build,
                total.first + timing.first,
                total.steady + timing.steady,
            )
            per_doc = timing.steady / len(group.docs) * 1e6
            line += f" | {timing.build * 1e3:19.1f} {timing.first * 1e3:8.1f} {timing.steady * 1e3:8.1f} {per_doc:7.0f}"
        print(line, flush=True)
    print("-" * len(head))
    for name in names:
        t = totals[name]
        print(
            f"{name:<14} build {t.build * 1e3:8.1f}  first pass {t.first * 1e3:9.1f}  "
            f"build + first {(t.build + t.first) * 1e3:9.1f}  steady pass {t.steady * 1e3:9.1f}"
        )


@dataclass
class Run:
    wall: float
    user: float
    system: float


def _measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """Wall, user and system seconds of ``cmd`` and every child it waited for. User time is the
    steady one: system time is mostly writing the files, which varies with the shared disk."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Run(wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)


def time_renders(commands: dict[str, list[str]], checkouts: list[tuple[str, Path]], runs: int, work: Path) -> None:
    """Each command (``gen render`` arguments but ``-o``) with each checkout, alternating."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples: dict[tuple[str, str], list[Run]] = {}
    out = work / "render-out"
    for round_ in range(runs + 1):
        for label, args in commands.items():
            for name, root in checkouts:
                shutil.rmtree(out, ignore_errors=True)
                cmd = [sys.executable, "-m", "generator", "render", *args, "-o", str(out)]
                run = _measure(cmd, root, {**env, "PYTHONPATH": str(root)})
                if round_:  # the first round warms the file cache and writes bytecode
                    samples.setdefault((label, name), []).append(run)
    print(f"\nwhole renders, median of {runs} runs (checkouts alternating), load {os.getloadavg()[0]:.2f} after")
    print(
        f"{'render':<34} {'checkout':<10} {'wall s':>7} {'(min-max)':>13} {'user s':>7} {'(min-max)':>13} {'sys s':>6}"
    )
    for (label, name), got in samples.items():
        walls, users = [r.wall for r in got], [r.user for r in got]
        print(
            f"{label:<34} {name:<10} {statistics.median(walls):7.3f} {f'({min(walls):.2f}-{max(walls):.2f})':>13} "
            f"{statistics.median(users):7.3f} {f'({min(users):.2f}-{max(users):.2f})':>13} "
            f"{statistics.median(r.system for r in got):6.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--deployments", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5, help="steady passes per engine and schema")
    parser.add_argument("--fastschema", type=Path, help="a copy of the old generator/config/fastschema.py")
    parser.add_argument("--render-runs", type=int, default=0, help="time whole renders too")
    parser.add_argument("--checkout", action="append", default=[], help="NAME=DIR of a gen checkout to render with")
    parser.add_argument("--renders-only", action="store_true", help="skip the engine tables")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK / "schema-validators")
    args = parser.parse_args(argv)
    config = args.work / "estate"
    estate.write(config, args.namespaces, args.deployments)
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}")
    if not args.renders_only:
        makers = engines(args.fastschema)
        report("shipped example", collect(example_config_dir()), makers, args.repeat)
        report(f"estate ({args.deployments} deployments)", collect(config), makers, args.repeat)
    if args.render_runs:
        checkouts = []
        for item in args.checkout:
            name, sep, root = item.partition("=")
            if not sep:
                raise SystemExit(f"--checkout {item}: write NAME=DIR")
            checkouts.append((name, Path(root).resolve()))
        estate_args = ["-c", str(config.resolve())]
        commands = {
            f"estate ({args.deployments} deployments)": estate_args,
            f"estate ({args.deployments} deployments) -j 1": [*estate_args, "--jobs", "1"],
            "example -p stateful-heavy -e prod": [
                "-c",
                str(example_config_dir()),
                "-p",
                "stateful-heavy",
                "-e",
                "prod",
            ],
        }
        time_renders(commands, checkouts or [("this", Path.cwd())], args.render_runs, args.work)


if __name__ == "__main__":
    main()
