"""Per-environment sections of a deployment or namespace file: ``environments.<env>``.

A deployment file (or a namespace defaults file) may hold, beside its own keys, a section per
environment with the same shape (``metadata``, ``spec``, ``platform``)::

    spec:
      template:
        spec:
          parallelism: 4
    environments:
      prod:
        spec:
          template:
            spec:
              parallelism: 8

The section is a layer of its own, merged directly above the file it sits in, only when that
environment is rendered (see docs/layers.md). This module reads the sections out of a loaded file:
their names (each must be an environment of the repository: an unknown one is a located problem),
and each section as a document of its own whose marks still point at the lines of the file.
"""

from __future__ import annotations

import difflib

from generator.config.yamlload import Document, Mark, Path_, dotted
from generator.errors import Problem

SECTIONS: Path_ = ("environments",)


def names(doc: Document) -> list[str]:
    """The environments a file has a section for (none when ``environments`` is not a map: the
    schema reports that)."""
    found = doc.data.get(SECTIONS[0]) if isinstance(doc.data, dict) else None
    return [str(name) for name in found] if isinstance(found, dict) else []


def label(file_label: str, env: str) -> str:
    """The label of a section's layer: the file's label and the environment, e.g.
    ``deployment analytics/fraud-scoring (prod)``. It starts with the file's label, so a rule that
    asks which kind of layer wrote a value (a deployment, a namespace) reads a section as its file."""
    return f"{file_label} ({env})"


def unknown_environments(doc: Document, environments: list[str]) -> list[Problem]:
    """A section for an environment the repository does not have (``prd``): never silently unused."""
    problems: list[Problem] = []
    for name in names(doc):
        if name in environments:
            continue
        path = (*SECTIONS, name)
        mark = doc.mark(path)
        close = difflib.get_close_matches(name, environments, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        hint += f"environments: {', '.join(environments) if environments else 'none'}"
        problems.append(Problem(mark.file, mark.line, mark.col, dotted(path), f"unknown environment '{name}'", hint))
    return problems


def split(doc: Document) -> dict[str, Document]:
    """Take the sections out of ``doc`` (in place) as documents of their own, by environment; the
    marks of each keep the file's lines, with the paths relative to the section."""
    if not isinstance(doc.data, dict) or SECTIONS[0] not in doc.data:
        return {}
    sections = doc.data.pop(SECTIONS[0])
    found: dict[str, Document] = {}
    n = len(SECTIONS) + 1
    for env, data in (sections or {}).items():
        prefix = (*SECTIONS, env)
        marks: dict[Path_, Mark] = {
            path[n:]: mark for path, mark in doc.marks.items() if len(path) >= n and path[:n] == prefix
        }
        found[str(env)] = Document(doc.file, data if isinstance(data, dict) else {}, marks)
    for path in [p for p in doc.marks if p[:1] == SECTIONS]:
        del doc.marks[path]
    return found
