"""Merge rules and provenance, tested once."""

from __future__ import annotations

import copy

from generator.config.merge import DELETED, Merged, merge_layer
from generator.config.yamlload import parse_text

KEYED = {("spec", "template", "spec", "kubernetes", "pods", "envVars"): "name"}


def layer(text: str, name: str) -> tuple[str, object]:
    return name, parse_text(text, f"{name}.yaml")


def merge(*texts: str) -> Merged:
    merged = Merged.empty()
    for i, text in enumerate(texts):
        doc = parse_text(text, f"l{i}.yaml")
        merged = merge_layer(merged, f"layer{i}", doc, KEYED)
    return merged


def test_maps_merge_deeply_and_later_layers_win() -> None:
    m = merge("a: {b: 1, c: {d: 2}}\n", "a: {c: {e: 3}, b: 5}\n")
    assert m.data == {"a": {"b": 5, "c": {"d": 2, "e": 3}}}
    assert [o.value for o in m.provenance[("a", "b")]] == [1, 5]
    assert [(o.file, o.line) for o in m.provenance[("a", "c", "e")]] == [("l1.yaml", 1)]


def test_lists_are_replaced_unless_keyed() -> None:
    m = merge("x: [1, 2]\n", "x: [3]\n")
    assert m.data == {"x": [3]}
    pods = "spec: {template: {spec: {kubernetes: {pods: {envVars: %s}}}}}\n"
    m = merge(pods % "[{name: A, value: '1'}, {name: B, value: '2'}]", pods % "[{name: B, value: '3'}, {name: C}]")
    assert m.data["spec"]["template"]["spec"]["kubernetes"]["pods"]["envVars"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "3"},
        {"name": "C"},
    ]


def test_null_deletes_and_is_recorded() -> None:
    m = merge("a: {b: 1, c: 2}\n", "a: {b: null}\n")
    assert m.data == {"a": {"c": 2}}
    chain = m.provenance[("a", "b")]
    assert chain[-1].value is DELETED and chain[-1].line == 1 and chain[0].value == 1


def test_replacing_a_map_by_a_scalar_drops_the_old_leaves() -> None:
    m = merge("a: {b: 1}\n", "a: 7\n")
    assert m.data == {"a": 7}
    assert ("a", "b") not in m.provenance
    m = merge("a: 7\n", "a: {b: 1}\n")
    assert m.data == {"a": {"b": 1}} and ("a",) not in m.provenance


def test_inputs_are_never_mutated() -> None:
    first = parse_text("a: {b: [1], c: {d: 1}}\n", "l0.yaml")
    second = parse_text("a: {c: {d: 2}, b: null}\n", "l1.yaml")
    snapshot = (copy.deepcopy(first.data), copy.deepcopy(second.data))
    base = merge_layer(Merged.empty(), "one", first, KEYED)
    base_copy = copy.deepcopy(base.data)
    merged = merge_layer(base, "two", second, KEYED)
    assert (first.data, second.data) == snapshot
    assert base.data == base_copy
    assert merged.data == {"a": {"c": {"d": 2}}}
