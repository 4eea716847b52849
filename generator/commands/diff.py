"""``gen diff``: what a render would change, per resource, and the input line behind each change.

Compares a render (in memory, through the same pipeline as ``gen render``) with the output folder,
or with a render of the configuration at a git revision (``--base REF``). Exit 0: nothing would
change; 1: changes; 2: bad input.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

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
    _cache,
    _config,
    _cpus,
    _err,
    _run,
    app,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from generator.diff import Cause, Comparison, FileChange
    from generator.output.cache import Cache
    from generator.render.plan import Selection

_COLOURS = {"+": "green", "-": "red", "@": "cyan", "#": "yellow"}


@app.command()
def diff(
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    namespace: NamespaceOpt = None,
    deployment: DeploymentOpt = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            "-b",
            help="Compare with the configuration at this git revision (HEAD~1, main) instead of the output folder.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder to compare with (default: as gen render).", show_default=False),
    ] = None,
    config: ConfigOpt = None,
    example: ExampleOpt = False,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="vvp, vvp-operator or flink-operator (default: platform.target)."),
    ] = None,
    color: Annotated[
        bool | None,
        typer.Option(
            "--color/--no-color", help="Colour the diff (default: when stdout is a terminal).", show_default=False
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="text or json.")] = Format.text,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Show what a render would change: a unified diff per resource, the input line behind each change."""

    def body() -> int:
        from generator.errors import UsageError
        from generator.render.plan import Selection

        choice = _config(config, example)
        if base is not None and out is not None:
            raise UsageError("--base compares two configurations, --out a configuration with a folder: give one")
        selection = Selection(env, profile, namespace, deployment, target)
        store = _cache(cache_dir, no_cache)
        if base is not None:
            if example:
                raise UsageError("--base needs a configuration in a git repository, not the shipped example")
            result = _against_revision(choice.root, base, selection, store)
            against = f"the configuration at {base}"
        else:
            folder = out if out is not None else (choice.root / "out" if choice.found_upwards else Path("out"))
            result = _against_folder(choice.root, folder, selection, store)
            against = str(folder)
        if not result.changes and not result.unchanged:
            _err("nothing selected: no deployment matches the options")
        changed = bool(result.changes)
        if fmt is Format.json:
            typer.echo(_json(result, base, None if base is not None else against))
        else:
            colour = color if color is not None else sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            for line in _text(result, based=base is not None):
                typer.echo(_coloured(line) if colour else line, color=colour)
        s = result.summary
        _err(
            f"{s['added']} added, {s['changed']} changed, {s['removed']} removed, {s['unchanged']} unchanged "
            f"(compared with {against})"
        )
        return 1 if changed else 0

    _run(body, json_errors=fmt is Format.json)


def _coloured(line: str) -> str:
    """A report line as git colours a diff: file lines bold, hunk headers cyan, removed red, added
    green; the input lines behind the changes yellow."""
    if line.startswith(("--- ", "+++ ", "added ", "changed ", "removed ")):
        return typer.style(line, bold=True)
    colour = _COLOURS.get(line[:1])
    return typer.style(line, fg=colour) if colour else line


def _unchanged_against_folder(root: Path, folder: Path, selection: Selection, store: Cache) -> Comparison | None:
    """When the cache holds every file of the render and none differs from ``folder``: the
    comparison, from the inputs' digests, the cache and the folder, rendering nothing (as ``gen
    render --check`` answers). ``None`` when anything is not cached, differs or has a problem: the
    caller renders, and reports what it finds as it always does."""
    from generator import output
    from generator.config.layers import ConfigRepo
    from generator.config.resolve import Resolver
    from generator.diff import Comparison
    from generator.errors import GenError
    from generator.output.cache import planned
    from generator.output.index import Planned
    from generator.render import summary
    from generator.render.plan import cached

    try:
        repo = ConfigRepo(root)
        files: Sequence[Planned] | None = summary.lookup(store, repo, selection)  # the run's summary, else
        if files is None:  # every unit from the cache
            files = cached(repo, Resolver(repo), selection, store)
        if files is None or not folder.is_dir():
            return None
        with output.locked(folder, shared=True):
            result = planned(store, folder, files, selection.scope(repo, files), force=True)
    except GenError:
        return None
    return None if result.drift else Comparison(unchanged=len(files))


def _against_folder(root: Path, folder: Path, selection: Selection, store: Cache | None) -> Comparison:
    """The render of ``root`` against the output folder (read under the render lock, never written)."""
    from generator import output
    from generator.diff import Comparison, Explainer, compare, render_config
    from generator.output.cache import planned

    quick = _unchanged_against_folder(root, folder, selection, store) if store is not None else None
    if quick is not None:
        return quick
    rendered = render_config(root, selection, jobs=_cpus(), cache=store)
    if not rendered.files:  # as gen render: nothing selected writes (and so changes) nothing
        return Comparison()
    if not folder.exists():
        return compare({}, rendered.files, Explainer(rendered.effective))

    def waiting() -> None:
        _err(f"waiting for another gen run on {folder} ...")

    with output.locked(folder, on_wait=waiting, shared=True):
        result = planned(store, folder, list(rendered.files.values()), rendered.scope, force=True)
        old = {p: rendered.files[p].content for p in result.unchanged}
        for path in (*result.stale, *result.extra):
            if (folder / path).is_file():
                old[path] = (folder / path).read_text(encoding="utf-8", errors="replace")
        index = output.read_index(folder) or {}
    owners = {p: output.Owner(**e.get("owner", {})) for p, e in index.items()}
    return compare(old, rendered.files, Explainer(rendered.effective), owners)


def _same_inputs(root: Path, folder: Path | None) -> bool:
    """Whether the exported configuration ``folder`` is, input for input, the one in ``root``: the
    same layer files with the same text, the same own resources. Then both render the same files,
    and only ``root`` needs rendering. False when either cannot be read as a whole."""
    from generator.config.layers import ConfigRepo
    from generator.errors import GenError

    try:
        return folder is not None and ConfigRepo(root).inputs_digest() == ConfigRepo(folder).inputs_digest()
    except GenError:
        return False


def _against_revision(root: Path, ref: str, selection: Selection, store: Cache | None) -> Comparison:
    """The render of ``root`` against the render of the same configuration at the git revision ``ref``."""
    from generator.config.layers import ConfigRepo
    from generator.config.resolve import Resolver
    from generator.diff import (
        Comparison,
        Explainer,
        compare,
        export_revision,
        render_config,
        render_revision,
        revision_file,
    )
    from generator.errors import GenError
    from generator.render.plan import render

    with contextlib.ExitStack() as stack:
        dest = _base_folder(stack, root, ref, store)
        try:  # exported once, for the comparison of inputs and for the base's render
            folder: Path | None = export_revision(root, ref, dest)
        except GenError:
            folder = None  # reported by render_revision, after the working tree's own problems
        if _same_inputs(root, folder):
            repo = ConfigRepo(root)  # one render (from the cache where it can), compared with itself
            return Comparison(unchanged=len(render(repo, Resolver(repo), selection, None, _cpus(), store)))
        # both sides from the cache where they can
        rendered = render_config(root, selection, jobs=_cpus(), cache=store)
        before = render_revision(root, ref, dest, selection, _cpus(), folder, cache=store)
    old = {p: f.content for p, f in before.files.items()}
    owners = {p: f.owner for p, f in before.files.items()}
    explainer = Explainer(rendered.effective, before.effective, revision_file(ref, dest))
    return compare(old, rendered.files, explainer, owners)


def _base_folder(stack: contextlib.ExitStack[bool | None], root: Path, ref: str, store: Cache | None) -> Path:
    """An empty folder to export the base into, removed when ``stack`` closes. With a cache, the same
    folder for every export of one commit (``revisions/<commit>`` in the cache folder, held under its
    lock; its path is part of the cache keys), so the base renders from the cache like the working
    tree; otherwise, or if the cache folder cannot be written, a new temporary folder."""
    from generator.diff import commit_of
    from generator.output import locked

    commit = commit_of(root, ref) if store is not None else None
    if store is not None and commit is not None:
        revisions = store.folder / "revisions"
        dest = revisions / commit
        try:
            stack.enter_context(locked(dest, lambda: _err(f"waiting for another gen diff of {commit[:12]} ...")))
            for leftover in list(revisions.iterdir()):  # exports of runs that were killed
                shutil.rmtree(leftover)
            dest.mkdir()
        except OSError:
            pass  # the cache folder cannot be written: a temporary folder does
        else:
            stack.callback(shutil.rmtree, dest, ignore_errors=True)
            return dest
    return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gen-diff-"))).resolve()


def _value(value: Any) -> str:
    from generator.config.merge import DELETED

    return "(not set)" if value is DELETED else json.dumps(value)


def _because(cause: Cause, based: bool) -> str:
    if not based:
        return f"set by {cause.where()} ({cause.key})"
    if _value(cause.value) == "(not set)":
        return f"changed because {cause.where()} was removed ({cause.key} was {_value(cause.old)})"
    return f"changed because {cause.where()} changed ({cause.key}: {_value(cause.old)} -> {_value(cause.value)})"


def _text(result: Comparison, *, based: bool) -> list[str]:
    lines: list[str] = []
    for change in result.changes:
        lines.append(f"{change.status} {change.label}" + (f" ({change.path})" if change.label != change.path else ""))
        lines.extend(_headers(change))
        for hunk in change.hunks:
            lines.append(hunk.header)
            lines.extend(hunk.lines)
            if change.status == "added":
                continue  # every line is new: its inputs are the deployment's files
            for traced in hunk.traced:
                why = "; ".join(_because(c, based) for c in traced.causes)
                lines.append(f"# line {traced.line} `{traced.text}`: {why}")
        for cause in change.causes:
            lines.append(f"# {_because(cause, based)}")
        lines.append("")
    s = result.summary
    lines.append(f"{s['added']} added, {s['changed']} changed, {s['removed']} removed")
    for status in ("added", "changed", "removed"):
        for change in result.changes:
            if change.status == status:
                where = f"  {change.path}" if change.label != change.path else ""
                lines.append(f"  {status:<8} {change.label}{where}")
    return lines


def _cause_json(cause: Cause) -> dict[str, Any]:
    from generator.config.merge import DELETED

    return {
        "key": cause.key,
        "file": cause.file,
        "line": cause.line,
        "column": cause.column,
        "value": None if cause.value is DELETED else cause.value,
        "old": None if cause.old is DELETED else cause.old,
        "changed": cause.changed,
    }


def _headers(change: FileChange) -> list[str]:
    """The unified diff's file lines; an added or removed file is compared with /dev/null, as git does."""
    return [
        f"--- {'/dev/null' if change.status == 'added' else 'a/' + change.path}",
        f"+++ {'/dev/null' if change.status == 'removed' else 'b/' + change.path}",
    ]


def _change_json(change: FileChange) -> dict[str, Any]:
    diff_lines = _headers(change)
    for hunk in change.hunks:
        diff_lines.append(hunk.header)
        diff_lines.extend(hunk.lines)
    return {
        "path": change.path,
        "status": change.status,
        "kind": change.kind or None,
        "name": change.name or None,
        "namespace": change.namespace or None,
        "diff": "\n".join(diff_lines) + "\n",
        "lines": [
            {"line": t.line, "text": t.text, "causes": [_cause_json(c) for c in t.causes]}
            for hunk in change.hunks
            for t in hunk.traced
        ]
        if change.status != "added"
        else [],
        "causes": [_cause_json(c) for c in change.causes],
    }


def _json(result: Comparison, base: str | None, out: str | None) -> str:
    data = {
        "base": base,
        "out": out,
        "changes": bool(result.changes),
        "summary": result.summary,
        "files": [_change_json(c) for c in result.changes],
    }
    return json.dumps(data, indent=2)
