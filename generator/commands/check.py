"""``gen check``: the production readiness gate (rules in generator.policy, docs/check.md)."""

from __future__ import annotations

import datetime
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from generator.commands.base import (
    ConfigOpt,
    DeploymentOpt,
    ExampleOpt,
    NamespaceOpt,
    ProfileOpt,
    SetOpt,
    _err,
    _repo,
    _run,
    app,
)


class CheckFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"


def _today(text: str | None) -> datetime.date:
    from generator.errors import UsageError

    if not text:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--today / GEN_TODAY '{text}' is not a date", hint="write YYYY-MM-DD") from None


@app.command()
def check(
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment to grade (required).")] = None,
    profile: ProfileOpt = None,
    namespace: NamespaceOpt = None,
    deployment: DeploymentOpt = None,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="vvp, vvp-operator or flink-operator (default: platform.target)."),
    ] = None,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="table (plain text when piped), json or junit.")
    ] = CheckFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")
    ] = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            envvar="GEN_TODAY",
            help="The date waivers and exceptions are judged on (YYYY-MM-DD).",
            show_default="today",
        ),
    ] = None,
    config: ConfigOpt = None,
    example: ExampleOpt = False,
    sets: SetOpt = None,
    list_rules: Annotated[bool, typer.Option("--list-rules", help="List the rules and their grading.")] = False,
) -> None:
    """Grade deployments against the production readiness checklist; exit 1 if any check fails."""

    def body() -> int:
        from generator.config.resolve import Resolver
        from generator.errors import UsageError
        from generator.policy import report as reports
        from generator.policy.engine import CheckOptions, run_check
        from generator.policy.registry import all_rules

        if list_rules:
            typer.echo(reports.rules_text(all_rules()), nl=False)
            return 0
        if env is None:
            raise UsageError("gen check needs --env", hint="e.g. gen check --env prod")
        day = _today(today)
        repo = _repo(config, example)
        resolver = Resolver(repo, sets or ())
        options = CheckOptions(env, day, profile, namespace, deployment, target)
        result = run_check(repo, resolver, options)
        if fmt is CheckFormat.json:
            text = reports.to_json(result)
        elif fmt is CheckFormat.junit:
            text = reports.to_junit(result)
        elif output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
            from rich.console import Console

            reports.print_table(result, Console())
            return result.exit_code
        else:
            text = reports.to_text(result)
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            _err(reports.summary(result))
        else:
            typer.echo(text, nl=False)
        return result.exit_code

    _run(body, json_errors=fmt is CheckFormat.json)
