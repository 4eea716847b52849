"""``gen vvp apply``: deliver the rendered Ververica Platform REST resources of an environment to the
platform's AppManager API (docs/vvp.md, "Delivery"). Plan first; ``--dry-run`` prints the plan only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from generator.commands.base import _err, _run, app

vvp_app = typer.Typer(name="vvp", help="Ververica Platform: deliver the rendered REST resources.", no_args_is_help=True)
app.add_typer(vvp_app)

TOKEN_ENV = "VVP_API_TOKEN"


@vvp_app.command("apply")
def apply(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose rendered resources to apply.")],
    url: Annotated[
        str,
        typer.Option(
            "--url", envvar="GEN_VVP_URL", help="The platform's https address (or $GEN_VVP_URL).", show_default=False
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The output folder gen render wrote.")] = Path("out"),
    token_env: Annotated[
        str, typer.Option("--token-env", help="Environment variable holding the API token.")
    ] = TOKEN_ENV,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="File holding the API token (instead of the environment variable)."),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option("--ca-file", help="CA certificates (PEM) to verify the platform's TLS certificate with."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    allow_delete: Annotated[
        bool,
        typer.Option("--allow-delete", help="Delete resources labelled managed-by gen that are no longer rendered."),
    ] = False,
) -> None:
    """Create or update the environment's DeploymentTargets, DeploymentDefaults, SessionClusters and
    Deployments on the platform (GET by name, then POST, PUT or PATCH); prints the plan first."""

    def body() -> int:
        from generator.deliver import vvp_apply
        from generator.deliver.vvp_api import Client

        resources = vvp_apply.read_resources(out, env)
        token = vvp_apply.read_token(token_env, token_file)
        client = Client(url, token, ca_file=str(ca_file) if ca_file else None)
        actions = vvp_apply.plan(client, resources)
        for action in actions:
            line = action.line()
            if action.verb == "keep" and allow_delete:
                line = f"delete {action.label}"
            typer.echo(line)
        changes = [a for a in actions if a.verb in ("create", "update") or (a.verb == "keep" and allow_delete)]
        if dry_run:
            _err(f"plan: {len(changes)} change(s), {len(actions) - len(changes)} left as they are (dry run)")
            return 0
        done = vvp_apply.apply(client, actions, allow_delete=allow_delete)
        _err(f"applied {len(done)} change(s) to {client.base}; {len(actions) - len(done)} left as they are")
        return 0

    _run(body)
