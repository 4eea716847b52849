"""Read YAML layer files into plain Python values plus a mark (line, column) for every path.

libyaml's C parser builds the node tree; we construct values ourselves so that each key keeps
its position, duplicate keys are errors, and YAML merge keys (``<<``) and aliases are handled
explicitly instead of silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import Problem

try:
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

Path_ = tuple[str | int, ...]
MAX_FILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Mark:
    file: str
    line: int
    col: int


@dataclass
class Document:
    """A parsed file: its data and a mark for every key path (and the root)."""

    file: str
    data: Any
    marks: dict[Path_, Mark] = field(default_factory=dict)

    def mark(self, path: Path_) -> Mark:
        """The mark of ``path``, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            found = self.marks.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return self.marks.get((), Mark(self.file, 1, 1))


def dotted(path: Path_) -> str:
    parts: list[str] = []
    for p in path:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + p)
    return "".join(parts)


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


def _mark(file: str, node: yaml.Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[Path_, Mark] = {}
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")  # scalar resolution follows YAML 1.1 like Kubernetes

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.marks[path] = _mark(self.file, node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay text: we parse them where a date is expected
        if node.tag == "tag:yaml.org,2002:binary":
            self._problem(node, path, "binary values are not supported")
            return None
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self._problem(node, path, f"cannot read this value: {exc}")
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(
                    key_node,
                    path,
                    "YAML merge keys (<<) are not supported",
                    "write the keys out, or put shared values in a lower layer (baseline, namespace, profile)",
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, path, "a key must be a plain string")
                continue
            key = key_node.value
            if key_node.tag != "tag:yaml.org,2002:str":
                # a key such as `on`, `1` or `true` would turn into a bool or a number in YAML 1.1
                key = str(key_node.value)
            if key in result:
                first = self.marks.get((*path, key))
                where = f" (first set on line {first.line})" if first else ""
                self._problem(key_node, (*path, key), f"duplicate key{where}", "keep one of them")
                continue
            self.marks[(*path, key)] = _mark(self.file, key_node)
            child_path = (*path, key)
            value = self.build(value_node, child_path)
            self.marks[child_path] = _mark(self.file, key_node)
            result[key] = value
        return result

    def _problem(self, node: yaml.Node, path: Path_, message: str, hint: str = "") -> None:
        m = _mark(self.file, node)
        self.problems.append(Problem(self.file, m.line, m.col, dotted(path), message, hint))


def parse_text(text: str, file: str) -> Document:
    """Parse one YAML document; raise :class:`YamlProblems` with located problems."""
    if "\t" in text:
        for n, text_line in enumerate(text.splitlines(), 1):
            indent = text_line[: len(text_line) - len(text_line.lstrip(" \t"))]
            if "\t" in indent:
                raise YamlProblems(
                    [Problem(file, n, indent.index("\t") + 1, "", "tab used for indentation", "indent with spaces")]
                )
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        message = f"malformed YAML: {exc.problem or exc.context or 'cannot parse'}"
        if exc.context and exc.problem:
            message = f"malformed YAML: {exc.context}, {exc.problem}"
        raise YamlProblems([Problem(file, line, col, "", message)]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(file, 1, 1, "", f"malformed YAML: {exc}")]) from None
    if len(nodes) > 1:
        m = _mark(file, nodes[1])
        raise YamlProblems(
            [Problem(file, m.line, m.col, "", "more than one YAML document in a layer file", "keep one")]
        )
    if not nodes or nodes[0] is None:
        return Document(file, {}, {(): Mark(file, 1, 1)})
    builder = _Builder(file)
    data = builder.build(nodes[0], ())
    if builder.problems:
        raise YamlProblems(builder.problems)
    return Document(file, data, builder.marks)


def read_text(path: Path, shown: str) -> str:
    """Read a layer file as UTF-8 (a BOM is accepted), refusing huge or non-UTF-8 files."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise YamlProblems([Problem(shown, 1, 1, "", f"cannot read file: {exc.strerror}")]) from None
    if size > MAX_FILE_BYTES:
        raise YamlProblems(
            [
                Problem(
                    shown,
                    1,
                    1,
                    "",
                    f"file is {size // (1024 * 1024)} MiB; layer files are limited to "
                    f"{MAX_FILE_BYTES // (1024 * 1024)} MiB",
                    "a layer file holds settings, not data",
                )
            ]
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblems(
            [Problem(shown, line, col, "", "file is not valid UTF-8", "save the file as UTF-8")]
        ) from None
    return text


def load_file(path: Path, shown: str) -> Document:
    return parse_text(read_text(path, shown), shown)
