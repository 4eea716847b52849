"""Merge layers with provenance.

Rules, declared once: maps merge deeply; a list is replaced, unless the input schema declares it
keyed (``x-merge-key``), then items merge by that key; ``null`` deletes a key; inputs are never
mutated (unchanged subtrees are shared, never copied or modified). Every leaf keeps the chain of
values that set it, lowest layer first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.config import paths
from generator.config.yamlload import Document, Path_


class _Deleted:
    """The value of a key a layer deleted with ``null``: one object, also after pickling or copying
    (parallel renders send effective configurations between processes)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DELETED"

    def __reduce__(self) -> str:
        return "DELETED"


DELETED: Any = _Deleted()


@dataclass(frozen=True)
class Origin:
    """One layer's say on one leaf."""

    layer: str
    file: str
    line: int
    col: int
    value: Any  # as written in that layer; DELETED when the layer set null

    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


Provenance = dict[Path_, tuple[Origin, ...]]


@dataclass(frozen=True)
class Merged:
    data: dict[str, Any]
    provenance: Provenance

    @staticmethod
    def empty() -> Merged:
        return Merged({}, {})


def _matches(pattern: Path_, path: Path_) -> bool:
    return len(pattern) == len(path) and all(p == "*" or p == q for p, q in zip(pattern, path, strict=True))


class _Merger:
    def __init__(self, label: str, doc: Document, provenance: Provenance, keyed: Mapping[Path_, str]) -> None:
        self.label = label
        self.doc = doc
        self.prov = provenance
        self.keyed = keyed

    def origin(self, path: Path_, value: Any) -> Origin:
        mark = self.doc.mark(path)
        return Origin(self.label, mark.file, mark.line, mark.col, value)

    def record(self, path: Path_, value: Any) -> None:
        self.prov[path] = (*self.prov.get(path, ()), self.origin(path, value))

    def drop_below(self, path: Path_) -> None:
        n = len(path)
        for key in [k for k in self.prov if len(k) > n and k[:n] == path]:
            del self.prov[key]

    def record_tree(self, value: Any, path: Path_) -> None:
        if isinstance(value, dict) and value:
            for key, child in value.items():
                self.record_tree(child, (*path, key))
        else:
            self.record(path, DELETED if value is None else value)

    def keyed_key(self, path: Path_) -> str | None:
        for pattern, key in self.keyed.items():
            if _matches(pattern, path):
                return key
        return None

    def merge(self, base: Any, over: Any, path: Path_) -> Any:
        if isinstance(over, dict) and isinstance(base, dict):
            result = dict(base)
            for key, value in over.items():
                child = (*path, key)
                if value is None:
                    result.pop(key, None)
                    self.drop_below(child)
                    self.record(child, DELETED)
                    continue
                old = result.get(key)
                if isinstance(value, dict) and isinstance(old, dict):
                    result[key] = self.merge(old, value, child)
                    continue
                list_key = self.keyed_key(child) if isinstance(value, list) else None
                if list_key is not None and isinstance(old, list):
                    result[key] = _merge_keyed(old, value, list_key)
                    self.record(child, value)
                    continue
                if isinstance(old, dict) or (old is None and isinstance(value, dict)):
                    self.drop_below(child)
                if isinstance(value, dict) and value:
                    if child in self.prov and not isinstance(old, dict):
                        del self.prov[child]
                    self.record_tree(value, child)
                else:
                    self.record(child, value)
                result[key] = _without_nulls(value)  # a null inside a new subtree deletes nothing: it is absent
            return result
        self.drop_below(path)
        self.record_tree(over, path)
        return over


def _without_nulls(value: Any) -> Any:
    """``value`` without the keys whose value is null, at any depth; the same object when it has none."""
    if not isinstance(value, dict):
        return value
    cleaned = {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if len(cleaned) == len(value) and all(cleaned[k] is value[k] for k in cleaned):
        return value
    return cleaned


def _merge_keyed(base: list[Any], over: list[Any], key: str) -> list[Any]:
    result = list(base)
    index = {item.get(key): i for i, item in enumerate(result) if isinstance(item, dict)}
    for item in over:
        name = item.get(key) if isinstance(item, dict) else None
        if name is not None and name in index:
            result[index[name]] = item
        else:
            index[name] = len(result)
            result.append(item)
    return result


def merge_layer(base: Merged, label: str, doc: Document, keyed: Mapping[Path_, str]) -> Merged:
    """``base`` with one more layer on top; neither input is changed."""
    provenance = dict(base.provenance)
    merger = _Merger(label, doc, provenance, keyed)
    data = merger.merge(base.data, doc.data, ())
    return Merged(data, provenance)


def get_path(data: Any, path: Path_) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
            continue
        if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
            continue
        raise KeyError(path)
    return data


def nearest_origin(provenance: Provenance, path: Path_) -> Origin | None:
    """The origin a problem at ``path`` is blamed on (the one rule of :func:`generator.config.paths.blame`)."""
    found = paths.blame(provenance, path)
    return found if isinstance(found, Origin) else None
