"""``gen init``: scaffold a configuration repository, also in a freshly cloned (empty) git repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from generator.commands.base import _err, _run, app

#: What a folder may hold and still count as empty: a fresh clone's git folder, and the files a
#: git host creates with a new repository (init writes none of them; an existing .gitignore is kept).
EMPTY_ENOUGH = frozenset({".git", ".gitignore", ".gitattributes"})
EMPTY_ENOUGH_PREFIXES = ("README", "LICENSE", "COPYING")


def _empty_enough(name: str) -> bool:
    return name in EMPTY_ENOUGH or name.upper().startswith(EMPTY_ENOUGH_PREFIXES)


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder to create the configuration repository in (default: this folder).")
    ] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty.")] = False,
) -> None:
    """Scaffold a configuration repository: the example configuration, its schemas, a .gitignore, a
    pre-commit configuration and a CI workflow example."""

    def body() -> int:
        from generator.data import copy_example
        from generator.errors import UsageError

        if directory.exists() and not directory.is_dir():
            raise UsageError(f"{directory} exists and is not a folder")
        if directory.exists() and not force:
            held = sorted(p.name for p in directory.iterdir() if not _empty_enough(p.name))
            if held:
                shown = ", ".join(held[:5]) + (" and more" if len(held) > 5 else "")
                raise UsageError(
                    f"{directory} is not empty (it holds {shown})",
                    hint="choose a new folder, an empty one (a fresh git clone is fine), or pass --force",
                )
        copy_example(directory)
        written = write_schemas(directory / "schemas")
        extras = _write_repository_files(directory)
        where = "" if directory == Path(".") else f" -c {directory}"
        _err(
            f"created {directory}: example configuration, {written} schemas, {', '.join(extras)}; "
            f"try: gen render{where} -e dev"
        )
        return 0

    _run(body)


def _write_repository_files(directory: Path) -> list[str]:
    """The .gitignore, the pre-commit configuration and the CI workflow example; an existing file
    is kept as it is (a clone may bring its own)."""
    from generator.commands import scaffold
    from generator.output.index import gen_version

    version = gen_version()
    files = {
        ".gitignore": scaffold.GITIGNORE,
        ".pre-commit-config.yaml": scaffold.pre_commit_config(version),
        ".github/workflows/gen.yaml": scaffold.ci_workflow(version),
    }
    written = []
    for name, text in files.items():
        path = directory / name
        if path.exists():
            _err(f"kept {path}: it exists")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(name)
    return written


def write_schemas(folder: Path) -> int:
    """The layer files' JSON Schemas, for editors (the modeline of each layer file points at one)."""
    from generator.config.schema import input_schema_texts

    folder.mkdir(parents=True, exist_ok=True)
    texts = input_schema_texts()
    for name, text in sorted(texts.items()):
        (folder / name).write_text(text, encoding="utf-8")
    return len(texts)
