"""``gen new namespace NAME`` and ``gen new deployment NS/NAME --profile P``: scaffold a layer file
with the editor schema modeline, ready to render (docs/getting-started.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from generator.commands.base import ConfigOpt, _config, _err, _run, app

new_app = typer.Typer(help="Scaffold a namespace or a deployment file.", no_args_is_help=True)
app.add_typer(new_app, name="new")

# a Kubernetes object name (RFC 1123 label): every namespace and deployment name becomes part of one
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NAME_MAX = 63


def _check_name(name: str, what: str) -> None:
    from generator.errors import UsageError

    if not _NAME.match(name) or len(name) > _NAME_MAX:
        raise UsageError(
            f"'{name}' is not a valid {what} name",
            hint="lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63",
        )


def _write(path: Path, text: str) -> None:
    from generator.errors import UsageError

    if path.exists():
        raise UsageError(f"{path} exists", hint="edit it, or choose another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    _err(f"created {path}")


def _q(value: str) -> str:
    """A YAML string: JSON's double-quoted form is valid YAML."""
    return json.dumps(value)


@new_app.command("namespace")
def new_namespace(
    name: Annotated[str, typer.Argument(help="The namespace's name (its folder under deployments/).")],
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            help="Where checkpoints, savepoints and HA metadata live (platform.storage.baseUri; "
            "default: s3://flink-{{ env }}/NAME).",
            show_default=False,
        ),
    ] = None,
    kubernetes_namespace: Annotated[
        str | None,
        typer.Option("--kubernetes-namespace", help="The Kubernetes namespace (default: NAME).", show_default=False),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            "-t",
            help="The platform of the namespace's jobs: vvp, vvp-operator or flink-operator (default: the baseline's).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Scaffold namespaces/NAME.yaml: the keys every namespace sets."""

    def body() -> int:
        _check_name(name, "namespace")
        if target is not None:
            from generator.render import target as targets

            targets.get(target)  # an unknown target is a usage error naming the available ones
        root = _config(config).root
        uri = storage or f"s3://flink-{{{{ env }}}}/{name}"
        text = (
            "# yaml-language-server: $schema=../schemas/namespace.json\n"
            f"description: Namespace defaults of {name}.\n"
            "platform:\n"
            + (f"  target: {target}\n" if target else "")
            + "  # the Kubernetes namespace the jobs run in\n"
            f"  kubernetesNamespace: {_q(kubernetes_namespace or name)}\n"
            "  storage:\n"
            "    # checkpoints, savepoints and HA metadata; may use {{ env }} and {{ namespace }}\n"
            f"    baseUri: {_q(uri)}\n"
            "metadata:\n"
            "  labels:\n"
            f"    team: {_q(name)}\n"
            "spec:\n"
            "  # Ververica Platform: the namespace's Deployment Target (application mode, docs/vvp.md)\n"
            f"  deploymentTargetName: {_q(name)}\n"
        )
        _write(root / "namespaces" / f"{name}.yaml", text)
        _err(f"next: gen new deployment {name}/JOB --profile PROFILE")
        return 0

    _run(body)


@new_app.command("deployment")
def new_deployment(
    ref: Annotated[str, typer.Argument(metavar="NS/NAME", help="The namespace and the deployment's name.")],
    profile: Annotated[str, typer.Option("--profile", "-p", help="The reference profile the job starts from.")],
    jar: Annotated[
        str | None,
        typer.Option("--jar", help="The job's JAR (artifact.jarUri); without it the file says where to set it."),
    ] = None,
    entry_class: Annotated[
        str | None, typer.Option("--entry-class", help="The job's main class (artifact.entryClass).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Scaffold deployments/NS/NAME.yaml: one Flink job of a profile."""

    def body() -> int:
        from generator.config.layers import ConfigRepo
        from generator.errors import UsageError

        namespace, _, name = ref.partition("/")
        if not namespace or not name:
            raise UsageError(f"'{ref}' is not NS/NAME", hint="e.g. gen new deployment payments/settlement -p small")
        _check_name(namespace, "namespace")
        _check_name(name, "deployment")
        root = _config(config).root
        repo = ConfigRepo(root)
        if namespace not in repo.names("namespace"):
            raise UsageError(
                f"unknown namespace '{namespace}'",
                hint=f"create it first: gen new namespace {namespace}",
            )
        repo.require("profile", profile)
        if entry_class and not jar:
            raise UsageError("--entry-class needs --jar")
        artifact = [f"jarUri: {_q(jar)}"] if jar else ["jarUri: s3://your-artifacts/your-job.jar  # required"]
        if entry_class:
            artifact.append(f"entryClass: {_q(entry_class)}")
        spec = [
            "spec:",
            "  template:",
            "    spec:",
            "      artifact:",
            *(f"        {line}" for line in artifact),
            "      # the profile's values apply; override them here (gen explain KEY shows where each comes from)",
        ]
        if not jar:  # a null spec would delete the lower layers' settings: leave it out until the JAR is known
            spec = [
                "# spec.template.spec.artifact.jarUri is required: where the job's JAR is",
                *(f"# {s}" for s in spec),
            ]
        lines = [
            "# yaml-language-server: $schema=../../schemas/deployment.json",
            f"profile: {profile}",
            "metadata:",
            f"  displayName: {_q(name)}",
            *spec,
        ]
        _write(root / "deployments" / namespace / f"{name}.yaml", "\n".join(lines) + "\n")
        return 0

    _run(body)
