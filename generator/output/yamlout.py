"""Deterministic YAML: the text of every rendered document.

Kubernetes key order at the top (``apiVersion``, ``kind``, ``metadata``, ``spec``; ``name`` and
``namespace`` first in ``metadata``), every other map sorted, YAML 1.1 look-alikes quoted, no line
folding. The block structure is laid out here and each distinct scalar is written the way libyaml's
emitter writes it, so the text is byte for byte what PyYAML writes (:func:`dump_yaml_pyyaml`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

_TOP_ORDER = ("apiVersion", "kind", "metadata", "spec")
_META_ORDER = ("name", "namespace")

try:
    _Dumper: type[Any] = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


class _Dumper2(_Dumper):  # type: ignore[misc]
    """libyaml's emitter; multi-line strings as literal blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper2.add_representer(str, _str_representer)


def _ordered(value: Any, depth: int = 0, parent: str = "") -> Any:
    if isinstance(value, dict):
        if depth == 0:
            first = [k for k in _TOP_ORDER if k in value]
        elif parent == "metadata":
            first = [k for k in _META_ORDER if k in value]
        else:
            first = []
        rest = sorted(k for k in value if k not in first)
        return {k: _ordered(value[k], depth + 1, k) for k in (*first, *rest)}
    if isinstance(value, list):
        return [_ordered(v, depth + 1, parent) for v in value]
    return value


def dump_yaml(doc: Mapping[str, Any]) -> str:
    """Deterministic YAML: Kubernetes key order at the top, other maps sorted, YAML 1.1
    look-alikes (``on``, ``yes``, ``1.20``, ``0755``) quoted, no line folding.

    Byte for byte what :func:`dump_yaml_pyyaml` writes: block structure is laid out here and
    every scalar is written the way libyaml's emitter writes it (asked once per distinct
    scalar); anything outside that subset is handed to PyYAML whole."""
    try:
        if not doc:
            raise _Fallback
        out: list[str] = []
        _emit_map(doc, 0, 0, "", out, False)
        return "".join(out)
    except _Fallback:
        return dump_yaml_pyyaml(doc)


class _Fallback(Exception):
    """A value the fast emitter does not handle: PyYAML writes the whole document."""


# A string libyaml writes plain, both as a key and as a value: no indicator first, no ': ' or
# ' #', no leading or trailing space, nothing YAML 1.1 would read as another type.
_PLAIN = re.compile(r"[A-Za-z_/](?:[A-Za-z0-9_./=@+\-]|:(?=[^ ])| (?=[^ #]))*")
_NOT_PLAIN = frozenset(
    {
        *("yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"),
        *("true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"),
    }
)
_SCALARS: dict[tuple[type, Any], str] = {}  # (type, value) -> its text after "key: " at column 0
_KEYS: dict[str, str] = {}
_STRINGS: dict[str, str] = {}  # plain string values: themselves
_MEMO_LIMIT = 200_000


def _learn(value: Any) -> str:
    """How libyaml writes ``value`` as a map value at column 0 (``|`` blocks: lines below it)."""
    text: str = yaml.dump({"k": value}, Dumper=_Dumper2, default_flow_style=False, allow_unicode=True, width=1 << 30)
    if not text.startswith("k: ") or text.endswith("\n...\n"):
        raise _Fallback
    body = text[3:-1]
    if any(ch in body for ch in "\x85\u2028\u2029"):
        raise _Fallback  # line breaks that are not "\n": libyaml indents after them too
    if "\n" in body and not (body.startswith("|") and not body.split("\n", 1)[0].endswith("+")):
        raise _Fallback  # multi-line quoted scalars depend on their context
    if len(_SCALARS) > _MEMO_LIMIT:
        _SCALARS.clear()
    _SCALARS[_memo_key(value)] = body
    return body


def _memo_key(value: Any) -> tuple[type, Any]:
    # 0.0 == -0.0 (and hash alike), but libyaml writes them differently: floats by their repr
    return (float, repr(value)) if type(value) is float else (type(value), value)


def _scalar(value: Any, col: int) -> str:
    kind = type(value)
    if kind is str:
        known = _STRINGS.get(value)  # plain strings (most): one lookup instead of the pattern
        if known is not None:
            return known
        if _PLAIN.fullmatch(value) and value not in _NOT_PLAIN:
            if len(_STRINGS) > _MEMO_LIMIT:
                _STRINGS.clear()
            _STRINGS[value] = value
            plain: str = value
            return plain
    elif value is None:
        return "null"
    elif kind is bool:
        return "true" if value else "false"
    elif kind is int:
        return str(value)
    elif kind is not float:
        raise _Fallback
    body = _SCALARS.get(_memo_key(value))
    if body is None:
        body = _learn(value)
    if "\n" in body and col:
        pad = " " * col
        return "\n".join([line if not line or i == 0 else pad + line for i, line in enumerate(body.split("\n"))])
    return body


def _key(key: Any) -> str:
    if type(key) is not str:
        raise _Fallback
    text = _KEYS.get(key)  # plain keys (most) too: one lookup instead of the pattern
    if text is not None:
        return text
    if len(key) < 100 and _PLAIN.fullmatch(key) and key not in _NOT_PLAIN:
        text = key
    else:
        dumped: str = yaml.dump({key: 0}, Dumper=_Dumper2, default_flow_style=False, allow_unicode=True, width=1 << 30)
        multi_line = dumped.count("\n") != 1 or any(ch in dumped for ch in "\x85\u2028\u2029")
        if not dumped.endswith(": 0\n") or dumped.startswith("? ") or multi_line:
            raise _Fallback
        text = dumped[:-4]
    if len(_KEYS) > _MEMO_LIMIT:
        _KEYS.clear()
    _KEYS[key] = text
    return text


def _keys(value: Mapping[str, Any], depth: int, parent: str) -> list[str]:
    try:
        if depth == 0:
            first = [k for k in _TOP_ORDER if k in value]
        elif parent == "metadata":
            first = [k for k in _META_ORDER if k in value]
        else:
            return sorted(value)
        return [*first, *sorted(k for k in value if k not in first)]
    except TypeError:
        raise _Fallback from None


def _emit_value(value: Any, col: int, depth: int, parent: str, out: list[str]) -> None:
    """After ``key:`` or ``-`` at column ``col``: the rest of the line and the lines below."""
    kind = type(value)
    if kind is dict:
        if not value:
            out.append(" {}\n")
        else:
            out.append("\n")
            _emit_map(value, col + 2, depth, parent, out, False)
    elif kind is list:
        if not value:
            out.append(" []\n")
        else:
            out.append("\n")
            _emit_seq(value, col, depth, parent, out, False)
    else:
        out.append(" ")
        out.append(_scalar(value, col))
        out.append("\n")


def _emit_map(value: Mapping[str, Any], col: int, depth: int, parent: str, out: list[str], inline: bool) -> None:
    if type(value) is not dict:
        raise _Fallback
    pad = " " * col
    for i, key in enumerate(_keys(value, depth, parent)):
        if i or not inline:
            out.append(pad)
        out.append(_key(key))
        out.append(":")
        _emit_value(value[key], col, depth + 1, key, out)


def _emit_seq(value: list[Any], col: int, depth: int, parent: str, out: list[str], inline: bool) -> None:
    """A block sequence with its dashes at column ``col``; items keep the list's key as parent."""
    pad = " " * col
    for i, item in enumerate(value):
        if i or not inline:
            out.append(pad)
        kind = type(item)
        if kind is dict and item:
            out.append("- ")
            _emit_map(item, col + 2, depth + 1, parent, out, True)
        elif kind is list and item:
            out.append("- ")
            _emit_seq(item, col + 2, depth + 1, parent, out, True)
        elif kind is dict:
            out.append("- {}\n")
        elif kind is list:
            out.append("- []\n")
        else:
            out.append("- ")
            out.append(_scalar(item, col))
            out.append("\n")


def dump_yaml_pyyaml(doc: Mapping[str, Any]) -> str:
    """The reference: PyYAML (libyaml's C emitter) over the ordered document."""
    text: str = yaml.dump(
        _ordered(dict(doc)),
        Dumper=_Dumper2,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
        indent=2,
    )
    return text
