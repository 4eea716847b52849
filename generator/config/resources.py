"""Your own Kubernetes objects beside gen's: the ``resources/`` folder of a configuration repository.

::

    resources/<namespace>/<file>.yaml          one object, written in every environment
    resources/<namespace>/<env>/<file>.yaml    one object, written in that environment only (a file
                                               with the name of one above replaces it there)

Each file holds one Kubernetes object (a cert-manager ``Certificate``, an ``ExternalSecret``, a
``PodDisruptionBudget``, ...), written as it is into the namespace's output folder and listed in
its kustomization (the renderer is :mod:`generator.render.own`; docs/layers.md). The folder is read
as strictly as the layer folders: a namespace or environment folder gen does not know, or a file
that looks meant for gen but is not ``<name>.yaml``, is a located problem, never skipped.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from generator.config.discover import RESOURCES
from generator.config.layers import ConfigRepo
from generator.config.yamlload import Document, YamlProblems, load_file
from generator.errors import InputError, Problem

FOLDER = RESOURCES
_SUFFIX = ".yaml"
_DOCUMENTATION = (".md", ".txt", ".rst", ".adoc")


@dataclass(frozen=True)
class OwnResource:
    """One object of ``resources/``: its file, as loaded (marks for every key), and the environment
    it is for ('' for every environment)."""

    name: str  # the file's name without .yaml
    env: str
    doc: Document


def _shown(path: Path) -> str:
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def _close(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'? " if close else ""


def _entries(folder: Path, problems: list[Problem]) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as listing:
            return sorted((e for e in listing if not e.name.startswith(".")), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(Problem(_shown(folder), 1, 1, "", f"cannot read folder: {exc.strerror}"))
        return []


def _files(
    root: Path, folder: Path, env: str, problems: list[Problem], environments: list[str]
) -> dict[str, OwnResource]:
    found: dict[str, OwnResource] = {}
    for entry in _entries(folder, problems):
        path = folder / entry.name
        if entry.is_dir():
            if env:
                problems.append(
                    Problem(_shown(path), 1, 1, "", "gen does not read folders inside an environment's resources")
                )
            elif entry.name not in environments:
                hint = _close(entry.name, environments) + f"environments: {', '.join(environments) or 'none'}"
                problems.append(
                    Problem(
                        _shown(path), 1, 1, "", f"'{entry.name}' is not an environment: gen would not read it", hint
                    )
                )
            continue
        if entry.name.lower().endswith(_DOCUMENTATION):
            continue
        if not entry.name.endswith(_SUFFIX) or entry.name == _SUFFIX:
            problems.append(
                Problem(
                    _shown(path),
                    1,
                    1,
                    "",
                    f"gen reads only files named <name>{_SUFFIX} here, and would ignore this one",
                    f"rename it to <name>{_SUFFIX}, or move it out of {_shown(folder)}/",
                )
            )
            continue
        try:
            inside = root in path.resolve().parents
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a symlink loop
            inside = False
        if not inside:
            problems.append(
                Problem(
                    _shown(path),
                    1,
                    1,
                    "",
                    "file leaves the configuration folder (a symlink or path outside it, or a symlink loop)",
                    "keep every file of resources/ inside the configuration folder",
                )
            )
            continue
        try:
            doc = load_file(path, _shown(path))
        except YamlProblems as exc:
            problems.extend(exc.problems)
            continue
        found[entry.name[: -len(_SUFFIX)]] = OwnResource(entry.name[: -len(_SUFFIX)], env, doc)
    return found


def folder_problems(repo: ConfigRepo) -> list[Problem]:
    """Folders of ``resources/`` that name no namespace of the repository."""
    problems: list[Problem] = []
    namespaces = repo.names("namespace")
    for entry in _entries(repo.root / FOLDER, problems):
        if entry.name.lower().endswith(_DOCUMENTATION):
            continue
        if not entry.is_dir() or entry.name not in namespaces:
            hint = _close(entry.name, namespaces) + f"namespaces: {', '.join(namespaces) or 'none'}"
            what = (
                f"'{entry.name}' is not a namespace: gen would not read it"
                if entry.is_dir()
                else f"{FOLDER}/ holds only folders, one per namespace: gen would not read '{entry.name}'"
            )
            problems.append(Problem(_shown(repo.root / FOLDER / entry.name), 1, 1, "", what, hint))
    return problems


def own_resources(repo: ConfigRepo, namespace: str, env: str) -> list[OwnResource]:
    """The objects of ``resources/<namespace>/`` for ``env``: the common ones, each replaced by the
    file of the same name in ``resources/<namespace>/<env>/``, sorted by file name."""
    repo.note_folder(FOLDER)  # an input of the namespace's render: the cache keys it by its content
    problems = folder_problems(repo)
    environments = repo.names("environment")
    folder = repo.root / FOLDER / namespace
    root = repo.root.resolve()
    found = _files(root, folder, "", problems, environments)
    found.update(_files(root, folder / env, env, problems, environments))
    if problems:
        raise InputError(problems)
    return [found[name] for name in sorted(found)]
