"""``gen smoke``: boot a deployment's rendered configuration on this machine; go (0) or no-go (1).

Only typer and the CLI helpers are imported at module level: ``gen --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from generator.commands.base import ConfigOpt, ExampleOpt, Format, SetOpt, _repo, _run, app

if TYPE_CHECKING:
    from generator.smoke.report import SmokeReport


class _Progress:
    """Progress on stderr: a rich spinner with a ticking clock on a terminal; plain timestamped lines
    when piped (a wait is repeated every 10 s so that a log shows the run is alive)."""

    REPEAT = 10.0

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.last = ""
        self.last_shown = 0.0
        self._status: Any = None
        self._console: Any = None
        self._waiting = ""
        if sys.stderr.isatty():
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def __rich__(self) -> str:  # re-rendered by rich on every refresh: the clock ticks
        return f"{_rich_escape(self._waiting)} [dim]({self.elapsed():.0f}s)[/dim]"

    def __call__(self, text: str, done: bool) -> None:
        now = self.elapsed()
        if self._console is not None:
            if done:
                self._console.print(f"[dim]{now:6.1f}s[/dim] {_rich_escape(text)}")
                return
            self._waiting = text
            if self._status is None:
                self._status = self._console.status(self)
                self._status.start()
            return
        if done or text != self.last or now - self.last_shown >= self.REPEAT:
            typer.echo(f"[{now:6.1f}s] {text}", err=True)
            self.last_shown = now
        self.last = text

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _rich_escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _emit(report: SmokeReport, fmt: Format) -> None:
    from generator.smoke.report import format_report

    if fmt is Format.json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        for line in format_report(report):
            typer.echo(line)


@app.command()
def smoke(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment (dev, staging, prod, ...).")],
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Boot the (first) deployment of this profile.")
    ] = None,
    deployment: Annotated[str | None, typer.Option("--deployment", "-d", help="Boot this deployment.")] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Look for the deployment in this namespace only.")
    ] = None,
    max_taskmanagers: Annotated[
        int, typer.Option("--max-taskmanagers", min=1, help="Start at most this many TaskManagers.")
    ] = 4,
    job: Annotated[
        bool, typer.Option("--job", help="Also run a tiny job and wait for a completed checkpoint (needs javac).")
    ] = False,
    lifecycle: Annotated[
        bool,
        typer.Option(
            "--lifecycle",
            help="Also run a job's healthy lifecycle (checkpoints, savepoint, stop, restore, TaskManager restart) "
            "and prove that no alert fires (needs javac).",
        ),
    ] = False,
    faults: Annotated[
        bool,
        typer.Option(
            "--faults",
            help="Also inject the faults the alerts exist for and prove each alert fires in time (needs javac).",
        ),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=10,
            help="Seconds the whole run may take once the processes start (default 180; 900 with --lifecycle "
            "or --faults).",
        ),
    ] = None,
    fast_jvm: Annotated[
        bool,
        typer.Option(
            "--fast-jvm/--no-fast-jvm",
            help="Start the local JVMs with the C1 JIT only and the serial GC (about 30% less CPU to start).",
        ),
    ] = True,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the run folder (configuration, logs, checkpoints).")
    ] = False,
    config: ConfigOpt = None,
    example: ExampleOpt = False,
    sets: SetOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="text or json (the report, on stdout).")] = Format.text,
) -> None:
    """Boot a deployment's rendered configuration locally and check it: exit 0 go, 1 no-go.

    One JobManager, the configured TaskManagers (at most --max-taskmanagers) and a Prometheus with the
    rendered alert rules run on 127.0.0.1 from a local Flink distribution; the settings a laptop cannot
    honour are adapted and listed. Every alert pending or firing during the run is listed; a paging
    alert that fires is a no-go. --lifecycle and --faults run with the alert durations divided by 10.
    Every process is stopped at the end, also on failure and Ctrl-C.
    """

    def body() -> int:
        from generator.config.resolve import Resolver
        from generator.errors import UsageError
        from generator.smoke.report import SmokeInterrupted
        from generator.smoke.run import SmokeOptions, run_smoke
        from generator.smoke.scenario import TIME_SCALE
        from generator.smoke.target import resolve_target
        from generator.smoke.tools import find_tools

        repo = _repo(config, example)
        resolver = Resolver(repo, sets or ())
        target = resolve_target(repo, resolver, env, profile=profile, deployment=deployment, namespace=namespace)
        if lifecycle and faults:
            raise UsageError("--lifecycle and --faults are separate runs: choose one")
        tools = find_tools(job=job or lifecycle or faults)
        scenario = None
        if lifecycle or faults:
            from generator.smoke.faults import run_faults
            from generator.smoke.lifecycle import run_lifecycle

            scenario = run_lifecycle if lifecycle else run_faults
        options = SmokeOptions(
            max_taskmanagers=max_taskmanagers,
            job=job,
            timeout=timeout if timeout is not None else (900.0 if scenario else 180.0),
            keep=keep,
            fast_jvm=fast_jvm,
            scenario=scenario,
            time_scale=TIME_SCALE if scenario else 1,
        )
        progress = _Progress()
        try:
            report = run_smoke(target, tools, options, progress)
        except SmokeInterrupted as exc:
            progress.close()
            _emit(exc.report, fmt)
            raise
        finally:
            progress.close()
        _emit(report, fmt)
        return 0 if report.go else 1

    _run(body, json_errors=fmt is Format.json)
