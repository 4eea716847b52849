"""The compiled schema checks (jsonschema-rs) accept exactly what jsonschema accepts.

gen trusts a "valid" from the compiled check without asking jsonschema, so a document the check
accepted and jsonschema would refuse would be written unchecked. Here both answer for effective
configurations and checked documents of renders of a small estate (three environments, every
target; ten documents of each of the 15 schemas a render uses), and for forty deterministic
mutations of each: values of the wrong type, at and past the bounds, unknown and missing keys,
emptied lists and maps, repeated items. Any instance on which they disagree fails the test.
Nothing here is timed (benchmarks/schema_validators.py)."""

from __future__ import annotations

import copy
import datetime
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from benchmarks import estate
from generator import builtin_kinds, kinds
from generator.config import fastcheck, schema
from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.render import plan, steps
from generator.render.context import Doc
from generator.validate import crd_schemas, flink_operator_values, kubernetes, vvp_schemas

TARGETS: tuple[str | None, ...] = (None, "vvp-operator", "flink-operator")
DOCUMENTS, MUTATIONS = 10, 40  # per schema: documents, and mutations of each


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet") / "config"
    estate.write(root, 2, 6)
    return root


def _fast(validator: Any) -> fastcheck.FastValidator:
    assert isinstance(validator, fastcheck.FastValidator), "gen's validators are accelerated"
    return validator


def _validators_of(doc: Doc) -> list[fastcheck.FastValidator]:
    """The accelerated validators gen checks a rendered document with (as its output kind says)."""
    content = doc.content
    registered = kinds.of(content, doc.kind_key)
    if registered.key == "helm-values/flink-kubernetes-operator":
        return [_fast(flink_operator_values._validator())]
    if registered.kind is None:
        return []  # the VVP Helm values (plain jsonschema) and the kustomization (no schema)
    api, kind = str(content.get("apiVersion", "")), str(content.get("kind", ""))
    if registered.validator == builtin_kinds.VVP:
        return [_fast(vvp_schemas.load_vvp_validators()[kind])]
    if registered.validator == builtin_kinds.CRD:
        return [_fast(crd_schemas.load_crd_validators()[kind])]
    assert kubernetes.is_builtin(content), content
    return [_fast(kubernetes.validator(group[0], api, kind)) for group in kubernetes.schema_groups(api, kind)]


def _corpus(config: Path) -> list[tuple[fastcheck.FastValidator, dict[str, Any]]]:
    """(validator, instance) for every effective configuration and every document a render checks."""
    effective = _fast(schema.fast_validator("effective"))
    found: list[tuple[fastcheck.FastValidator, dict[str, Any]]] = []
    real = steps._out_file

    def recording(prefix: str, doc: Doc, *rest: Any) -> Any:
        found.extend((validator, doc.content) for validator in _validators_of(doc))
        return real(prefix, doc, *rest)

    for target in TARGETS:
        repo = ConfigRepo(config)
        with mock.patch.object(steps, "_out_file", recording):
            run = plan.render_run(repo, Resolver(repo), plan.Selection(target=target))
        found.extend((effective, eff.data) for ctx in run.contexts for eff in ctx.deployments)
    return found


_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 7, 100, 1000, 65535, 65536, 1 << 20, 1 << 31, 1.5, 0.05, -0.5, 1e300,
    "", " ", "x", "X", "-x", "x-", "a.b", "a_b", "A B", "0", "1", "1g", "1.5g", "1000", "1024m", "500m", "50m",
    "0.1", "2", "10s", "5 min", "1h30m", "ten", "2024-02-28", "2024-02-30", "s3://bucket/path", "file:///x",
    "NONE", "kubernetes", "savepoint", "stateless", "last-state", "a" * 64, "a" * 300, [], ["a"], [1, 2], {},
    {"zz": 1}, {"name": "x"},
]  # fmt: skip


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _near(value: Any, rnd: random.Random) -> Any:
    """A value close to ``value``: what a small slip in a layer would make of it."""
    if isinstance(value, bool):
        return rnd.choice([not value, int(value), str(value).lower()])
    if isinstance(value, int | float):
        return rnd.choice([value + 1, value - 1, -value, value * 1000, float(value) + 0.5, str(value), 0])
    if isinstance(value, str):
        return rnd.choice(
            [value.upper(), value + "x", value[:-1], " " + value, value + "/", value * 40, value.replace("-", "_")]
        )
    if isinstance(value, list):
        return rnd.choice([[], value[:1] * 2, value[1:], [*value, value[0]] if value else [None]])
    if isinstance(value, dict):
        return rnd.choice([{}, {**value, "bogusKey": 1}, dict(list(value.items())[1:])])
    return rnd.choice(_VALUES)


def _mutations(doc: dict[str, Any], rnd: random.Random, count: int) -> Iterator[tuple[str, Any]]:
    """``count`` copies of ``doc``, each with one change at a random place: (what changed, copy)."""
    paths = list(_paths(doc))[1:]
    for _ in range(count):
        mutated = copy.deepcopy(doc)
        path = rnd.choice(paths)
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        key, old = path[-1], parent[path[-1]]
        how = rnd.randrange(5)
        if how == 0 and isinstance(parent, dict):
            del parent[key]
            yield f"deleted {path}", mutated
        elif how == 1 and isinstance(parent, dict):
            parent["bogusKey"] = rnd.choice(_VALUES)
            yield f"added bogusKey beside {path}", mutated
        elif how == 2:
            parent[key] = _near(old, rnd)
            yield f"{path}: {old!r} -> {parent[key]!r}", mutated
        else:
            parent[key] = rnd.choice(_VALUES)
            yield f"{path}: {old!r} -> {parent[key]!r}", mutated


def test_compiled_checks_accept_what_jsonschema_accepts(fleet: Path) -> None:
    rnd = random.Random(20)
    corpus = _corpus(fleet)
    checks: dict[int, fastcheck.Check] = {}
    by_schema: Counter[str] = Counter()
    outcomes: Counter[bool] = Counter()
    compared = 0
    for validator, doc in corpus:
        key = str(validator.schema.get("$id"))
        if by_schema[key] >= DOCUMENTS:  # enough documents of each schema; mutations do the rest
            continue
        by_schema[key] += 1
        check = checks.get(id(validator))
        if check is None:
            check = fastcheck.compile_check(validator.schema, validator.resources, validator.formats)
            checks[id(validator)] = check
        assert check(doc) and validator.wrapped.is_valid(doc), f"{key}: a rendered document is refused"
        for change, mutated in _mutations(doc, rnd, MUTATIONS):
            expected = validator.wrapped.is_valid(mutated)
            if check(mutated) != expected:
                errors = [e.message for e in validator.wrapped.iter_errors(mutated)][:3]
                pytest.fail(f"{key}, {change}: jsonschema-rs says {not expected}, jsonschema {expected} {errors}")
            outcomes[expected] += 1
            compared += 1
    # effective; VVP Deployment, DeploymentTarget, DeploymentDefaults, VvpDeployment; PodMonitor,
    # PrometheusRule, FlinkDeployment; six Kubernetes kinds; the Flink Operator's Helm values
    assert len(by_schema) == 15, sorted(by_schema)
    assert compared >= 5000
    assert min(outcomes.values()) >= compared // 10, outcomes  # plenty of both answers


def _memory_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("mebibytes", raises=ValueError)
    def whole_mebibytes(value: object) -> bool:
        if isinstance(value, int) and value % (1 << 20):
            raise ValueError(f"{value} is not a whole number of mebibytes")
        return True

    return checker


def test_formats_are_the_format_checkers_for_every_type() -> None:
    """jsonschema asks a format checker about any value, not only strings (gen's units take numbers)."""
    checker = _memory_checker()
    wrapped = Draft202012Validator({"properties": {"m": {"format": "mebibytes"}}}, format_checker=checker)
    fast = fastcheck.accelerate(wrapped)
    check = fastcheck.compile_check(wrapped.schema, None, checker)
    for value, valid in ((1 << 20, True), (1000, False), ("1000", True), (None, True)):
        assert check({"m": value}) is valid
        assert fast.is_valid({"m": value}) is wrapped.is_valid({"m": value}) is valid
    without = fastcheck.compile_check({"format": "mebibytes"})
    assert without(1000)  # no format checker: formats are annotations, as to jsonschema
    assert fastcheck.compile_check({"format": "date"}, None, FormatChecker())("2024-02-30") is False
    assert fastcheck.compile_check({"format": "date"})("2024-02-30") is True


def test_messages_stay_jsonschemas() -> None:
    wrapped = Draft202012Validator({"type": "object", "required": ["a"], "properties": {"a": {"maximum": 3}}})
    fast = fastcheck.accelerate(wrapped)
    assert isinstance(fast, fastcheck.FastValidator)
    assert list(fast.iter_errors({"a": 1})) == []
    for instance in ({}, {"a": 4}):
        assert [e.message for e in fast.iter_errors(instance)] == [e.message for e in wrapped.iter_errors(instance)]
    assert [e.message for e in fast.iter_errors({})] == ["'a' is a required property"]
    with pytest.raises(ValidationError, match="4 is greater than the maximum of 3"):
        fast.validate({"a": 4})
    fast.validate({"a": 3})
    assert fast.evolve is not None and fast.format_checker is None  # the wrapped validator's attributes


def test_what_the_compiled_check_cannot_answer_goes_to_jsonschema() -> None:
    """Values that are not JSON (a YAML date, a key that is not a string, an int subclass) and the
    cases where jsonschema-rs refuses what jsonschema accepts (``$`` before a final newline, NaN as
    a number) all end with jsonschema's answer."""
    schema_ = {
        "type": "object",
        "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}, "n": {"type": "number"}},
    }
    wrapped = Draft202012Validator(schema_)
    fast = fastcheck.accelerate(wrapped)
    check = fastcheck.compile_check(schema_)

    class Count(int):
        pass

    for instance in (
        {"when": datetime.date(2024, 1, 1)},
        {1: "x"},
        {"n": Count(3)},
        {"name": "abc\n"},
        {"n": float("nan")},
        {"name": datetime.date(2024, 1, 1)},
    ):
        assert fast.is_valid(instance) == wrapped.is_valid(instance), instance
        assert [e.message for e in fast.iter_errors(instance)] == [e.message for e in wrapped.iter_errors(instance)]
    with pytest.raises(ValueError):
        check({1: "x"})
    assert not check({"name": "abc\n"}) and wrapped.is_valid({"name": "abc\n"})  # stricter: the safe side


def test_other_validators_and_schemas_keep_jsonschema() -> None:
    older = Draft7Validator({"type": "object", "required": ["a"]})
    assert fastcheck.accelerate(older) is older
    refused = Draft202012Validator({"$ref": "https://gen.schemas/nowhere.json"})  # resolvable by neither
    fast = fastcheck.accelerate(refused)
    assert isinstance(fast, fastcheck.FastValidator)
    with pytest.raises(Unresolvable, match="nowhere"):
        fast.is_valid({})  # jsonschema's own error: the compiled check was not used


def test_references_resolve_across_the_registry() -> None:
    defs = {"$id": "https://gen.schemas/t/_defs.json", "$defs": {"port": {"type": "integer", "maximum": 65535}}}
    root = {"$id": "https://gen.schemas/t/root.json", "properties": {"port": {"$ref": "_defs.json#/$defs/port"}}}
    registry: Registry[Any] = Registry().with_resources(
        (str(s["$id"]), Resource.from_contents(s, default_specification=DRAFT202012)) for s in (defs, root)
    )
    check = fastcheck.compile_check(root, registry)
    assert check({"port": 80}) and not check({"port": 65536}) and not check({"port": "80"})
    fast = fastcheck.accelerate(Draft202012Validator(root, registry=registry), registry)
    assert [e.message for e in fast.iter_errors({"port": 65536})] == ["65536 is greater than the maximum of 65535"]


@pytest.mark.parametrize(
    ("fmt", "values"),
    [
        ("gen-memory", ["1536m", "1g", "1000", 1 << 20, 1000, "17t", "2x", -1, True, None, 1.5, "0m"]),
        ("gen-cpu", [0.5, 2, "500m", "50m", 0.05, float("nan"), float("inf"), "two", True, None, "1"]),
        ("gen-duration", ["30 s", "5min", "1 h", "soon", 30, None, "", "10 ms"]),
        ("date", ["2026-12-07", "2024-02-30", "7 Dec 2026", datetime.date(2026, 12, 7), 20261207]),
        ("an-unknown-format", ["anything", 1]),
    ],
)
def test_gen_formats_decide_as_the_format_checker(fmt: str, values: list[Any]) -> None:
    """The compiled check of a layer decides gen's formats without jsonschema (schema.FORMATS):
    exactly as the FormatChecker jsonschema's validator of the layer uses."""
    checker = schema.format_checker()
    for value in values:
        assert schema.FORMATS.conforms(value, fmt) is checker.conforms(value, fmt), (fmt, value)
    assert schema.fast_validator("namespace").formats is schema.FORMATS
    assert schema.fast_validator("namespace").wrapped.format_checker is checker


def test_validation_keywords_are_jsonschemas() -> None:
    assert frozenset(Draft202012Validator.VALIDATORS) == kubernetes.VALIDATION_KEYWORDS


def test_keyed_lists_are_found_through_refs_as_referencing_resolves_them() -> None:
    """keyed_list_paths follows gen's own $refs without referencing: the same paths as a walk that
    resolves every $ref with it."""
    folder = schema.schema_folder("input")
    found: dict[tuple[str, ...], str] = {}

    def walk(node: Any, resolver: Any, path: tuple[str, ...], depth: int) -> None:
        while isinstance(node.get("$ref"), str):
            resolved = resolver.lookup(node["$ref"])
            node, resolver = resolved.contents, resolved.resolver
        if depth > 30:
            return
        if node.get("type") == "array" and "x-merge-key" in node:
            found[path] = str(node["x-merge-key"])
        for sub in node.get("allOf", []):
            walk(sub, resolver, path, depth + 1)
        for key, sub in node.get("properties", {}).items():
            walk(sub, resolver, (*path, key), depth + 1)

    root = schema.SCHEMA_BASE + "deployment.json"
    walk(folder.resources[root], folder.registry.resolver(root), (), 0)
    assert found and schema.keyed_list_paths() == found
