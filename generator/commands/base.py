"""What every command shares: the typer app, the common options, and the one function that turns
errors into messages and exit codes (0 fine, 1 findings, 2 bad input, 3 a bug in gen).

The command line (this package and :mod:`generator.cli`) is the only place that prints or exits.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from generator.config.discover import ConfigChoice
    from generator.config.layers import ConfigRepo
    from generator.output.cache import Cache

app = typer.Typer(
    name="gen",
    help="Render production-grade manifests for Apache Flink on Kubernetes.",
    no_args_is_help=True,
    # --install-completion / --show-completion (bash, zsh, fish); typer imports its completion code
    # only when a completion option or the shell's completion request is given
    add_completion=True,
    pretty_exceptions_enable=False,
    # rich help panels in a terminal; plain help when piped, which spares importing rich (~0.1 s)
    rich_markup_mode="rich" if sys.stdout.isatty() else None,
)

T = TypeVar("T")


class Format(StrEnum):
    text = "text"
    json = "json"


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration folder (default: $GEN_CONFIG, else the nearest folder with a baseline.yaml from here "
        "upwards, else the shipped example, with a notice).",
        show_default=False,
    ),
]
ExampleOpt = Annotated[
    bool,
    typer.Option("--example", help="Read the example configuration shipped with gen (not --config, $GEN_CONFIG)."),
]
EnvOpt = Annotated[str | None, typer.Option("--env", "-e", help="Environment (dev, staging, prod, ...).")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="Only deployments of this profile.")]
NamespaceOpt = Annotated[str | None, typer.Option("--namespace", "-n", help="Only this namespace.")]
DeploymentOpt = Annotated[str | None, typer.Option("--deployment", "-d", help="Only this deployment.")]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="Override a value: key.path=value (highest precedence).")
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Cache of rendered documents (default: $GEN_CACHE_DIR, else $XDG_CACHE_HOME/gen or ~/.cache/gen).",
        show_default=False,
    ),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Render everything again; neither read nor write the cache.")
]


def _cpus() -> int:
    """The CPUs this process may run on (what ``--jobs 0`` uses)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _cache(cache_dir: Path | None, no_cache: bool) -> Cache | None:
    """The render cache of a command's options (:mod:`generator.output.cache`)."""
    from generator.output.cache import Cache, default_folder

    return None if no_cache else Cache(cache_dir if cache_dir is not None else default_folder())


def _err(line: str, *, paths: Sequence[Path] = ()) -> None:
    """Every line gen prints to stderr; none repeats a credential (an OS or internal error's text too).
    ``paths``: folders the command line named that the line shows as they are (not scanned)."""
    from generator.credentials import redact

    typer.echo(redact(line, frozenset(map(str, paths))), err=True)


def _version(value: bool) -> None:
    if value:
        # the package metadata only: importing generator.output (as gen-index.json's writer does) would
        # cost a third of a second
        from generator import installed

        typer.echo(f"gen {installed.version('generator') or 'unknown'}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print gen's version and exit.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    """Render production-grade manifests for Apache Flink on Kubernetes."""


def error_json(exc: Exception) -> str:
    """A failed command's report for ``--format json`` (exit 2): the error, its hint and every
    input problem, each with file, line, column, key, message and hint."""
    import json

    from generator.credentials import redact
    from generator.errors import GenError, InputError

    if isinstance(exc, GenError):
        message, hint = exc.message, exc.hint
    else:  # an OSError
        assert isinstance(exc, OSError)
        message = f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}"
        hint = ""
    problems = exc.problems if isinstance(exc, InputError) else []
    data = {
        "error": redact(message),
        "hint": redact(hint),
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "column": p.col,
                "key": p.key,
                "message": redact(p.message),
                "hint": redact(p.hint),
            }
            for p in problems
        ],
    }
    return json.dumps(data, indent=2)


def _run(fn: Callable[[], int], *, json_errors: bool = False) -> NoReturn:
    """Run a command body: every error a user can cause becomes a message and exit code 2.

    With ``json_errors`` (a command given ``--format json``) a failure with exit code 2 also prints
    :func:`error_json` on stdout; the messages go to stderr as always."""
    from generator.errors import GenError

    try:
        code = fn()
    except GenError as exc:
        for line in exc.lines():
            _err(line)
        if json_errors and exc.exit_code == 2:
            typer.echo(error_json(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        _err("interrupted; the output folder was left as it was")
        raise typer.Exit(130) from None
    except OSError as exc:
        _err(f"error: {exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")
        if json_errors:
            typer.echo(error_json(exc))
        raise typer.Exit(2) from None
    except Exception as exc:  # a bug in gen: say so plainly
        if os.environ.get("GEN_DEBUG"):
            traceback.print_exc()
        _err(f"internal error: {type(exc).__name__}: {exc} (set GEN_DEBUG=1 for details; please report it)")
        raise typer.Exit(3) from None
    raise typer.Exit(code)


def _config(config: Path | None, example: bool = False) -> ConfigChoice:
    """The configuration folder of a command; says so on stderr when it is the shipped example
    because none was found."""
    from generator.config.discover import find_config

    choice = find_config(config, example=example)
    if choice.notice:
        _err(choice.notice)
    return choice


def _repo(config: Path | None, example: bool = False) -> ConfigRepo:
    from generator.config.layers import ConfigRepo

    return ConfigRepo(_config(config, example).root)
