"""The sandbox that Jinja2 expressions in layer values run in.

Jinja2's :class:`ImmutableSandboxedEnvironment` keeps templates away from Python internals
(``__class__``, ``__globals__``, ...) and from changing lists and maps. It does not bound time or
memory, so on top of it a configuration template may only be expressions, optionally inside
``{% if %}``: no loops, macros, ``set`` or includes, at most :data:`MAX_NODES` syntax nodes, only
filters whose result is about as large as their input, and the operations that can multiply a
value's size (``*``, ``**``, ``%``, ``join``, ``replace``) are checked before they run against
:data:`MAX_CHARS`. Without loops or variables a template then builds at most about
``MAX_NODES * MAX_CHARS`` characters, in time proportional to that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator.config.yamlload import bad_character

MAX_CHARS = 64 * 1024
MAX_NODES = 1000
MAX_POWER_BITS = 4096

# filters whose result is about as large as their input (join and replace are checked below)
_FILTERS = frozenset(
    {
        *("abs", "attr", "capitalize", "count", "d", "default", "dictsort", "first", "float", "int", "items"),
        *("join",),
        *("last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse"),
        *("round", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "truncate"),
        *("unique", "upper", "urlencode", "wordcount"),
    }
)
_STR_METHODS_DENIED = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map", "join", "replace", "translate"}
)


def _too_big(what: str) -> SecurityError:
    return SecurityError(f"{what} would be longer than {MAX_CHARS} characters")


class ConfigSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox whose templates are bounded in size, time and memory."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self.filters = {name: fn for name, fn in self.filters.items() if name in _FILTERS}
        self.filters["join"] = self._join
        self.filters["replace"] = self._replace
        self.globals = {"range": self.globals["range"], "dict": dict}

    # -- what a template may contain ---------------------------------------------------------
    def compile_checked(self, source: str) -> jinja2.Template:
        """Parse, refuse statements other than ``if`` and oversized templates, compile."""
        tree = self.parse(source)
        count = 0
        for node in tree.find_all(nodes.Node):
            count += 1
            if isinstance(node, nodes.Stmt) and not isinstance(node, nodes.Output | nodes.If):
                keyword = type(node).__name__.lower()
                raise SecurityError(
                    f"'{keyword}' is not allowed in configuration values: write one expression, "
                    "optionally inside {% if %}...{% else %}...{% endif %}"
                )
        if count > MAX_NODES:
            raise SecurityError(f"the template has more than {MAX_NODES} parts; keep configuration values simple")
        return self.from_string(tree)

    def wrap_str_format(self, value: Any) -> Any:
        if super().wrap_str_format(value) is not None:  # str.format takes widths: '{:>999999999}'
            raise SecurityError("str.format is not allowed; join strings with ~")
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in _STR_METHODS_DENIED:
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    # -- operations that can make values large ------------------------------------------------
    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_CHARS:
                    raise _too_big("the repeated value")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                if max(abs(left).bit_length(), 1) * right > MAX_POWER_BITS:
                    raise SecurityError(f"{left} ** {right} is too large")
            elif isinstance(right, int | float) and not math.isfinite(float(right)):
                raise SecurityError("an infinite exponent")
        elif operator == "%" and isinstance(left, str):
            raise SecurityError("'%' string formatting is not allowed; join strings with ~")
        return super().call_binop(context, operator, left, right)

    def _join(self, value: Iterable[Any], d: str = "", attribute: str | int | None = None) -> str:
        items = list(value)
        if attribute is not None:
            items = [self.getitem(item, attribute) for item in items]
        texts = [str(item) for item in items]
        if sum(map(len, texts)) + len(d) * max(len(texts) - 1, 0) > MAX_CHARS:
            raise _too_big("the joined text")
        return d.join(texts)

    def _replace(self, value: Any, old: str, new: str, count: int | None = None) -> str:
        text, old, new = str(value), str(old), str(new)
        hits = (text.count(old) if old else len(text) + 1) if count is None else min(count, len(text) + 1)
        if len(text) + max(hits, 0) * len(new) > MAX_CHARS:
            raise _too_big("the replaced text")
        return text.replace(old, new, -1 if count is None else count)

    def render_bounded(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        text = template.render(context)
        if len(text) > MAX_CHARS:
            raise _too_big("the rendered value")
        if bad_character(text):
            raise jinja2.TemplateRuntimeError(f"the rendered value holds the control character {bad_character(text)}")
        return text


__all__ = ["MAX_CHARS", "MAX_NODES", "ConfigSandbox", "SecurityError"]
