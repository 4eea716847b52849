"""Our own Jinja2 templates (package data): compiled once per process, rendered with
StrictUndefined, parsed back into data so every document can be validated before any write.

A template is a YAML skeleton whose values come through the ``json`` filter. Inside
:func:`render_template` the filter does not paste the JSON text into the YAML: it records the
JSON text and writes a tagged placeholder (``!json 3``). The skeleton, a few lines, is parsed as
YAML once per distinct text (per template and branch taken) and kept; the recorded values are
decoded by :mod:`json` (C speed) and put in place of their placeholders. The data is what the
JSON text means as JSON, which is also what PyYAML made of it for every value a template gets
(JSON is YAML's flow syntax), except floats written without a dot (``1e-05``), which YAML 1.1
reads as strings and JSON as the floats they are. Anything the placeholders cannot stand for (a
``json`` value inside a quoted string, a comment, a block scalar) is noticed, and that render is
parsed the plain way: JSON text in the YAML.

With a render cache (:func:`keep_compiled`), the compiled templates are kept in it too: compiling
the templates a deployment needs is a tenth of an incremental render's own work, and a new process
would otherwise do it on every run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any, Protocol

import jinja2
import yaml
from jinja2.bccache import Bucket
from jinja2.runtime import Context

from generator.config.yamlload import SAFE_LOADER, load_plain
from generator.errors import RenderError

PLACEHOLDER_TAG = "!json"
_VALUES = "gen json values"  # a context key no template can name: the recorded JSON texts


def _json(value: Any) -> str:
    """Any value as a JSON (hence YAML flow) literal: quoting is never a template's job."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@jinja2.pass_context
def _json_filter(context: Context, value: Any) -> str:
    """The ``json`` filter: a placeholder inside :func:`render_template`, the JSON text elsewhere."""
    text = _json(value)
    values: list[str] | None = context.get(_VALUES)
    if values is None:
        return text
    values.append(text)
    return f"{PLACEHOLDER_TAG} {len(values) - 1}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "_data/templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _json_filter
    return env


class Store(Protocol):
    """Where compiled templates are kept between processes (the render cache)."""

    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...


class _StoredBytecode(jinja2.BytecodeCache):
    """Jinja2's compiled templates as entries of the render cache, which checks (or, with a key,
    authenticates) every entry before it is used. An entry is found by the template's name and the
    SHA-1 of its source (Jinja2's bucket), and Jinja2 itself discards one compiled by another Jinja2
    or Python version, so a stale entry is never run: the template is compiled again."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _key(self, bucket: Bucket) -> str:
        return hashlib.sha256(f"compiled template\0{bucket.key}\0{bucket.checksum}".encode()).hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self.store.get(self._key(bucket))
        if isinstance(found, bytes):
            bucket.bytecode_from_string(found)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.store.put(self._key(bucket), bucket.bytecode_to_string())


def keep_compiled(store: Store | None) -> None:
    """Load compiled templates from ``store`` and keep those compiled in this process there (``None``:
    compile in memory only)."""
    environment().bytecode_cache = None if store is None else _StoredBytecode(store)


@cache
def template(name: str) -> jinja2.Template:
    return environment().get_template(name)


class _Slot(int):
    """Where the skeleton holds the recorded value of this number."""


class _SkeletonLoader(SAFE_LOADER):  # type: ignore[misc]
    pass


def _construct_slot(loader: Any, node: yaml.ScalarNode) -> _Slot:
    return _Slot(loader.construct_scalar(node))


_SkeletonLoader.add_constructor(PLACEHOLDER_TAG, _construct_slot)


class _NotASkeleton(Exception):
    """The placeholders did not land where whole values go: parse the JSON text instead."""


_SCALARS = (str, int, float, bool, type(None))


@lru_cache(maxsize=512)
def _skeleton(text: str) -> tuple[Callable[[list[Any]], Any], int]:
    """The parsed skeleton as a builder (given the decoded values, a fresh document) and the
    number of values it takes; :class:`_NotASkeleton` unless every placeholder is a whole value."""
    try:
        data = yaml.load(text, Loader=_SkeletonLoader)
    except (yaml.YAMLError, ValueError) as exc:
        raise _NotASkeleton from exc
    used: list[int] = []
    build = _builder(data, used)
    slots = text.count(PLACEHOLDER_TAG)
    if sorted(used) != list(range(slots)):
        raise _NotASkeleton
    return build, slots


def _builder(node: Any, used: list[int]) -> Callable[[list[Any]], Any]:
    if isinstance(node, _Slot):
        index = int(node)
        used.append(index)
        return lambda values: values[index]
    if isinstance(node, dict):
        items = [(_builder(key, used), _builder(value, used)) for key, value in node.items()]
        return lambda values: {key(values): value(values) for key, value in items}
    if isinstance(node, list):
        parts = [_builder(item, used) for item in node]
        return lambda values: [part(values) for part in parts]
    if not isinstance(node, _SCALARS):  # a YAML-only type (a date, a set): the plain way
        raise _NotASkeleton
    return lambda values: node  # a scalar of the template's own text: immutable, shared


def render_template(template_name: str, /, **context: Any) -> dict[str, Any]:
    """Render one of our templates and parse it back; a failure here is a bug, never user input."""
    values: list[str] = []
    try:
        text = template(template_name).render(context, **{_VALUES: values})
    except (jinja2.TemplateError, TypeError) as exc:  # TypeError: a value JSON cannot write
        raise RenderError(f"template {template_name} failed: {exc}") from exc
    try:
        build, slots = _skeleton(text)
        if slots != len(values):
            raise _NotASkeleton
        data = build(json.loads(f"[{','.join(values)}]"))
    except (_NotASkeleton, TypeError):  # TypeError: a map or list as a key
        data = _parse_plain(template_name, context)
    if not isinstance(data, dict):
        raise RenderError(f"template {template_name} did not produce a map")
    return data


def _parse_plain(template_name: str, context: dict[str, Any]) -> Any:
    """The template with its values as JSON text, parsed as YAML in one piece."""
    try:
        text = template(template_name).render(**context)
    except jinja2.TemplateError as exc:  # pragma: no cover - it rendered a moment ago
        raise RenderError(f"template {template_name} failed: {exc}") from exc
    try:
        return load_plain(text)
    except yaml.YAMLError as exc:
        raise RenderError(f"template {template_name} produced invalid YAML: {exc}") from exc
