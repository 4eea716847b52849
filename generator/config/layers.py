"""The configuration repository: find layer files, read them once, validate and normalise them.

Layout (the shipped example has the same one)::

    baseline.yaml
    profiles/<profile>.yaml
    namespaces/<namespace>.yaml
    environments/<env>.yaml
    deployments/<namespace>/<deployment>.yaml
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from generator import data
from generator.config import envsections
from generator.config.discover import (
    BASELINE,
    FOLDERS,
    OTHER_INPUT_FOLDERS,
    Listing,
    list_layers,
    near_miss_baseline,
)
from generator.config.yamlload import Document, Mark, Path_, YamlProblems, dotted, parse_text, read_text
from generator.errors import InputError, Problem, UsageError
from generator.flink import options

FLINK_CONF: Path_ = ("spec", "template", "spec", "flinkConfiguration")
LAYER_ONLY_KEYS = ("description", "profile", "extends")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_FLINK_KEY = re.compile(r"^[^\s.]+(\.[^\s.]+)*$")


class LayerStore(Protocol):
    """Where validated layers are kept between runs (the render cache)."""

    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True)
class Layer:
    """One validated, normalised layer file."""

    kind: str
    name: str
    doc: Document
    label: str = ""
    meta: dict[str, Any] = field(default_factory=dict)  # description / profile / extends
    # the file's ``environments.<env>`` sections (deployment and namespace files), by environment
    sections: Mapping[str, Document] = field(default_factory=dict)

    def section(self, env: str) -> Layer | None:
        """The layer of this file's ``environments.<env>`` section, merged right above the file; None
        when the file has none for ``env``."""
        doc = self.sections.get(env)
        if doc is None:
            return None
        return Layer(self.kind, self.name, doc, envsections.label(self.label, env))

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.doc.data
        return data


def example_config_dir() -> Path:
    """The configuration shipped inside the package (the embedded default)."""
    return data.example_config_dir()


def _shown(path: Path) -> str:
    """The path as the user knows it: relative to the current folder, symlinks not followed (a
    problem in a symlinked layer file is reported at the link, and a symlink loop is no crash)."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def flatten_flink_conf(doc: Document, at: Path_ = FLINK_CONF) -> list[Problem]:
    """Nested and dotted Flink keys become one canonical dotted key, in place, marks kept. ``at`` is
    where the Flink configuration sits (below an ``environments.<env>`` section for one)."""
    conf = _get(doc.data, at)
    if not isinstance(conf, dict):
        return []
    problems: list[Problem] = []
    flat: dict[str, Any] = {}
    written_as: dict[str, str] = {}
    new_marks: dict[Path_, Mark] = {}

    def walk(node: dict[str, Any], prefix: str, path: Path_) -> None:
        for key, value in node.items():
            full = f"{prefix}.{key}" if prefix else key
            child = (*path, key)
            if isinstance(value, dict) and value:
                walk(value, full, child)
                continue
            mark = doc.mark(child)
            if not _FLINK_KEY.match(full):
                problems.append(
                    Problem(
                        mark.file,
                        mark.line,
                        mark.col,
                        dotted((*at, full)),
                        f"'{full}' is not a Flink option name",
                        "option names are words joined by single dots, without spaces, "
                        "e.g. execution.checkpointing.interval",
                    )
                )
                continue
            canonical = options.canonical_key(full)
            if canonical in flat:
                first = written_as[canonical]
                first_mark = new_marks[(*at, canonical)]
                if str(flat[canonical]) != str(value):
                    what = (
                        f"'{full}' is set twice (also on line {first_mark.line}) with different values"
                        if full == first
                        else f"'{full}' and '{first}' (line {first_mark.line}) are the same Flink option "
                        f"'{canonical}' with different values"
                    )
                    problems.append(
                        Problem(
                            mark.file,
                            mark.line,
                            mark.col,
                            dotted((*at, full)),
                            what,
                            f"keep only '{canonical}'",
                        )
                    )
                continue
            flat[canonical] = value
            written_as[canonical] = full
            new_marks[(*at, canonical)] = mark

    walk(conf, "", at)
    _set(doc.data, at, flat)
    for path in [p for p in doc.marks if p[: len(at)] == at and len(p) > len(at)]:
        del doc.marks[path]
    doc.marks.update(new_marks)
    return problems


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _set(data: dict[str, Any], path: Path_, value: Any) -> None:
    for part in path[:-1]:
        data = data[str(part)]
    data[str(path[-1])] = value


class ConfigRepo:
    """Reads the layer files of one configuration folder, each at most once per process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._resolved_root = root.resolve()
        self._inside_root = os.path.join(os.fspath(self._resolved_root), "")  # with a trailing separator
        self._real_folders: dict[str, str] = {}  # a folder of layer files -> its real path
        if not os.path.lexists(root / BASELINE):  # a folder or a broken link there is reported when read
            miss = near_miss_baseline(root)
            raise UsageError(
                f"'{root}' is not a gen configuration folder: it has no {BASELINE}"
                + (f" (it has {miss}, which gen does not read)" if miss else ""),
                hint=f"rename {miss} to {BASELINE}"
                if miss
                else "create one with 'gen init DIR', or point --config at your configuration repository",
            )
        self._cache: dict[tuple[str, str], Layer] = {}
        self._listing: Listing | None = None  # the layer folders, listed once per process
        # what each computation read, for the render cache: (kind, namespace/name) -> SHA-256 of the
        # text parsed; every layer gen reads goes through layer(), which notes it in every recorder
        self._digests: dict[tuple[str, str], str] = {}
        self._recorders: list[dict[tuple[str, str], str]] = []
        self._fresh: dict[tuple[str, str], str | None] = {}
        self._kept: tuple[LayerStore, str] | None = None  # keep_layers()

    def keep_layers(self, store: LayerStore, identity: str) -> None:
        """Keep every layer this repository validates in ``store`` (the render cache), for the runs
        after this one: a layer file whose text they read again is taken as it was parsed, normalised
        and validated, not parsed and validated anew. ``identity`` names the gen that validated it
        (:func:`generator.render.identity.code_identity`: its modules, schemas and libraries); the key
        adds the file's text, the name messages give the file, and the environments the configuration
        has (which a file's ``environments`` sections must name). Only layers without problems are
        kept: a file with one is read again, and reported as a cold run reports it."""
        self._kept = (store, identity)

    # -- discovery ---------------------------------------------------------------------------
    def _listed(self) -> Listing:
        """Every layer folder, listed once; a folder that cannot be listed or a file gen would not
        read is an error, never an empty or shorter list."""
        if self._listing is None:
            self._listing = list_layers(self.root, _shown)
        if self._listing.problems:
            raise InputError(self._listing.problems)
        return self._listing

    def names(self, kind: str) -> list[str]:
        return list(self._listed().names[kind])

    def deployments(self) -> list[tuple[str, str]]:
        """(namespace, deployment) of every deployment file, sorted."""
        return list(self._listed().deployments)

    def require(self, kind: str, name: str) -> None:
        available = self.names(kind)
        if name not in available:
            raise UsageError(
                f"unknown {kind} '{name}'",
                hint=f"available: {', '.join(available) if available else 'none'}",
            )

    def file_for(self, kind: str, name: str, namespace: str = "") -> Path:
        if kind == "baseline":
            return self.root / BASELINE
        if kind == "deployment":
            return self.root / "deployments" / namespace / f"{name}.yaml"
        return self.root / FOLDERS[kind] / f"{name}.yaml"

    def listing_digest(self) -> str:
        """A digest of which layer files exist (a file added or removed anywhere changes it)."""
        listed = self._listed()
        text = repr((sorted(listed.names.items()), listed.deployments))
        return hashlib.sha256(text.encode()).hexdigest()

    # -- what a computation read -------------------------------------------------------------
    @contextmanager
    def recording(self) -> Iterator[dict[tuple[str, str], str]]:
        """Note every layer file read inside the block (cached reads too), with the digest of its
        text: the inputs of what the block computes, for the render cache."""
        reads: dict[tuple[str, str], str] = {}
        self._recorders.append(reads)
        try:
            yield reads
        finally:  # by identity: a nested recording may hold equal contents
            del self._recorders[next(i for i, r in enumerate(self._recorders) if r is reads)]

    def folder_digest(self, relative: str) -> str:
        """A digest of a folder of the configuration that is read other than as layers (``resources/``):
        every path below it with the bytes of each file (an unreadable entry by its error)."""
        h = hashlib.sha256()
        for top, folders, files in os.walk(self.root / relative, onerror=lambda e: h.update(repr(e).encode())):
            folders.sort()
            for name in sorted(files):
                path = Path(top, name)
                h.update(repr(path.relative_to(self.root)).encode())
                try:
                    h.update(hashlib.sha256(path.read_bytes()).digest())
                except OSError as exc:
                    h.update(repr(exc).encode())
        return h.hexdigest()

    def inputs_digest(self) -> str:
        """A digest of everything a render of this configuration reads: which layer files exist, the
        text of each, and the folders read other than as layers. Two configurations with one digest
        render the same files (their messages name their own folders)."""
        listed = self._listed()
        h = hashlib.sha256(self.listing_digest().encode())
        reads = [("baseline", "/baseline")]
        reads += [(kind, f"/{name}") for kind, names in sorted(listed.names.items()) for name in names]
        reads += [("deployment", f"{namespace}/{name}") for namespace, name in listed.deployments]
        reads += [("folder", folder) for folder in OTHER_INPUT_FOLDERS]
        for kind, where in reads:
            h.update(repr((kind, where, self.current_digest(kind, where))).encode())
        return h.hexdigest()

    def note_folder(self, relative: str) -> None:
        """Record a folder read other than through :meth:`layer` as an input of every computation
        being recorded, so the render cache keys them by its content too."""
        assert relative in OTHER_INPUT_FOLDERS, relative  # the inputs digest covers exactly these
        key = ("folder", relative)
        if key not in self._digests:
            self._digests[key] = self.folder_digest(relative)
        for reads in self._recorders:
            reads[key] = self._digests[key]

    def unchanged(self, reads: Iterable[tuple[tuple[str, str], str]]) -> bool:
        """Whether every layer file (or folder) of ``reads`` would be read now with the digest noted."""
        return all(self.current_digest(kind, where) == digest for (kind, where), digest in reads)

    def note_reads(self, reads: Iterable[tuple[tuple[str, str], str]]) -> None:
        """Record what a reused result read (checked :meth:`unchanged`) as inputs of every computation
        being recorded, as if it had been computed here."""
        for recording in self._recorders:
            recording.update(reads)

    def current_digest(self, kind: str, where: str) -> str | None:
        """The digest the layer ``(kind, "namespace/name")`` would be recorded with if it were read
        now, from the file as it is (read once per process); ``None`` if it could not be read."""
        key = (kind, where)
        if key in self._digests:
            return self._digests[key]
        if kind == "folder":
            return self._fresh.setdefault(key, self.folder_digest(where))
        if key not in self._fresh:
            namespace, _, name = where.partition("/")
            path = self.file_for(kind, name, namespace)
            digest: str | None = None
            if not self._check_path(path, ""):  # a problem only makes the digest None: no name needed
                try:
                    digest = hashlib.sha256(read_text(path, "").encode()).hexdigest()
                except YamlProblems:
                    digest = None
            self._fresh[key] = digest
        return self._fresh[key]

    # -- loading -----------------------------------------------------------------------------
    def layer(self, kind: str, name: str, namespace: str = "") -> Layer:
        cache_key = (kind, f"{namespace}/{name}")
        cached = self._cache.get(cache_key)
        if cached is not None:
            for reads in self._recorders:
                reads[cache_key] = self._digests[cache_key]
            return cached
        path = self.file_for(kind, name, namespace)
        shown = _shown(path)
        problems = self._check_path(path, shown)
        if kind in ("namespace", "deployment") and not _NAME.match(name):
            problems.append(
                Problem(
                    shown,
                    1,
                    1,
                    "",
                    f"'{name}' is not a valid Kubernetes name",
                    "use lower case letters, digits and '-', at most 63 characters",
                )
            )
        if kind in ("profile", "environment") and not _NAME.match(name):
            problems.append(
                Problem(
                    shown,
                    1,
                    1,
                    "",
                    f"'{name}' is not a valid {kind} name",
                    "use lower case letters, digits and '-', at most 63 characters (it names output folders)",
                )
            )
        if kind == "deployment" and not _NAME.match(namespace):
            problems.append(Problem(shown, 1, 1, "", f"namespace folder '{namespace}' is not a valid Kubernetes name"))
        if problems:
            raise InputError(problems)
        try:
            text = read_text(path, shown)
        except YamlProblems as exc:
            raise InputError(exc.problems) from None
        digest = hashlib.sha256(text.encode()).hexdigest()
        kept_key = None
        if self._kept is not None:
            store, identity = self._kept
            parts = (identity, kind, name, namespace, shown, digest, tuple(self.names("environment")))
            kept_key = hashlib.sha256(repr(("layer", *parts)).encode()).hexdigest()
            found = store.get(kept_key)
            if isinstance(found, Layer) and (found.kind, found.name) == (kind, name):
                return self._loaded(cache_key, found, digest)
        try:
            doc = parse_text(text, shown)
        except YamlProblems as exc:
            raise InputError(exc.problems) from None
        if not isinstance(doc.data, dict):
            raise InputError([Problem(shown, 1, 1, "", "a layer file must be a map of keys to values")])
        problems = flatten_flink_conf(doc)  # nested and dotted Flink keys are one key, also for the schema
        for env in envsections.names(doc):
            problems += flatten_flink_conf(doc, (*envsections.SECTIONS, env, *FLINK_CONF))
        from generator.config import schema  # (jsonschema) only when a layer is loaded, not to hash one

        problems += schema.validate_document(kind, doc)
        if not problems:
            problems = envsections.unknown_environments(doc, self.names("environment"))
        if problems:
            raise InputError(problems)
        meta = {key: doc.data.pop(key) for key in LAYER_ONLY_KEYS if key in doc.data}
        label = kind if kind == "baseline" else f"{kind} {namespace + '/' if namespace else ''}{name}"
        sections = envsections.split(doc)
        layer = Layer(kind, name, doc, label, meta, sections)
        if kept_key is not None and self._kept is not None:
            self._kept[0].put(kept_key, layer)
        return self._loaded(cache_key, layer, digest)

    def _loaded(self, cache_key: tuple[str, str], layer: Layer, digest: str) -> Layer:
        """Keep a layer for the rest of the process, noted as read with the digest of its text."""
        self._cache[cache_key] = layer
        self._digests[cache_key] = digest
        for reads in self._recorders:
            reads[cache_key] = digest
        return layer

    def _inside(self, path: Path) -> bool:
        """Whether ``path`` is a regular file (no symlink) inside the configuration folder, from the
        real path of its folder (resolved once per folder, not once per file: resolving takes a system
        call per component). False for anything else, which :meth:`_check_path` looks at in full."""
        try:
            info = os.lstat(path)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        folder = os.path.dirname(path)
        real = self._real_folders.get(folder)
        if real is None:
            real = self._real_folders[folder] = os.path.realpath(folder)
        return os.path.join(real, "").startswith(self._inside_root)

    def _check_path(self, path: Path, shown: str) -> list[Problem]:
        if self._inside(path):
            return []
        if not path.exists() and not path.is_symlink():
            return [Problem(shown, 1, 1, "", "file not found")]
        try:
            real = path.resolve()
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a symlink loop
            return [Problem(shown, 1, 1, "", "cannot read file: a symlink loop", "point the symlink at a file")]
        if self._resolved_root not in real.parents:
            return [
                Problem(
                    shown,
                    1,
                    1,
                    "",
                    "file leaves the configuration folder (a symlink or path outside it)",
                    "keep every layer file inside the configuration folder",
                )
            ]
        return []

    def profile_chain(self, name: str) -> list[Layer]:
        """The profile and the profiles it extends, lowest precedence first."""
        chain: list[Layer] = []
        seen: list[str] = []
        current: str | None = name
        while current is not None:
            if current in seen:
                # one problem per loop, whichever profile the walk started from: it is reported at
                # the `extends` of the loop's first profile by name, the loop written from there
                loop = seen[seen.index(current) :]
                first = loop.index(min(loop))
                loop = loop[first:] + loop[:first]
                layer = self.layer("profile", loop[-1])
                mark = layer.doc.marks.get(("extends",), Mark(layer.doc.file, 1, 1))
                cycle = " -> ".join([*loop, loop[0]])
                raise InputError(
                    [Problem(mark.file, mark.line, mark.col, "extends", f"profile inheritance loops: {cycle}")]
                )
            if current not in self.names("profile"):
                if not chain:
                    self.require("profile", current)
                layer = chain[-1]
                mark = layer.doc.marks.get(("extends",), Mark(layer.doc.file, 1, 1))
                raise InputError(
                    [
                        Problem(
                            mark.file,
                            mark.line,
                            mark.col,
                            "extends",
                            f"unknown profile '{current}'",
                            f"available: {', '.join(self.names('profile'))}",
                        )
                    ]
                )
            seen.append(current)
            layer = self.layer("profile", current)
            chain.append(layer)
            extends = layer.meta.get("extends")
            current = str(extends) if extends is not None else None
        return list(reversed(chain))

    def iter_all_files(self) -> Iterator[tuple[str, str, str]]:
        """(kind, name, namespace) of every layer file in the repository."""
        yield ("baseline", "baseline", "")
        for kind in ("namespace", "profile", "environment"):
            for name in self.names(kind):
                yield (kind, name, "")
        for namespace, name in self.deployments():
            yield ("deployment", name, namespace)
