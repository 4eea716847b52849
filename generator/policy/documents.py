"""Reading rendered documents the way the rules need them, whatever the target format.

Rules about rendered objects look for Kubernetes *shapes*, not for one renderer's layout: a pod
spec is any map with a ``containers`` list (VVP pod templates, the operator's ``podTemplate``s,
plain Deployments), its component comes from where it sits (``jobManager...``/``taskManager...``)
or from its ``component`` label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from generator.config.yamlload import SAFE_LOADER

COMPONENTS = ("jobmanager", "taskmanager")


@dataclass(frozen=True)
class Pod:
    """A pod spec found in a rendered document."""

    component: str  # "jobmanager", "taskmanager" or "" (a template shared by both)
    path: str  # where in the document, e.g. spec.template.spec.kubernetes.jobManagerPodTemplate.spec
    spec: Mapping[str, Any]
    labels: Mapping[str, str]
    document: Mapping[str, Any]

    @property
    def containers(self) -> list[Mapping[str, Any]]:
        return [c for c in self.spec.get("containers", []) if isinstance(c, Mapping)]

    @property
    def flink_containers(self) -> list[Mapping[str, Any]]:
        """The Flink container: the platform brings its image, so it has none (a sidecar names its own)."""
        return [c for c in self.containers if not c.get("image")]

    @property
    def service_account(self) -> str:
        """``serviceAccountName``; the operator's FlinkDeployment names it once in ``spec.serviceAccount``."""
        named = self.spec.get("serviceAccountName") or self.spec.get("serviceAccount")
        if not named:
            spec = self.document.get("spec")
            named = spec.get("serviceAccount") if isinstance(spec, Mapping) else None
        return str(named) if named else ""


def parse(texts: Iterable[str]) -> list[dict[str, Any]]:
    """Every YAML document in ``texts`` (rendered files), maps only."""
    docs: list[dict[str, Any]] = []
    for text in texts:
        for doc in yaml.load_all(text, Loader=SAFE_LOADER):
            if isinstance(doc, dict):
                docs.append(doc)
    return docs


def of_kind(docs: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [d for d in docs if d.get("kind") == kind and isinstance(d.get("apiVersion"), str)]


def _component(path: Sequence[str], labels: Mapping[str, Any]) -> str:
    lowered = ".".join(path).lower()
    for component in COMPONENTS:
        if component in lowered:
            return component
    label = str(labels.get("component", "")).lower()
    return label if label in COMPONENTS else ""


def pods(doc: Mapping[str, Any]) -> list[Pod]:
    """Every pod spec in ``doc``, depth first."""
    found: list[Pod] = []

    def walk(node: Any, path: tuple[str, ...], parent: Mapping[str, Any] | None) -> None:
        if isinstance(node, Mapping):
            containers = node.get("containers")
            if isinstance(containers, list):
                metadata = parent.get("metadata", {}) if parent is not None else {}
                labels = metadata.get("labels", {}) if isinstance(metadata, Mapping) else {}
                labels = labels if isinstance(labels, Mapping) else {}
                found.append(Pod(_component(path, labels), ".".join(path), node, labels, doc))
                return
            for key, value in node.items():
                walk(value, (*path, str(key)), node)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, str(index)), None)

    walk(doc, (), None)
    return found


def all_pods(docs: Iterable[Mapping[str, Any]]) -> list[Pod]:
    return [pod for doc in docs for pod in pods(doc)]


def walk_maps(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every map inside ``node``, ``node`` included."""
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from walk_maps(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_maps(value)


_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")
_QUANTITY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "Ki": 1 << 10,
    "Mi": 1 << 20,
    "Gi": 1 << 30,
    "Ti": 1 << 40,
    "Pi": 1 << 50,
}


def quantity_bytes(value: Any) -> int | None:
    """A Kubernetes memory quantity (``4Gi``, ``4096M``, ``17179869184``) in bytes; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _QUANTITY_UNITS:
        return None
    try:
        return int(Decimal(match.group(1)) * _QUANTITY_UNITS[match.group(2)])
    except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
        return None
