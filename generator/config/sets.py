"""``--set`` on the command line: read like a layer file, and what it applies to.

``--set key.path=value`` is the highest layer. Values are read as YAML scalars by the layer files'
reader (a date stays text, an ambiguous number such as ``010`` is refused) and checked against the
deployment layer's schema. A command that selects part of the configuration applies it only to the
selection (:class:`SetsFor`); problems it causes name the deployment they were found in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from generator.config import schema
from generator.config.layers import FLINK_CONF, flatten_flink_conf
from generator.config.yamlload import (
    AMBIGUOUS_NUMBER_HINT,
    Document,
    Mark,
    Path_,
    YamlProblems,
    ambiguous_number,
    parse_text,
)
from generator.errors import InputError, Problem

CLI_FILE = "<command line>"

__all__ = ["CLI_FILE", "SetsFor", "name_set_problems", "parse_set"]


def parse_set(assignments: Sequence[str]) -> Document | None:
    """``--set spec.parallelism=4`` as a layer document (values read as YAML scalars)."""
    if not assignments:
        return None
    data: dict[str, Any] = {}
    marks: dict[Path_, Mark] = {(): Mark(CLI_FILE, 1, 1)}
    problems: list[Problem] = []
    for index, text in enumerate(assignments, 1):
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            problems.append(Problem(CLI_FILE, index, 1, text, "expected --set key.path=value"))
            continue
        parts = key.strip().split(".")
        conf_len = len(FLINK_CONF)
        path: Path_ = tuple(parts)
        if tuple(parts[:conf_len]) == FLINK_CONF and len(parts) > conf_len:
            path = (*FLINK_CONF, ".".join(parts[conf_len:]))
        ambiguous = ambiguous_number(raw.strip())
        if ambiguous:  # read like a layer file's value: refused there too
            problems.append(Problem(CLI_FILE, index, 1, key.strip(), ambiguous, AMBIGUOUS_NUMBER_HINT))
            continue
        try:  # the layer files' reader: dates stay text, no Python types, bounded depth and aliases
            value = parse_text(raw, CLI_FILE).data if raw.strip() else ""
        except YamlProblems:
            value = raw
        node = data
        for part in path[:-1]:
            existing = node.setdefault(str(part), {})
            if not isinstance(existing, dict):
                problems.append(Problem(CLI_FILE, index, 1, key, "conflicts with another --set"))
                break
            node = existing
        else:
            node[str(path[-1])] = value
        for i in range(1, len(path) + 1):
            marks[path[:i]] = Mark(CLI_FILE, index, 1)
    if problems:
        raise InputError(problems)
    doc = Document(CLI_FILE, data, marks)
    problems = schema.problems_from_errors(
        schema.validator("deployment").iter_errors({"profile": "x", **data}), lambda p: (CLI_FILE, doc.mark(p).line, 1)
    )
    problems += flatten_flink_conf(doc)
    if problems:
        raise InputError(problems)
    return doc


@dataclass(frozen=True)
class SetsFor:
    """What ``--set`` applies to when a command selects part of the configuration: the selected
    deployments (``--namespace``, ``--profile``, ``--deployment``), and the namespace defaults of the
    selected namespaces only when no profile or deployment narrows the selection. What a selected
    render writes for the rest (the namespace's shared objects, the files its kustomization lists)
    is rendered as the configuration says, never with another deployment's ``--set``."""

    only_namespace: str | None
    only_profile: str | None
    only_deployment: str | None

    def deployment(self, namespace: str, name: str, profile: str) -> bool:
        return (
            self.only_namespace in (None, namespace)
            and self.only_deployment in (None, name)
            and self.only_profile in (None, profile)
        )

    def namespace(self, namespace: str) -> bool:
        return self.only_profile is None and self.only_deployment is None and self.only_namespace in (None, namespace)


def name_set_problems(problems: Iterable[Problem], what: str) -> list[Problem]:
    """``problems`` with those a ``--set`` caused naming ``what`` they were found in (``deployment
    analytics/fraud-scoring``): one --set reaches many deployments."""
    suffix = f" (for {what})"
    return [
        replace(p, message=p.message + suffix) if p.file == CLI_FILE and not p.message.endswith(suffix) else p
        for p in problems
    ]
