"""The `gen` command line: parse, call the library, format, exit codes (0 fine, 1 findings, 2 bad input).

This is the only place that prints or exits (with :mod:`generator.commands`). Heavy modules are
imported inside the commands so that ``gen --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

# Commands that live in their own modules register on the shared app when imported.
import generator.commands.check
import generator.commands.diff
import generator.commands.explain
import generator.commands.init
import generator.commands.memory
import generator.commands.new
import generator.commands.smoke
import generator.commands.vvp  # noqa: F401
from generator.commands.base import (
    CacheDirOpt,
    ConfigOpt,
    DeploymentOpt,
    EnvOpt,
    ExampleOpt,
    Format,
    NamespaceOpt,
    NoCacheOpt,
    ProfileOpt,
    SetOpt,
    _cache,
    _config,
    _cpus,
    _err,
    _repo,
    _run,
    app,
)
from generator.commands.init import write_schemas

if TYPE_CHECKING:
    from collections.abc import Sequence

    from generator.output import Plan, Removal


@app.command()
def render(
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    namespace: NamespaceOpt = None,
    deployment: DeploymentOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output folder (default: out in the configuration folder gen found from here upwards; "
            "with --config, $GEN_CONFIG or the example: ./out).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
    example: ExampleOpt = False,
    sets: SetOpt = None,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="vvp, vvp-operator or flink-operator (default: platform.target)."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the output folder is stale.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace files in --out that gen did not write.")] = False,
    allow_delete: Annotated[
        bool,
        typer.Option(
            "--allow-delete",
            help="Remove the files of stateful jobs that are no longer rendered (under GitOps: delete those jobs).",
        ),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=0, help="Processes for a large render (0: one per CPU; 1: no workers)."),
    ] = 0,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="text or json (the files of the run, on stdout).")
    ] = Format.text,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Render manifests into OUT/<env>/<namespace>/ (atomically; --check compares instead)."""

    def body() -> int:
        from generator import credentials

        with contextlib.ExitStack() as scanning:
            if _program and not check:  # a render most likely scans a changed value: begun at once
                scanning.enter_context(credentials.loading_beside())
            return rendering(scanning)

    def rendering(scanning: contextlib.ExitStack) -> int:
        from generator import credentials, output
        from generator.config.layers import ConfigRepo
        from generator.output.cache import planned
        from generator.render.selection import Selection

        choice = _config(config, example)
        repo = ConfigRepo(choice.root)
        # a configuration found upwards is a repository: its output folder is at its root (as git
        # works from any folder of a repository); an explicit --out is relative to this folder
        folder = out if out is not None else (choice.root / "out" if choice.found_upwards else Path("out"))
        selection = Selection(env, profile, namespace, deployment, target)
        store = _cache(cache_dir, no_cache)
        known: list[output.FileDigest] | None = None
        if store is not None and not sets:
            # nothing changed since a render stored its summary: a check imports no renderer, and a
            # render most likely writes nothing
            from generator.render import summary

            known = summary.lookup(store, repo, selection)
        if _program and known is None:
            scanning.enter_context(credentials.loading_beside())  # (the one begun above, if any)

        def waiting() -> None:
            _err(f"waiting for another gen run on {folder} ...")

        with contextlib.ExitStack() as held:
            if store is not None:
                # the run's cache entries are stored at the end, while the previous tree is removed
                held.enter_context(store.deferred())
            prepared: output.Prepared | None = None
            lock: int | None = None
            if not check and known is None and (folder / output.INDEX).is_file():
                # the inputs changed: the new tree is begun from the previous one while the run renders
                # (on another CPU), if no other run holds the folder (that one is not waited for yet)
                lock = held.enter_context(output.locked(folder, wait=False))
                prepared = output.prepare(folder, lock) if lock is not None else None
                if prepared is not None:
                    held.callback(prepared.cancel)  # unless the write takes it
            rendered: list[output.OutFile] = []
            if known is None or not check:
                from generator.config.resolve import Resolver
                from generator.render.plan import render as render_files

                resolver = Resolver(repo, sets or ())
                with _Progress() as progress:
                    rendered = render_files(repo, resolver, selection, progress, jobs or _cpus(), store, lazy=True)
            files: Sequence[output.OutFile | output.FileDigest] = known if check and known is not None else rendered
            if not files:
                _err("nothing selected: no deployment matches the options")
                if fmt is Format.json:
                    typer.echo(_render_json(folder, check, output.Plan[output.OutFile]({}), []))
                return 0
            scope = selection.scope(repo, files)
            if check:
                with output.locked(folder, on_wait=waiting, shared=True):  # never while a render swaps the folder
                    compared = planned(store, folder, files, scope, force=True)
                if fmt is Format.json:
                    typer.echo(_render_json(folder, True, compared, []))
                else:
                    drifted = (("stale", compared.stale), ("missing", compared.missing), ("extra", compared.extra))
                    for label, paths in drifted:
                        for path in paths:
                            typer.echo(f"{label}: {folder / path}")
                if compared.drift:
                    _err(f"{folder} is out of date: run the same command without --check", paths=[folder])
                    return 1
                _err(f"{folder} is up to date ({len(files)} files)", paths=[folder])
                return 0
            if lock is None:
                lock = held.enter_context(output.locked(folder, on_wait=waiting))
            result = planned(store, folder, rendered, scope, force=force)
            if not output.contents_ready(output.to_create(result)):
                # the cache lost contents this run reused (their units' entries are gone with them):
                # those units are rendered again, the others' contents read now
                rendered = render_files(repo, resolver, selection, None, jobs or _cpus(), store)
                result = planned(store, folder, rendered, scope, force=force)
            removed = output.removals(folder, result.extra)
            if not allow_delete:
                output.refuse_stateful(folder, removed)  # before anything is written
            if result.drift or not (folder / output.INDEX).exists():
                output.write(folder, result, prepared=prepared, meanwhile=store.flush if store else None, lock=lock)
        for gone in removed:
            note = f" (a stateful job: {gone.stateful})" if gone.stateful else ""
            _err(f"removed: {output.printable(str(folder / gone.path))}{note}")
        changed = len(result.stale) + len(result.missing)
        _err(
            f"wrote {len(files)} files to {folder} ({changed} changed, {len(result.extra)} removed, "
            f"{len(result.unchanged)} unchanged)",
            paths=[folder],
        )
        if fmt is Format.json:
            typer.echo(_render_json(folder, False, result, removed))
        return 0

    _run(body, json_errors=fmt is Format.json)


def _render_json(folder: Path, check: bool, result: Plan[Any], removed: Sequence[Removal]) -> str:
    """``gen render --format json``: the files of the run, relative to ``out``. ``written``,
    ``changed``, ``removed`` and ``unchanged`` are what a render did (empty with --check);
    ``stale``, ``missing`` and ``extra`` what differed before it, and ``drift`` whether anything did."""
    wrote = not check
    data = {
        "out": str(folder),
        "check": check,
        "drift": result.drift,
        "written": sorted(result.files) if wrote else [],
        "changed": sorted(result.stale + result.missing) if wrote else [],
        "removed": [{"path": gone.path, "stateful": gone.stateful or None} for gone in removed],
        "unchanged": sorted(result.unchanged),
        "stale": result.stale,
        "missing": result.missing,
        "extra": result.extra,
    }
    return json.dumps(data, indent=2)


class _Progress:
    """A progress bar (rich, on stderr) for renders that take longer than a second; nothing when
    stderr is not a terminal. Called with (namespaces done, namespaces in all)."""

    DELAY = 1.0

    def __init__(self) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._enabled = sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            if self._clock() - self._start < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("rendering"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("namespaces x environments"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("render", total=total)
        self._bar.update(self._task, completed=done, total=total)


@app.command()
def validate(
    env: EnvOpt = None,
    config: ConfigOpt = None,
    example: ExampleOpt = False,
    sets: SetOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="text or json (the result, on stdout).")] = Format.text,
) -> None:
    """Check every layer file and render everything in memory; write nothing."""

    def body() -> int:
        from generator.config.resolve import Resolver
        from generator.errors import InputError
        from generator.render.plan import Selection
        from generator.render.plan import render as render_files

        repo = _repo(config, example)
        resolver = Resolver(repo, sets or ())
        problems = []
        for kind, name, ns in repo.iter_all_files():
            try:
                repo.layer(kind, name, ns)
            except InputError as exc:
                problems.extend(exc.problems)
        if problems:
            raise InputError(problems)
        files = render_files(repo, resolver, Selection(env=env))
        layers = len(list(repo.iter_all_files()))
        _err(f"configuration is valid: {layers} layer files, {len(files)} documents rendered")
        if fmt is Format.json:  # invalid: the problems as error_json prints them (exit 2)
            data = {"valid": True, "layer_files": layers, "documents": len(files), "problems": []}
            typer.echo(json.dumps(data, indent=2))
        return 0

    _run(body, json_errors=fmt is Format.json)


class ListWhat(StrEnum):
    profiles = "profiles"
    environments = "environments"
    namespaces = "namespaces"
    deployments = "deployments"


@app.command("list")
def list_(
    what: Annotated[ListWhat | None, typer.Argument(help="profiles, environments, namespaces or deployments.")] = None,
    config: ConfigOpt = None,
    example: ExampleOpt = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="text or json.")] = Format.text,
) -> None:
    """List profiles, environments, namespaces and deployments of the configuration."""

    def body() -> int:
        from generator.config.resolve import Resolver

        repo = _repo(config, example)
        resolver = Resolver(repo)
        data: dict[str, Any] = {
            "profiles": repo.names("profile"),
            "environments": repo.names("environment"),
            "namespaces": repo.names("namespace"),
            "deployments": [
                {"namespace": ns, "name": name, "profile": resolver.profile_of(ns, name)}
                for ns, name in repo.deployments()
            ],
        }
        if what is not None:
            data = {what.value: data[what.value]}
        if fmt is Format.json:
            typer.echo(json.dumps(data, indent=2))
            return 0
        for section, items in data.items():
            if what is None:
                typer.echo(f"{section}:")
            for item in items:
                prefix = "  " if what is None else ""
                if isinstance(item, dict):
                    typer.echo(f"{prefix}{item['namespace']}/{item['name']}  (profile {item['profile']})")
                else:
                    typer.echo(f"{prefix}{item}")
        return 0

    _run(body, json_errors=fmt is Format.json)


@app.command()
def schema(
    directory: Annotated[Path, typer.Argument(help="Folder to write the schemas to.")] = Path("schemas"),
) -> None:
    """Write the JSON Schemas of the layer files, for editors to validate and complete them."""

    def body() -> int:
        count = write_schemas(directory)
        _err(
            f"wrote {count} schemas to {directory}; layer files reference them with a "
            "'# yaml-language-server: $schema=...' first line"
        )
        return 0

    _run(body)


# Whether gen is the program of this process (:func:`run`), not a library inside another (a test's
# runner, a host program): only then does a render fork a process to load detect-secrets beside it
# (:func:`generator.credentials.loading_beside`), which pays off in a process that starts for one command.
_program = False


def main() -> None:
    # gen builds large structures that hold no reference cycles (configurations with their
    # provenance, documents): at CPython's default thresholds the cyclic collector ran every 700
    # allocations and went through that growing heap again and again (12 % of a cold render's CPU,
    # a fifth of an incremental one; benchmarks/README.md). It runs far less often, and never
    # through what was imported before the command started; the odd cycle is still collected.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    if os.environ.get("GEN_DEBUG"):  # what gen logs for its developers: why a faster path was not taken
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        logging.getLogger("generator").addHandler(handler)
        logging.getLogger("generator").setLevel(logging.DEBUG)
    app()
    sys.exit(0)


def run() -> None:
    """The ``gen`` program: :func:`main`, then exit without tearing the interpreter down.

    A render leaves a large heap behind (configurations with their provenance, documents, cache
    entries); freeing it object by object at exit took a fifth of a second, as long as the rest of
    an incremental render's bookkeeping (benchmarks/README.md). Nothing needs that teardown: every
    file gen writes is closed, and renamed into place, before the command returns; only stdout and
    stderr are buffered, and they are flushed here. An exception :func:`main` does not handle
    (a bug) still ends the program the usual way, with its traceback; so does every run under a
    profiler or a tracer (``python -m cProfile``, coverage), which write their results at exit."""
    global _program
    _program = True
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # what sys.exit("message") does
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (gen ... | head): as Python's own exit reports it
            status = status or 120
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(status)
    os._exit(status)
