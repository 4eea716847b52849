"""Where the configuration is, and which layer files it holds.

:func:`find_config` picks the configuration folder: ``--config``, else ``--example``, else
``$GEN_CONFIG``, else the nearest folder holding a ``baseline.yaml`` from the current folder
upwards (as git finds ``.git``), else the example shipped with gen, with a notice.

:func:`list_layers` lists the layer folders. Nothing in them is skipped without a word: a folder
that cannot be listed, a file where a folder should be, a file that looks like a layer file but is
not spelled ``<name>.yaml`` (``.yml``, ``.YAML``, ``.json``, ``.yaml~``, no extension) or a folder
where gen reads none is a located problem, because a layer file gen does not read is a deployment
that silently disappears from the output. Hidden entries (``.gitkeep``) and documentation files
(``README.md``, ``notes.txt``) are the only things gen passes over.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator import data
from generator.errors import Problem, UsageError

BASELINE = "baseline.yaml"
LAYER_SUFFIX = ".yaml"
FOLDERS = {"profile": "profiles", "namespace": "namespaces", "environment": "environments"}
DEPLOYMENTS = "deployments"
# folders of a configuration read other than as layer files (own resources): every one is an input
# of a render (ConfigRepo.note_folder, ConfigRepo.inputs_digest)
RESOURCES = "resources"
OTHER_INPUT_FOLDERS = (RESOURCES,)
_WHAT = {"profile": "profile", "namespace": "namespace defaults", "environment": "environment"}
# files gen passes over in a layer folder: documentation, never settings
_DOCUMENTATION = frozenset({"md", "txt", "rst", "adoc"})
_YAMLISH = (".yaml", ".yml", ".json")


# -- the configuration folder ----------------------------------------------------------------------
@dataclass(frozen=True)
class ConfigChoice:
    """The configuration folder a command reads, and how it was chosen."""

    root: Path
    how: str  # "option" (--config), "example" (--example), "env" ($GEN_CONFIG), "found", "fallback"
    notice: str = ""  # what to say on stderr about the choice ("" for nothing)

    @property
    def found_upwards(self) -> bool:
        return self.how == "found"


def find_config(explicit: Path | None, *, example: bool = False, cwd: Path | None = None) -> ConfigChoice:
    """The configuration folder: ``--config``, ``--example``, ``$GEN_CONFIG``, the nearest folder
    with a ``baseline.yaml`` from ``cwd`` upwards, else the shipped example (with a notice)."""
    if explicit is not None and example:
        raise UsageError("--config and --example name two configurations", hint="pass one of them")
    if explicit is not None:
        return ConfigChoice(explicit, "option")
    if example:
        return ConfigChoice(data.example_config_dir(), "example")
    from_env = os.environ.get("GEN_CONFIG")
    if from_env:
        return ConfigChoice(Path(from_env), "env")
    here = Path(os.path.abspath(cwd or Path.cwd()))
    for folder in (here, *here.parents):
        if _has_baseline(folder):
            rel = os.path.relpath(folder, here)
            return ConfigChoice(Path(rel), "found")
    return ConfigChoice(
        data.example_config_dir(),
        "fallback",
        f"note: no {BASELINE} in {_printable(str(here))} or above: using the example configuration shipped with gen "
        "(pass --config DIR or set GEN_CONFIG to use yours, or --example to ask for the example)",
    )


def _printable(text: str) -> str:
    """A path on one printable line (a folder name may hold control characters or undecodable bytes)."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _has_baseline(folder: Path) -> bool:
    """Whether ``folder`` holds a baseline.yaml (of any kind: a folder or a broken symlink there is
    reported when it is read). A near-miss (``baseline.yml``) is an error, not a reason to go on
    looking upwards and find another configuration."""
    try:
        os.lstat(folder / BASELINE)
        return True
    except OSError:
        pass
    miss = near_miss_baseline(folder)
    if miss:
        raise UsageError(
            f"{folder / miss} is not read: gen looks for {BASELINE}",
            hint=f"rename it to {BASELINE}, or pass --config DIR",
        )
    return False


def near_miss_baseline(folder: Path) -> str:
    """The name of a file in ``folder`` that is another spelling of baseline.yaml, or ''."""
    try:
        names = os.listdir(folder)
    except OSError:
        return ""
    for name in sorted(names):
        lower = name.lower()
        if name != BASELINE and lower.startswith("baseline.") and lower.endswith(_YAMLISH):
            return name
    return ""


# -- the layer files ---------------------------------------------------------------------------------
@dataclass
class Listing:
    """The layer files of a configuration folder, and the problems found listing them."""

    names: dict[str, list[str]] = field(default_factory=dict)  # kind -> layer names, sorted
    deployments: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name), sorted
    problems: list[Problem] = field(default_factory=list)


def list_layers(root: Path, shown: Callable[[Path], str]) -> Listing:
    """List ``profiles/``, ``namespaces/``, ``environments/`` and ``deployments/<namespace>/``."""
    listing = Listing()
    for kind, folder_name in FOLDERS.items():
        entries = _entries(root / folder_name, shown, listing.problems)
        listing.names[kind] = sorted(_layer_names(root / folder_name, entries, _WHAT[kind], shown, listing.problems))
    deployments = root / DEPLOYMENTS
    for name, kind in _entries(deployments, shown, listing.problems):
        path = deployments / name
        if kind == "dir":
            entries = _entries(path, shown, listing.problems)
            for deployment in _layer_names(path, entries, "deployment", shown, listing.problems):
                listing.deployments.append((name, deployment))
        elif kind == "broken":
            listing.problems.append(_problem(shown(path), f"cannot read folder: {_broken(path)}"))
        elif not _passed_over(name):
            listing.problems.append(
                _problem(
                    shown(path),
                    "gen does not read files directly in deployments/: each deployment file sits in the folder "
                    "of its namespace",
                    f"move it to deployments/<namespace>/{_stem(name)}{LAYER_SUFFIX}",
                )
            )
    listing.deployments.sort()
    return listing


def _entries(folder: Path, shown: Callable[[Path], str], problems: list[Problem]) -> list[tuple[str, str]]:
    """(name, kind) of the visible entries of ``folder``; kind is "dir", "file" or "broken" (a
    symlink to nothing). A folder that does not exist has no entries; one that cannot be listed is
    a problem (an empty listing would remove every job below it)."""
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        if os.path.islink(folder):
            problems.append(_problem(shown(folder), f"cannot read folder: {_broken(folder)}"))
        return []
    except OSError as exc:
        problems.append(_problem(shown(folder), f"cannot read folder: {exc.strerror}", _READABLE))
        return []
    if not stat.S_ISDIR(info.st_mode):
        problems.append(
            _problem(shown(folder), "cannot read folder: it is a file", "this name is kept for a folder of layer files")
        )
        return []
    found: list[tuple[str, str]] = []
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                try:
                    kind = "dir" if entry.is_dir() else "file"
                except OSError:
                    kind = "broken"
                if kind == "file" and entry.is_symlink() and not os.path.exists(entry.path):
                    kind = "broken"
                found.append((entry.name, kind))
    except OSError as exc:
        problems.append(_problem(shown(folder), f"cannot read folder: {exc.strerror}", _READABLE))
        return []
    return sorted(found)


_READABLE = "make it readable for gen: it never takes a folder it cannot list for an empty one"


def _layer_names(
    folder: Path, entries: list[tuple[str, str]], what: str, shown: Callable[[Path], str], problems: list[Problem]
) -> list[str]:
    """The layer names of a folder's entries (``<name>.yaml``); any other entry that could be
    meant as one is a problem."""
    names = [name[: -len(LAYER_SUFFIX)] for name, _kind in entries if _is_layer_file(name)]
    for name, kind in entries:
        if _is_layer_file(name):
            continue  # a folder or a broken symlink with a layer file's name is reported when it is read
        path = shown(folder / name)
        if kind == "dir":
            problems.append(
                _problem(
                    path,
                    f"gen does not read folders inside {shown(folder)}/: {what} files sit directly in it",
                    f"move the folder out of {shown(folder)}/",
                )
            )
        elif kind == "broken" and not _passed_over(name):
            problems.append(_problem(path, f"cannot read file: {_broken(folder / name)}"))
        elif not _passed_over(name):
            problems.append(_misspelt(path, name, names, what, shown(folder)))
    return names


def _misspelt(path: str, name: str, names: list[str], what: str, folder: str) -> Problem:
    stem = _stem(name)
    if stem in names:
        return _problem(
            path,
            f"a second file for {what} '{stem}': gen reads {stem}{LAYER_SUFFIX} and not this one",
            f"keep one file: merge it into {stem}{LAYER_SUFFIX} and delete this one",
        )
    rename = f"rename it to {stem}{LAYER_SUFFIX}" if stem else f"rename it to <name>{LAYER_SUFFIX}"
    return _problem(
        path,
        f"gen reads only files named <name>{LAYER_SUFFIX} here, and would ignore this {what} file",
        f"{rename}, or move it out of {folder}/",
    )


def _is_layer_file(name: str) -> bool:
    return name.endswith(LAYER_SUFFIX) and len(name) > len(LAYER_SUFFIX)


def _passed_over(name: str) -> bool:
    """Documentation files in a layer folder (README.md): never a spelling of a layer file."""
    lower = name.lower()
    extension = lower.rsplit(".", 1)[-1] if "." in lower else ""
    return extension in _DOCUMENTATION and not any(s in lower for s in _YAMLISH)


def _stem(name: str) -> str:
    """The layer name a misspelt file would have: ``x.yml`` -> ``x``, ``x.yaml.bak`` -> ``x``."""
    lower = name.lower()
    for suffix in _YAMLISH:
        at = lower.find(suffix)
        if at > 0:
            return name[:at]
    return name.split(".", 1)[0]


def _broken(path: Path) -> str:
    try:
        return f"a broken symlink (to {os.readlink(path)})"
    except OSError as exc:
        return exc.strerror or "a broken symlink"


def _problem(file: str, message: str, hint: str = "") -> Problem:
    return Problem(file, 1, 1, "", message, hint)
