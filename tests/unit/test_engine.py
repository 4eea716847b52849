"""Our templates are parsed back into data through placeholders (generator/render/engine.py): the data
must be what the same template with its values pasted in as JSON text means, without any YAML
parsing of those values; anything the placeholders cannot stand for takes the plain way."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.errors import RenderError
from generator.render import engine
from tests.conftest import Result

# Text YAML accepts inside a double-quoted scalar once JSON has escaped the control characters.
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")) | st.sampled_from('\n\t\r"\\'))
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=20
)


def _plain_environment() -> jinja2.Environment:
    """The templates' settings with the values pasted in as JSON text: the meaning to keep."""
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    return env


def _pasted(source: str, **context: Any) -> Any:
    return yaml.safe_load(_plain_environment().from_string(source).render(**context))


@pytest.fixture
def templates(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Register a template source under a name render_template finds."""
    sources: dict[str, jinja2.Template] = {}

    def add(source: str) -> str:
        name = f"test-{len(sources)}.yaml.j2"
        sources[name] = engine.environment().from_string(source)
        return name

    monkeypatch.setattr(engine, "template", lambda name: sources[name])
    return add


def _is_yaml_float(value: Any) -> bool:
    """JSON floats YAML 1.1 also reads as floats: the ones written with a dot."""
    return not isinstance(value, float) or "." in json.dumps(value)


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for sub in value.values():
            yield from _walk(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _walk(sub)


def _ordered(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # key order counts


SHAPES = "a: {{ v | json }}\nb: [{{ v | json }}, 1]\nc:\n  d: {{ v | json }}\n"


@settings(max_examples=300, deadline=None)
@given(value=_VALUES)
def test_values_are_their_json_meaning(value: Any) -> None:
    sources: dict[str, jinja2.Template] = {"t": engine.environment().from_string(SHAPES)}
    real = engine.template
    engine.template = lambda name: sources[name]  # type: ignore[assignment]
    try:
        data = engine.render_template("t", v=value)
    finally:
        engine.template = real  # type: ignore[assignment]
    meaning = json.loads(json.dumps(value, sort_keys=True))
    assert _ordered(data) == _ordered({"a": meaning, "b": [meaning, 1], "c": {"d": meaning}})
    if all(_is_yaml_float(v) for v in _walk(value)):
        assert _ordered(data) == _ordered(_pasted(SHAPES, v=value))


def test_a_float_without_a_dot_is_a_float(templates: Callable[[str], str]) -> None:
    """The one difference from YAML-parsing the JSON text: YAML 1.1 read ``1e-05`` as a string."""
    name = templates("x: {{ v | json }}\n")
    assert engine.render_template(name, v=1e-05) == {"x": 1e-05}
    assert _pasted("x: {{ v | json }}\n", v=1e-05) == {"x": "1e-05"}


def test_every_document_is_fresh(templates: Callable[[str], str]) -> None:
    name = templates("kind: X\nlist: [a, {b: c}]\nmap: {k: [1]}\nvalue: {{ v | json }}\n")
    value = {"n": [1, 2]}
    first = engine.render_template(name, v=value)
    first["list"][1]["b"] = "changed"
    first["map"]["k"].append(2)
    first["value"]["n"].append(3)
    second = engine.render_template(name, v=value)
    assert second == {"kind": "X", "list": ["a", {"b": "c"}], "map": {"k": [1]}, "value": {"n": [1, 2]}}
    assert value == {"n": [1, 2]}


def test_a_skeleton_is_parsed_once_per_shape(templates: Callable[[str], str]) -> None:
    name = templates("a: {{ v | json }}\n{% if w %}\nw: {{ w | json }}\n{% endif %}\n")
    engine.render_template(name, v=0, w=None)
    before = engine._skeleton.cache_info()
    for index in range(10):
        assert engine.render_template(name, v=index, w=None) == {"a": index}
        assert engine.render_template(name, v=index, w=[index]) == {"a": index, "w": [index]}
    after = engine._skeleton.cache_info()
    assert after.misses == before.misses + 1  # the branch with w: one more shape
    assert after.hits == before.hits + 19


@pytest.mark.parametrize(
    "source",
    [
        "name: 'x-{{ v | json }}'\n",  # inside a quoted string
        "name: x-{{ v | json }}\n",  # inside a plain scalar
        "# {{ v | json }}\nname: 1\n",  # in a comment
        "text: |\n  {{ v | json }}\n",  # in a block scalar
        "{% set unused = v | json %}\nname: {{ v | json }}\n",  # recorded, never written
        "{{ v | json }}: 1\nother: {{ v | json }}\n",  # a key: a whole value, the quick way
        "when: 2024-01-01\nname: {{ v | json }}\n",  # a YAML date in the template's own text
        "set: !!set {a: null}\nname: {{ v | json }}\n",  # a YAML set in the template's own text
    ],
)
def test_what_placeholders_cannot_stand_for_is_parsed_the_plain_way(
    templates: Callable[[str], str], source: str
) -> None:
    name = templates(source)
    assert engine.render_template(name, v="va lue") == _pasted(source, v="va lue")


def test_a_map_as_a_key_is_refused_as_before(templates: Callable[[str], str]) -> None:
    name = templates("{{ v | json }}: 1\n")
    with pytest.raises(RenderError, match="produced invalid YAML"):
        engine.render_template(name, v={"a": 1})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a: {{ v | json }}\n  b: c\n", "produced invalid YAML"),
        ("- {{ v | json }}\n", "did not produce a map"),
        ("a: {{ missing | json }}\n", "failed"),
    ],
)
def test_a_broken_template_is_a_render_error(templates: Callable[[str], str], source: str, message: str) -> None:
    name = templates(source)
    with pytest.raises(RenderError, match=message):
        engine.render_template(name, v=1)


def test_the_filter_outside_render_template_writes_json() -> None:
    text = engine.environment().from_string("{{ v | json }}").render(v={"b": 1, "a": "é"})
    assert text == '{"a": "é", "b": 1}'


@pytest.mark.parametrize("target", ["vvp", "vvp-operator", "flink-operator"])
def test_every_shipped_template_takes_the_quick_way(
    target: str, config: Path, tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain: list[str] = []
    real = engine._parse_plain

    def spy(name: str, context: dict[str, Any]) -> Any:
        plain.append(name)
        return real(name, context)

    monkeypatch.setattr(engine, "_parse_plain", spy)
    result = cli("render", "-c", str(config), "-o", str(tmp_path / "out"), "-t", target)
    assert result.code == 0, result.stderr
    assert plain == []


class _Store(dict[str, Any]):
    """A render cache in memory (what :func:`engine.keep_compiled` needs of one)."""

    def put(self, key: str, value: Any) -> None:
        self[key] = value


@pytest.fixture
def new_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], list[str]]]:
    """Start a process that has compiled no template yet, with these template sources; returns the
    names of the templates it compiles (rather than loading them compiled)."""

    def start(sources: dict[str, str]) -> list[str]:
        engine.environment.cache_clear()
        engine.template.cache_clear()
        monkeypatch.setattr(jinja2, "PackageLoader", lambda *_: jinja2.DictLoader(sources))
        compiled: list[str] = []
        real = jinja2.Environment.compile

        def spy(self: jinja2.Environment, source: str, name: str | None = None, *args: Any, **kw: Any) -> Any:
            compiled.append(str(name))
            return real(self, source, name, *args, **kw)

        monkeypatch.setattr(jinja2.Environment, "compile", spy)
        return compiled

    yield start
    engine.keep_compiled(None)
    engine.environment.cache_clear()
    engine.template.cache_clear()


def test_compiled_templates_are_loaded_from_the_cache_by_the_next_process(
    new_process: Callable[[dict[str, str]], list[str]],
) -> None:
    sources = {"a.yaml.j2": "a: {{ v | json }}\n", "b.yaml.j2": "b: [{{ v | json }}]\n"}
    store = _Store()
    compiled = new_process(sources)
    engine.keep_compiled(store)
    first = [engine.render_template(name, v={"x": 1}) for name in sources]
    assert compiled == list(sources)
    assert len(store) == 2 and all(isinstance(v, bytes) for v in store.values())

    compiled = new_process(sources)
    engine.keep_compiled(store)
    assert [engine.render_template(name, v={"x": 1}) for name in sources] == first
    assert compiled == []  # loaded, not compiled


def test_a_changed_template_is_compiled_again(new_process: Callable[[dict[str, str]], list[str]]) -> None:
    store = _Store()
    new_process({"a.yaml.j2": "a: {{ v | json }}\n"})
    engine.keep_compiled(store)
    assert engine.render_template("a.yaml.j2", v=1) == {"a": 1}

    compiled = new_process({"a.yaml.j2": "changed: {{ v | json }}\n"})
    engine.keep_compiled(store)
    assert engine.render_template("a.yaml.j2", v=1) == {"changed": 1}
    assert compiled == ["a.yaml.j2"]


def test_an_entry_that_is_not_compiled_template_is_compiled_again(
    new_process: Callable[[dict[str, str]], list[str]],
) -> None:
    """Another Jinja2's or Python's compiled template (or any other bytes): Jinja2 checks the header."""
    store = _Store()
    new_process({"a.yaml.j2": "a: {{ v | json }}\n"})
    engine.keep_compiled(store)
    engine.render_template("a.yaml.j2", v=1)
    for key in store:
        store[key] = b"j2 something else"

    compiled = new_process({"a.yaml.j2": "a: {{ v | json }}\n"})
    engine.keep_compiled(store)
    assert engine.render_template("a.yaml.j2", v=2) == {"a": 2}
    assert compiled == ["a.yaml.j2"]
