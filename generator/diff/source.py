"""What ``gen diff`` compares: a configuration rendered in memory, and a configuration at a git revision.

:func:`render_config` is the only place ``gen diff`` enters the render pipeline: it renders exactly
what ``gen render`` would write (the same code, the same validation), in memory, never touching an
output folder.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.config.effective import Effective
from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.errors import GenError, InputError, UsageError
from generator.output import OutFile, Scope
from generator.output.cache import Cache
from generator.render.plan import Selection, render_run


@dataclass(frozen=True)
class Rendered:
    """A configuration rendered in memory: its files, the effective configurations behind them (every
    deployment's and every namespace's defaults) and the scope a render of it answers for."""

    files: dict[str, OutFile]
    effective: tuple[Effective, ...]
    scope: Scope


def render_config(
    root: Path, selection: Selection, sets: Sequence[str] = (), jobs: int = 1, cache: Cache | None = None
) -> Rendered:
    """Render the configuration at ``root`` as ``gen render`` would, into memory (in ``jobs``
    processes when it is large, as ``gen render`` does; with ``cache``, reusing what did not change,
    the effective configurations included)."""
    repo = ConfigRepo(root)
    run = render_run(repo, Resolver(repo, sets), selection, jobs=jobs, documents=False, cache=cache)
    effective = tuple(eff for ctx in run.contexts for eff in (ctx.effective, *ctx.deployments))
    files = {f.path: f for f in run.files}
    return Rendered(files, effective, selection.scope(repo, run.files))


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("--base needs git, and git is not installed") from None


def export_revision(root: Path, ref: str, dest: Path) -> Path:
    """Write the configuration folder ``root`` as it was at the git revision ``ref`` into ``dest``;
    returns the configuration folder inside ``dest``."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(
            f"--base needs the configuration in a git repository, and {root} is not in one",
            hint="run gen diff without --base to compare with the output folder",
        )
    toplevel = Path(top.stdout.decode().strip()).resolve()
    if commit_of(root, ref) is None:
        raise UsageError(f"unknown git revision '{ref}'", hint="name a commit, a branch or a tag: HEAD~1, main")
    prefix = root.resolve().relative_to(toplevel).as_posix()
    spec = "." if prefix == "." else prefix
    archive = _git(toplevel, "archive", "--format=tar", ref, "--", spec)
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(
            f"the configuration folder {prefix} does not exist at {ref}"
            if prefix != "."
            else f"git could not export {ref}: {message[-1] if message else ''}"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest / prefix if prefix != "." else dest


def revision_file(ref: str, dest: Path) -> Callable[[str], str]:
    """How a file of the configuration exported into ``dest`` is named: as git names a file at a
    revision (``HEAD~1:profiles/small.yaml``, relative to the repository's top)."""
    top = str(dest) + os.sep

    def name(file: str) -> str:
        return f"{ref}:{Path(file[len(top) :]).as_posix()}" if file.startswith(top) else file

    return name


def commit_of(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names in the git repository holding ``root`` (``None`` if it names none)."""
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    text = found.stdout.decode().strip()
    return text if found.returncode == 0 and text else None


def render_revision(
    root: Path,
    ref: str,
    dest: Path,
    selection: Selection,
    jobs: int = 1,
    exported: Path | None = None,
    cache: Cache | None = None,
) -> Rendered:
    """Render the configuration ``root`` as it was at ``ref`` (exported into ``dest``, an absolute
    folder, unless ``exported`` is that export already; with ``cache``, reusing what a render of
    the same files in the same folder stored); its problems name their files as
    :func:`revision_file` does."""
    folder = exported if exported is not None else export_revision(root, ref, dest)
    name = revision_file(ref, dest)
    try:
        return render_config(folder, selection, jobs=jobs, cache=cache)
    except InputError as exc:
        raise InputError([dataclasses.replace(p, file=name(p.file)) for p in exc.problems]) from None
    except GenError as exc:
        raise UsageError(f"the configuration at {ref} does not render: {exc.message}", hint=exc.hint) from None
