"""Read YAML layer files into plain Python values plus a mark (line, column) for every path.

libyaml's C parser builds the node tree; we construct values ourselves so that each key keeps
its position, duplicate keys are errors, and YAML merge keys (``<<``) and aliases are handled
explicitly instead of silently.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import Problem

try:
    SAFE_LOADER: type[Any] = yaml.CSafeLoader  # PyYAML's safe loader on libyaml's parser
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    SAFE_LOADER = yaml.SafeLoader


def load_plain(text: str) -> Any:
    """YAML that gen wrote itself (a rendered document, or a YAML string inside one), read back as
    plain data: no marks, none of the limits of a layer file."""
    return yaml.load(text, Loader=SAFE_LOADER)


Path_ = tuple[str | int, ...]
# Limits that keep a hostile or broken file cheap: its size is checked before it is read, and the
# event scan stops at the first value past MAX_VALUES or MAX_DEPTH (libyaml's composer recurses in C
# and would crash on deep nesting; a few hundred thousand values take minutes to compose).
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_VALUES = 20_000  # keys, values and list items of one file, counting what aliases expand to
MAX_DEPTH = 64  # the deepest path of the schemas is about 12
# Characters no value may hold (YAML escapes can write them): control characters other than tab and
# newline, YAML 1.1 line breaks, surrogates and non-characters. Rendered files could not be read back.
_BAD_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


# Plain scalars that YAML 1.1 (this loader, like Kubernetes) and YAML 1.2 (editors, most other tools)
# read as different numbers: a leading zero (YAML 1.1 reads 010 as octal 8, 08 as text; YAML 1.2 reads
# 10 and 8), YAML 1.2 octal (0o17: text to YAML 1.1), binary (0b101: text to YAML 1.2) and base 60
# (1:30 is 90 to YAML 1.1, text to YAML 1.2). Refused wherever they appear, so a number is what it says.
_AMBIGUOUS_NUMBER = re.compile(r"[-+]?(?:0[0-9_]+|0o[0-7]+|0b[01_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)")


def ambiguous_number(text: str) -> str:
    """Why the plain scalar ``text`` must not be left unquoted (a message), or '' when it is fine."""
    if not _AMBIGUOUS_NUMBER.fullmatch(text):
        return ""
    if ":" in text:
        return f"{text} is a base-60 number to YAML 1.1 and text to YAML 1.2: readers disagree on its value"
    if "0b" in text or "0o" in text:
        return f"{text} is a number to one YAML version and text to the other: readers disagree on its value"
    return (
        f"{text} has a leading zero: YAML 1.1 reads it as an octal number (010 is 8) or as text, YAML 1.2 "
        "and editors as a decimal number"
    )


AMBIGUOUS_NUMBER_HINT = "quote it if it is text, or write the number without a leading zero, prefix or colon"


def bad_character(text: str) -> str:
    """The code point (``U+0007``) of the first character of ``text`` a value must not hold, or ''."""
    found = _BAD_CHARACTER.search(text)
    return f"U+{ord(found.group()):04X}" if found else ""


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


_BAD_VALUE = "a value may not hold the character {} (a control character; only tab and newline are allowed)"


def _mark(file: str, node: yaml.Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[Path_, Mark] = {}
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")  # scalar resolution follows YAML 1.1 like Kubernetes
        self._open: set[int] = set()  # collections being built: an alias to one of them is a loop
        self._count = 0

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.marks[path] = _mark(self.file, node)
        self._count += 1
        if self._count > MAX_VALUES:
            if self._count == MAX_VALUES + 1:
                self._problem(node, path, f"more than {MAX_VALUES} values (are YAML aliases repeating a large block?)")
            return None
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self._open:
                self._problem(node, path, "a YAML alias refers to a value that contains it (an endless loop)")
                return None
            self._open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            finally:
                self._open.discard(id(node))
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay text: we parse them where a date is expected
        if not node.style and (ambiguous := ambiguous_number(node.value)):  # plain: not quoted, no block
            self._problem(node, path, ambiguous, AMBIGUOUS_NUMBER_HINT)
            return None
        if node.tag == "tag:yaml.org,2002:binary":
            self._problem(node, path, "binary values are not supported")
            return None
        try:
            value = self._constructor.construct_object(node, deep=True)
            if isinstance(value, str) and bad_character(value):
                self._problem(node, path, _BAD_VALUE.format(bad_character(value)), "remove it")
                return None
            return value
        except yaml.YAMLError:
            # never repeat the text: a value such as "!s3cr3t" is read as a tag, and may be a password
            self._problem(
                node,
                path,
                "cannot read this value: YAML reads a value that starts with '!' as a tag",
                "quote the value ('...') if it is text",
            )
        except Exception:  # PyYAML's constructors fail in many ways on a tag that does not fit: !!int abc, !!int ""
            self._problem(node, path, f"cannot read this value as {node.tag.rsplit(':', 1)[-1]}")
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
            if bad_character(key):
                self._problem(key_node, path, _BAD_VALUE.format(bad_character(key)).replace("value", "key"))
                continue
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


def _scan(text: str, file: str) -> None:
    """Walk the parser's events before anything is built: bound the nesting depth and the number
    of values, and give a parse error the key path it happened under."""
    stack: list[list[Any]] = []  # per open collection: [is_map, key or index, expecting a key]
    count = 0
    try:
        for event in yaml.parse(text, Loader=SAFE_LOADER):
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            if stack:
                top = stack[-1]
                if not top[0]:
                    top[1] += 1
                elif top[2]:
                    top[1] = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                top[2] = not top[2] if top[0] else False
            count += 1
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([isinstance(event, yaml.MappingStartEvent), -1, True])
            problem = ""
            if count > MAX_VALUES:
                problem = f"more than {MAX_VALUES} values in one file"
            elif len(stack) > MAX_DEPTH:
                problem = f"values nested more than {MAX_DEPTH} levels deep"
            if problem:
                mark = event.start_mark
                path = _scan_path(stack)
                where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                key = dotted(path) if len(path) <= 12 else dotted(path[:6]) + "..." + dotted(path[-2:])
                raise YamlProblems([Problem(file, *where, key, problem, "a layer file holds settings")])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        message = f"malformed YAML: {exc.problem or exc.context or 'cannot parse'}"
        if exc.context and exc.problem:
            message = f"malformed YAML: {exc.context}, {exc.problem}"
        raise YamlProblems([Problem(file, line, col, dotted(_scan_path(stack)), message)]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as a control character
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        what = f" (U+{exc.character:04X})" if isinstance(exc.character, int) else ""
        message = f"malformed YAML: {exc.reason}{what}"
        raise YamlProblems([Problem(file, line, col, dotted(_scan_path(stack)), message)]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(file, 1, 1, "", f"malformed YAML: {exc}")]) from None


def _scan_path(stack: list[list[Any]]) -> Path_:
    path: list[str | int] = []
    for i, (is_map, where, expecting_key) in enumerate(stack):
        last = i == len(stack) - 1
        if is_map and where is not None and where != -1 and not (last and expecting_key):
            path.append(str(where))
        elif not is_map and where >= 0:
            path.append(int(where))
    return tuple(path)


# Characters an editor does not show, or shows as a space or a line break that YAML reads otherwise:
# each is reported as what it is, at its own line (counting only newlines, as editors do).
INVISIBLE = {
    "\u00a0": "NO-BREAK SPACE",
    "\u2007": "FIGURE SPACE",
    "\u202f": "NARROW NO-BREAK SPACE",
    "\u200b": "ZERO WIDTH SPACE",
    "\u200c": "ZERO WIDTH NON-JOINER",
    "\u200d": "ZERO WIDTH JOINER",
    "\u2060": "WORD JOINER",
    "\u2028": "LINE SEPARATOR",
    "\u2029": "PARAGRAPH SEPARATOR",
    "\ufeff": "BYTE ORDER MARK (inside the file)",
    "\u0085": "NEXT LINE",
}
_INVISIBLE = re.compile("[" + "".join(INVISIBLE) + "]")


def invisible_characters(text: str, file: str) -> list[Problem]:
    """Every invisible character of ``text`` (a BOM only where it is not the first character)."""
    problems: list[Problem] = []
    for number, line in enumerate(text.split("\n"), 1):
        for match in _INVISIBLE.finditer(line):
            if match.group() == "\ufeff" and number == 1 and match.start() == 0:
                continue
            code = f"U+{ord(match.group()):04X}"
            problems.append(
                Problem(
                    file,
                    number,
                    match.start() + 1,
                    "",
                    f"invisible character {code} {INVISIBLE[match.group()]}",
                    "delete it, or type a plain space or a new line instead: editors do not show it",
                )
            )
    return problems


def parse_text(text: str, file: str) -> Document:
    """Parse one YAML document; raise :class:`YamlProblems` with located problems."""
    invisible = invisible_characters(text, file)
    if invisible:
        raise YamlProblems(invisible)
    if "\t" in text:
        for n, text_line in enumerate(text.splitlines(), 1):
            indent = text_line[: len(text_line) - len(text_line.lstrip(" \t"))]
            if "\t" in indent:
                raise YamlProblems(
                    [Problem(file, n, indent.index("\t") + 1, "", "tab used for indentation", "indent with spaces")]
                )
    _scan(text, file)
    try:
        nodes = list(yaml.compose_all(text, Loader=SAFE_LOADER))
    except yaml.YAMLError as exc:  # the scan saw every parse error; the composer adds undefined aliases
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "cannot parse"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlProblems([Problem(file, line, col, "", f"malformed YAML: {problem}")]) from None
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


_UTF16_32 = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def read_text(path: Path, shown: str) -> str:
    """Read a layer file as UTF-8 (a UTF-8 BOM is accepted), refusing what is not a regular file,
    huge files (before reading them) and other encodings."""

    def refuse(message: str, hint: str = "", line: int = 1, col: int = 1) -> YamlProblems:
        return YamlProblems([Problem(shown, line, col, "", message, hint)])

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: a FIFO must not hang the run
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise refuse(f"cannot read file: it is {kind}", "a layer file is a regular YAML file")
        if info.st_size > MAX_FILE_BYTES:
            raise refuse(
                f"file is {info.st_size / (1 << 20):.1f} MiB; layer files are limited to {MAX_FILE_BYTES >> 20} MiB",
                "a layer file holds settings, not data",
            )
        chunks = []
        left = MAX_FILE_BYTES + 1  # a file that grew since fstat is still cut off
        while left > 0:
            chunk = os.read(fd, min(left, max(info.st_size + 1, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise refuse(f"file is larger than {MAX_FILE_BYTES >> 20} MiB", "a layer file holds settings, not data")
    for bom, encoding in _UTF16_32.items():
        if raw.startswith(bom):
            raise refuse(f"file is {encoding} encoded (it starts with a {encoding} byte-order mark)", "save as UTF-8")
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
