"""The per-file unified diffs between an output folder (or a base render) and a render, with the
input line behind each changed line (:mod:`generator.diff.causes`)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from generator.config.yamlload import load_plain
from generator.diff.causes import Cause, Explainer
from generator.output import OutFile, Owner

Status = Literal["added", "changed", "removed"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class Traced:
    """An added line of a hunk (its line number in the new file) and the input lines behind it."""

    line: int
    text: str
    causes: tuple[Cause, ...]


@dataclass(frozen=True)
class Hunk:
    header: str
    lines: tuple[str, ...]  # ' ', '-' or '+' and the line, without its newline
    traced: tuple[Traced, ...] = ()


@dataclass(frozen=True)
class FileChange:
    """One resource whose file a render adds, changes or removes."""

    path: str
    status: Status
    kind: str  # the object's kind ('' for a file that is not a Kubernetes object: Helm values, ...)
    name: str
    namespace: str
    hunks: tuple[Hunk, ...]
    causes: tuple[Cause, ...] = ()  # inputs that changed for this file, when no line was traced

    @property
    def label(self) -> str:
        if not self.kind or not self.name:
            return self.path
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass
class Comparison:
    changes: list[FileChange] = field(default_factory=list)
    unchanged: int = 0

    def count(self, status: Status) -> int:
        return sum(1 for c in self.changes if c.status == status)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "added": self.count("added"),
            "changed": self.count("changed"),
            "removed": self.count("removed"),
            "unchanged": self.unchanged,
        }


def _identity(content: str) -> tuple[str, str, str]:
    try:
        data: Any = load_plain(content)
    except yaml.YAMLError:
        return "", "", ""
    if not isinstance(data, dict) or "kind" not in data or "apiVersion" not in data:
        return "", "", ""
    meta = data.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return str(data["kind"]), str(meta.get("name", "")), str(meta.get("namespace", ""))


def _hunks(path: str, old: str, new: str, owner: Owner | None, explainer: Explainer) -> tuple[Hunk, ...]:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"a/{path}", f"b/{path}", n=3, lineterm=""))
    hunks: list[Hunk] = []
    header, at = "", 0
    body: list[str] = []
    traced: list[Traced] = []
    for line in lines[2:]:  # after the ---/+++ lines
        match = _HUNK.match(line)
        if match:
            if header:
                hunks.append(Hunk(header, tuple(body), tuple(traced)))
            header, body, traced, at = line, [], [], int(match.group(1))
            continue
        body.append(line)
        if line.startswith("-"):
            continue
        if line.startswith("+") and owner is not None:
            removed = [b[1:] for b in body if b.startswith("-")]
            causes = explainer.line(owner, line[1:], removed)
            if causes:
                traced.append(Traced(at, line[1:].strip(), tuple(causes)))
        at += 1
    if header:
        hunks.append(Hunk(header, tuple(body), tuple(traced)))
    return tuple(hunks)


def compare(
    old: Mapping[str, str],
    new: Mapping[str, OutFile],
    explainer: Explainer,
    old_owners: Mapping[str, Owner] | None = None,
) -> Comparison:
    """Every file of ``old`` (path -> content) and ``new`` that differs, sorted by path."""
    result = Comparison()
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if after is not None and before == after.content:
            result.unchanged += 1
            continue
        status: Status = "added" if before is None else "removed" if after is None else "changed"
        content = after.content if after is not None else before or ""
        owner = after.owner if after is not None else (old_owners or {}).get(path)
        kind, name, namespace = _identity(content)
        hunks = _hunks(path, before or "", after.content if after is not None else "", owner, explainer)
        causes: tuple[Cause, ...] = ()
        if status == "changed" and owner is not None and not any(h.traced for h in hunks):
            causes = tuple(explainer.file(owner))
        result.changes.append(FileChange(path, status, kind, name, namespace, hunks, causes))
    return result
