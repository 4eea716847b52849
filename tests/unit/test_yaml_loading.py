"""What the YAML reader accepts and refuses, with positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.config.yamlload import YamlProblems, load_file, parse_text


def messages(text: str) -> list[str]:
    with pytest.raises(YamlProblems) as info:
        parse_text(text, "f.yaml")
    return [str(p) for p in info.value.problems]


def test_marks_are_one_based_and_point_at_keys() -> None:
    doc = parse_text("a:\n  b: 1\n  c:\n    - x\n", "f.yaml")
    assert (doc.marks[("a", "b")].line, doc.marks[("a", "b")].col) == (2, 3)
    assert doc.marks[("a", "c", 0)].line == 4


def test_duplicate_keys_tabs_merge_keys_and_multiple_documents() -> None:
    assert messages("a: 1\na: 2\n") == ["f.yaml:2:1: a: duplicate key (first set on line 1) (hint: keep one of them)"]
    assert messages("a:\n\tb: 1\n")[0].startswith("f.yaml:2:1: tab used for indentation")
    assert "merge keys" in messages("x: &x {a: 1}\ny:\n  <<: *x\n")[0]
    assert "more than one YAML document" in messages("a: 1\n---\nb: 2\n")[0]


def test_yaml_11_lookalike_keys_stay_strings() -> None:
    assert parse_text("on: 1\n1.20: x\n", "f.yaml").data == {"on": 1, "1.20": "x"}


def test_bom_empty_and_non_utf8(tmp_path: Path) -> None:
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_file(bom, "bom.yaml").data == {"a": 1}
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_file(empty, "empty.yaml").data == {}
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: caf\xe9\n")
    with pytest.raises(YamlProblems) as info:
        load_file(latin, "latin.yaml")
    assert str(info.value.problems[0]).startswith("latin.yaml:1:7: file is not valid UTF-8")
