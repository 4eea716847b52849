"""Property-based tests (hypothesis).

1. Whatever the input schemas and the effective validation accept renders, and every rendered
   document still validates after it went through the YAML writer and back.
2. Any mutation of the example configuration (text or structure, any layer file, any command)
   ends in exit 0, 1 or 2 with clear messages: never another exit code, never a traceback, and a
   refused render leaves the output folder as it was.
3. The YAML reader and the template sandbox never fail in another way than a located problem.

Deterministic (derandomized, no example database); ``GEN_HYPOTHESIS_EXAMPLES`` sets the number
of examples per property (300 by default; e.g. 5000 for a long run).

The strategies are built from our own input schemas (``schemas/input``) by
:class:`FromSchema`, which knows the keywords those schemas use.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from generator.config import schema
from generator.config.layers import ConfigRepo, example_config_dir
from generator.config.resolve import Resolver
from generator.config.sandbox import MAX_CHARS, ConfigSandbox
from generator.config.yamlload import INVISIBLE, YamlProblems, bad_character, parse_text
from generator.data import copy_example, example_files
from generator.errors import GenError, InputError
from generator.render.plan import Selection, render
from generator.validate import outputs
from tests.conftest import edit, run_cli, tree_digest

EXAMPLES = int(os.environ.get("GEN_HYPOTHESIS_EXAMPLES", "300"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CHEAP = settings(PROPERTY, max_examples=EXAMPLES * 5)
LOCATED = re.compile(r"^.+?:\d+:\d+: .+$")
LOCATED_AT = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<key>\S+): .+$")


# -- strategies from our JSON Schemas ------------------------------------------------------------
def _memory() -> SearchStrategy[Any]:
    units = st.sampled_from(["m", "g", "mb", "gb", "MiB", "GiB", " g"])
    return st.one_of(
        st.builds(lambda n, u: f"{n}{u}", st.integers(1, 65536), units),
        st.builds(lambda n: f"{n / 2}g", st.integers(1, 256)),
        st.builds(lambda n: f"{n}t", st.integers(1, 16)),
        st.integers(1, 1 << 24).map(lambda n: n << 20),  # bytes
    )


def _cpu() -> SearchStrategy[Any]:
    return st.one_of(
        st.integers(1, 128),
        st.floats(0.1, 128, allow_nan=False, allow_infinity=False),
        st.builds(lambda n: f"{n}m", st.integers(100, 128_000)),
    )


def _duration() -> SearchStrategy[Any]:
    unit = st.sampled_from(["ms", "s", "min", "h", "d", " s", "minutes", ""])
    return st.builds(lambda n, u: f"{n}{u}", st.integers(0, 1_000_000), unit)


FORMATS: dict[str, Callable[[], SearchStrategy[Any]]] = {
    "gen-memory": _memory,
    "gen-cpu": _cpu,
    "gen-duration": _duration,
    "date": lambda: st.dates(datetime.date(2000, 1, 1), datetime.date(2100, 1, 1)).map(datetime.date.isoformat),
}
# what a layer value may hold: the YAML reader refuses control characters but tab and newline
CHARACTERS = st.characters(
    codec="utf-8",
    exclude_categories=["Cs", "Cc", "Zl", "Zp"],
    exclude_characters="".join(INVISIBLE),  # refused by design, at their own line (test_where_values_come_from.py)
    include_characters="\t\n",
)
TEXT = st.text(CHARACTERS, max_size=24)


class FromSchema:
    """A hypothesis strategy for the instances of a JSON Schema (the keywords our schemas use);
    the instances are valid except for cross-keyword rules (if/then, not, oneOf exclusivity),
    which the caller checks with the real validator."""

    def __init__(self, max_depth: int = 8) -> None:
        self.max_depth = max_depth

    def of(self, kind: str) -> SearchStrategy[Any]:
        resolver = schema.SCHEMA_BASE + kind + ".json"  # the base URI gen's _follow takes
        return self.build(schema.validator(kind).schema, resolver, 0)

    def build(self, node: Any, resolver: Any, depth: int) -> SearchStrategy[Any]:
        node, resolver = schema._follow(node, resolver)
        node = dict(node)
        for sub in node.pop("allOf", []):
            sub, _ = schema._follow(sub, resolver)
            node = _combine(node, dict(sub))
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        for key in ("anyOf", "oneOf"):
            if key in node:
                rest = {k: v for k, v in node.items() if k != key}
                return st.one_of([self.build(_combine(rest, dict(b)), resolver, depth) for b in node[key]])
        types = node.get("type")
        if isinstance(types, list):
            return st.one_of([self.build({**node, "type": t}, resolver, depth) for t in types])
        if types is None:
            types = "object" if "properties" in node else "string"
        build: Callable[[dict[str, Any], Any, int], SearchStrategy[Any]] = getattr(self, "_" + str(types))
        return build(node, resolver, depth)

    def _string(self, node: dict[str, Any], resolver: Any, depth: int) -> SearchStrategy[Any]:
        lo, hi = int(node.get("minLength", 0)), int(node.get("maxLength", 64))
        if node.get("format") in FORMATS:
            return FORMATS[node["format"]]()
        if "pattern" in node:
            pattern = node["pattern"]
            return st.from_regex(pattern, fullmatch=True).filter(
                lambda s: lo <= len(s) <= hi and not bad_character(s) and not any(c in INVISIBLE for c in s)
            )
        return TEXT.filter(lambda s: lo <= len(s) <= hi and "{{" not in s and "{%" not in s)

    def _integer(self, node: dict[str, Any], resolver: Any, depth: int) -> SearchStrategy[Any]:
        if node.get("format") in FORMATS:
            return FORMATS[node["format"]]()
        lo = node.get("minimum", node.get("exclusiveMinimum", -(1 << 31) - 1) + 1)
        hi = node.get("maximum", node.get("exclusiveMaximum", (1 << 31) + 1) - 1)
        return st.integers(int(lo), int(hi))

    def _number(self, node: dict[str, Any], resolver: Any, depth: int) -> SearchStrategy[Any]:
        if node.get("format") in FORMATS:
            return FORMATS[node["format"]]()
        lo = node.get("minimum", node.get("exclusiveMinimum", -1e6))
        hi = node.get("maximum", node.get("exclusiveMaximum", 1e6))
        floats = st.floats(
            lo,
            hi,
            allow_nan=False,
            allow_infinity=False,
            exclude_min="exclusiveMinimum" in node,
            exclude_max="exclusiveMaximum" in node,
        )
        if hi - lo > 2:
            return st.one_of(st.integers(math.floor(lo) + 1, math.ceil(hi) - 1), floats)
        return floats

    def _boolean(self, node: dict[str, Any], resolver: Any, depth: int) -> SearchStrategy[Any]:
        return st.booleans()

    def _null(self, node: dict[str, Any], resolver: Any, depth: int) -> SearchStrategy[Any]:
        return st.none()

    def _array(self, node: dict[str, Any], resolver: Any, depth: int) -> SearchStrategy[Any]:
        lo = int(node.get("minItems", 0))
        hi = max(lo, min(int(node.get("maxItems", 3)), 3 if depth < self.max_depth else lo))
        items = self.build(node.get("items", {"type": "string"}), resolver, depth + 1)
        unique = node.get("uniqueItems") or "x-merge-key" in node
        key = node.get("x-merge-key")
        by: Callable[[Any], Any] = (
            (lambda v: json.dumps(v.get(key) if isinstance(v, dict) else v))
            if key
            else (lambda v: json.dumps(v, sort_keys=True))
        )
        return st.lists(items, min_size=lo, max_size=hi, unique_by=by if unique else None)

    def _object(self, node: dict[str, Any], resolver: Any, depth: int) -> SearchStrategy[Any]:
        properties: dict[str, Any] = node.get("properties", {})
        required = [k for k in node.get("required", []) if k in properties]
        optional = sorted(k for k in properties if k not in required)
        budget = 0 if depth >= self.max_depth else max(1, 6 - depth)
        extra: SearchStrategy[dict[str, Any]] = st.just({})
        additional = node.get("additionalProperties", True)
        if isinstance(additional, dict) and depth < self.max_depth:
            names = node.get("propertyNames", {})
            key = self._string(dict(schema._follow(names, resolver)[0]), resolver, depth)
            extra = st.dictionaries(
                key.filter(lambda k: isinstance(k, str) and k not in properties),
                self.build(additional, resolver, depth + 1),
                max_size=2,
            )
        fixed = {k: self.build(properties[k], resolver, depth + 1) for k in required}

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            chosen = draw(st.lists(st.sampled_from(optional), unique=True, max_size=budget)) if optional else []
            value = {k: draw(s) for k, s in fixed.items()}
            value.update({k: draw(self.build(properties[k], resolver, depth + 1)) for k in chosen})
            for k, v in draw(extra).items():
                value.setdefault(k, v)
            min_props = int(node.get("minProperties", 0))
            if len(value) < min_props:
                reject()
            return value

        return build()


def _combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = {**a, **{k: v for k, v in b.items() if k not in ("properties", "required")}}
    merged["properties"] = {**a.get("properties", {}), **b.get("properties", {})}
    merged["required"] = sorted({*a.get("required", []), *b.get("required", [])})
    if not merged["properties"]:
        del merged["properties"]
    return merged


# -- 1. what the schemas accept renders ------------------------------------------------------------
NAMESPACE, NAME, ENV = "analytics", "generated", "prod"


@pytest.fixture(scope="module")
def one_deployment_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with its deployments replaced by one generated deployment file."""
    config = tmp_path_factory.mktemp("properties") / "config"
    copy_example(config)
    for file in (config / "deployments" / NAMESPACE).glob("*.yaml"):
        file.unlink()
    return config


def deployment_layers() -> SearchStrategy[dict[str, Any]]:
    generated = FromSchema(max_depth=7)
    layer = st.fixed_dictionaries(
        {"profile": st.sampled_from(["small", "stateful-heavy", "high-throughput"])},
        optional={
            "metadata": generated.build({"$ref": "_defs.json#/$defs/metadata"}, _resolver("deployment"), 1),
            "spec": generated.build({"$ref": "_defs.json#/$defs/spec"}, _resolver("deployment"), 1),
            "platform": generated.build({"$ref": "_defs.json#/$defs/platform"}, _resolver("deployment"), 1),
        },
    )
    return layer.map(_with_the_artifact).filter(lambda doc: schema.is_valid("deployment", doc))


def _with_the_artifact(layer: dict[str, Any]) -> dict[str, Any]:
    """A deployment names its artifact (the one thing no lower layer can give it)."""
    spec = layer.setdefault("spec", {})
    template = spec.setdefault("template", {}) if isinstance(spec, dict) else {}
    inner = template.setdefault("spec", {}) if isinstance(template, dict) else {}
    artifact = inner.setdefault("artifact", {}) if isinstance(inner, dict) else {}
    if isinstance(artifact, dict):
        kind = artifact.get("kind", "JAR")
        if kind == "JAR":
            artifact.setdefault("jarUri", "s3://acme-artifacts/generated/generated-1.0.jar")
        elif kind == "SQLSCRIPT":
            artifact.setdefault("sqlScript", "INSERT INTO sink SELECT * FROM source;")
    return layer


def _resolver(kind: str) -> Any:
    return schema.SCHEMA_BASE + kind + ".json"  # the base URI gen's _follow takes


_ROUND_TRIPPED: set[str] = set()
# Text that YAML 1.1 and YAML 1.2 would read differently unquoted (08, 0o17, 1:30): gen refuses it
# unquoted, so the layers this test writes quote it, as a user must.
_AMBIGUOUS = re.compile(r"[-+]?(0[0-9_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*(:[0-5]?[0-9])+)")


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if _AMBIGUOUS.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _documents(text: str) -> Iterator[Any]:
    yield from yaml.load_all(text, Loader=yaml.CSafeLoader)


@PROPERTY
@given(layer=deployment_layers())
def test_whatever_the_schemas_accept_renders_and_validates(layer: dict[str, Any], one_deployment_config: Path) -> None:
    text = yaml.dump(layer, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    assert parse_text(text, "generated.yaml").data == layer  # what we write is what gen reads
    (one_deployment_config / "deployments" / NAMESPACE / f"{NAME}.yaml").write_text(text, "utf-8")
    repo = ConfigRepo(one_deployment_config)
    resolver = Resolver(repo)
    try:
        resolver.deployment(ENV, NAMESPACE, NAME)
    except InputError as exc:  # the effective validation says no, with located problems: a rejection
        assert all(LOCATED.match(str(p)) for p in exc.problems)
        reject()
    try:
        files = render(repo, resolver, Selection(env=ENV))
    except InputError as exc:  # a renderer's cross-object rule, located in the generated file: a rejection
        assert all(p.file.endswith(f"{NAME}.yaml") and p.line > 0 for p in exc.problems), exc.lines()
        reject()
    assert any(NAME in f.path for f in files)
    for f in files:
        if f.sha256 in _ROUND_TRIPPED:  # the same bytes were checked in an earlier example
            continue
        _ROUND_TRIPPED.add(f.sha256)
        for doc in _documents(f.content):
            assert doc is not None, f.path
            if isinstance(doc, dict) and "kind" in doc and not str(doc.get("apiVersion")).startswith("kustomize."):
                assert outputs.problems(doc) == [], f"{f.path} does not validate after a YAML round trip"


# Input the output schemas (or Kubernetes) refuse is refused by the input schemas, at its line: never
# as an unlocated "rendered ... failed validation" at the end. Each case failed that way once.
FRAUD_SCORING = f"deployments/{NAMESPACE}/fraud-scoring.yaml"
REFUSED_WHERE_WRITTEN: list[tuple[str, str, str, str, str]] = [
    # id, file, old, new, key of the problem
    (
        "annotation-key",
        FRAUD_SCORING,
        "metadata:\n",
        "metadata:\n  annotations:\n    'a b': x\n",
        "metadata.annotations",
    ),
    (
        "pod-annotation-key",
        FRAUD_SCORING,
        "      parallelism: 4\n",
        "      parallelism: 4\n      kubernetes:\n        pods:\n          annotations:\n            /x: y\n",
        "spec.template.spec.kubernetes.pods.annotations",
    ),
    (
        "service-account-annotation-key",
        f"namespaces/{NAMESPACE}.yaml",
        "  kubernetes:\n",
        "  kubernetes:\n    serviceAccounts:\n      annotations:\n        'iam role': x\n",
        "platform.kubernetes.serviceAccounts.annotations",
    ),
    (
        "node-selector-key",
        FRAUD_SCORING,
        "      parallelism: 4\n",
        "      parallelism: 4\n      kubernetes:\n        pods:\n          nodeSelector:\n            'pool name': x\n",
        "spec.template.spec.kubernetes.pods.nodeSelector",
    ),
    (
        "node-selector-value",
        FRAUD_SCORING,
        "      parallelism: 4\n",
        "      parallelism: 4\n      kubernetes:\n        pods:\n          nodeSelector:\n            pool: 'a b'\n",
        "spec.template.spec.kubernetes.pods.nodeSelector.pool",
    ),
    (
        "empty-logging-profile",
        FRAUD_SCORING,
        "      parallelism: 4\n",
        "      parallelism: 4\n      logging:\n        loggingProfile: ''\n",
        "spec.template.spec.logging.loggingProfile",
    ),
    (
        "image-pull-secret-name",
        FRAUD_SCORING,
        "      parallelism: 4\n",
        "      parallelism: 4\n      kubernetes:\n        pods:\n          imagePullSecrets: [{name: Registry_Key}]\n",
        "spec.template.spec.kubernetes.pods.imagePullSecrets[0].name",
    ),
    (
        "secret-key-ref-name",
        FRAUD_SCORING,
        "      parallelism: 4\n",
        "      parallelism: 4\n      kubernetes:\n        pods:\n          envVars:\n"
        "            - {name: A, valueFrom: {secretKeyRef: {name: '', key: k}}}\n",
        "spec.template.spec.kubernetes.pods.envVars[0].valueFrom.secretKeyRef.name",
    ),
    (
        "empty-value-from",
        FRAUD_SCORING,
        "      parallelism: 4\n",
        "      parallelism: 4\n      kubernetes:\n        pods:\n          envVars:\n"
        "            - {name: A, valueFrom: {}}\n",
        "spec.template.spec.kubernetes.pods.envVars[0].valueFrom",
    ),
]


@pytest.mark.parametrize("case", REFUSED_WHERE_WRITTEN, ids=[c[0] for c in REFUSED_WHERE_WRITTEN])
def test_input_the_outputs_refuse_is_refused_where_it_is_written(case: tuple[str, ...], config: Path) -> None:
    _id, file, old, new, key = case
    edit(config / file, old, new)
    line = (config / file).read_text().splitlines().index(new.splitlines()[-1].rstrip("\n")) + 1
    for target in ("vvp", "vvp-operator", "flink-operator"):
        result = run_cli(
            "render", "-e", ENV, "-t", target, "-c", str(config), "--check", "-o", str(config.parent / "out")
        )
        assert result.code == 2, result.stderr
        assert "failed validation" not in result.stderr, result.stderr
        located = [m for m in map(LOCATED_AT.match, result.stderr.splitlines()) if m and m["key"] == key]
        assert located and located[0]["file"].endswith(file), result.stderr
        # a problem with a map's key is reported at the map; any other at its value's line
        assert int(located[0]["line"]) in (line, line - 1), result.stderr


# -- 2. mutations of the example end cleanly -------------------------------------------------------
LAYER_FILES = [str(p) for p in example_files()]
# fmt: off
TOKENS = [
    "{", "}", "[", "]", ": ", "- ", "\t", "&a ", "*a", "<<: *a", "!!python/object:os.system ", "!!int ", "!!binary ",
    "{{ ", " }}", "{{ env }}", "{% for x in y %}", "{{ ''.__class__ }}", "'", '"', "\n", "---\n", "...\n", "\x00",
    "\ufeff", "\x07", "\x85", "null", "~", "1.0e+400", ".nan", "-.inf", "0x", "-1", "yes", "on", "0755", "1.20",
    "9" * 30, "é", "%", "@", "`", "# ", "|\n", ">-\n", "? ", "\\", "\u2028", "\U0001f600", "  ", ":", ",",
]
# fmt: on
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(1 << 70), 1 << 70),
    st.floats(),
    TEXT,
    st.sampled_from([t.strip() for t in TOKENS] + ["s3://", "{{ platform.nope }}", "4 gigs", "60 s", "-2g", "0"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(TEXT, st.integers(), max_size=2),
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


def _mutate_structure(data: st.DataObject, text: str) -> str:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    paths = [p for p in _paths(doc) if p]
    if not isinstance(doc, dict) or not paths:
        return text
    path = data.draw(st.sampled_from(paths), label="path")
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    how = data.draw(st.sampled_from(["set", "delete", "rename", "null"]), label="how")
    last = path[-1]
    if how == "set":
        parent[last] = data.draw(ODD_VALUES, label="value")
    elif how == "null":
        parent[last] = None
    elif isinstance(parent, dict):
        value = parent.pop(last)
        if how == "rename":
            new = data.draw(st.sampled_from([str(last).upper(), str(last)[:-1], str(last) + "s", str(last).title()]))
            parent[new] = value
    else:
        del parent[last]
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


def _mutate_text(data: st.DataObject, raw: bytes) -> bytes:
    how = data.draw(st.sampled_from(["truncate", "insert", "delete-line", "duplicate-line", "indent", "bytes"]))
    position = data.draw(st.integers(0, len(raw)), label="position")
    lines = raw.split(b"\n")
    line = data.draw(st.integers(0, max(len(lines) - 1, 0)), label="line")
    if how == "truncate":
        return raw[:position]
    if how == "insert":
        return raw[:position] + data.draw(st.sampled_from(TOKENS)).encode() + raw[position:]
    if how == "delete-line":
        return b"\n".join(lines[:line] + lines[line + 1 :])
    if how == "duplicate-line":
        return b"\n".join(lines[: line + 1] + lines[line:])
    if how == "indent":
        shift = data.draw(st.integers(-3, 3))
        lines[line] = lines[line][-shift:] if shift < 0 else b" " * shift + lines[line]
        return b"\n".join(lines)
    return raw[:position] + data.draw(st.binary(min_size=1, max_size=4)) + raw[position:]


COMMANDS = [
    ["validate"],
    ["render", "--check", "-e", "prod"],
    ["render", "-e", "dev"],
    ["explain", "spec.template.spec.resources", "-e", "prod", "-d", "fraud-scoring"],
    ["list"],
    ["check", "-e", "prod"],
    ["memory", "-e", "staging", "-d", "events-ingest"],
]


@pytest.fixture(scope="module")
def mutable_config(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("mutations")
    config, pristine_out, out = root / "config", root / "pristine-out", root / "out"
    copy_example(config)
    assert run_cli("render", "-e", "dev", "-c", str(config), "-o", str(pristine_out)).code == 0
    return config, pristine_out, out


@PROPERTY
@given(data=st.data())
def test_any_mutation_of_the_example_ends_cleanly(data: st.DataObject, mutable_config: tuple[Path, Path, Path]) -> None:
    config, pristine_out, out = mutable_config
    file = data.draw(st.sampled_from(LAYER_FILES), label="file")
    pristine = (example_config_dir() / file).read_bytes()
    if data.draw(st.booleans(), label="structural"):
        mutated = _mutate_structure(data, pristine.decode("utf-8")).encode("utf-8")
    else:
        mutated = _mutate_text(data, pristine)
    command = data.draw(st.sampled_from(COMMANDS), label="command")
    (config / file).write_bytes(mutated)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(pristine_out, out)
    before = tree_digest(out)
    try:
        result = run_cli(*command, "-c", str(config), *(["-o", str(out)] if command[0] == "render" else []))
    finally:
        (config / file).write_bytes(pristine)
    shown = f"{command} on {file}:\n{result.stderr}"
    assert result.code in (0, 1, 2), shown
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, shown
    if result.code == 2:
        lines = result.stderr.splitlines()
        assert lines and lines[-1].startswith("error: "), shown
        assert all(LOCATED.match(line) for line in lines[:-1]), shown
        assert tree_digest(out) == before, shown


NAMES = st.one_of(
    st.sampled_from(["prod", "dev", "small", "analytics", "fraud-scoring", "stateful-heavy", "vvp", "flink-operator"]),
    st.sampled_from(["", "../prod", "/etc", "PROD", "prod\n", "prod ", "*", "..", "."]),
    TEXT,
)
SET_KEYS = st.one_of(
    st.sampled_from(
        [
            "spec.template.spec.parallelism",
            "spec.template.spec.flinkConfiguration.taskmanager.numberOfTaskSlots",
            "spec.template.spec.flinkConfiguration.",
            "spec.template.spec.resources.taskmanager.memory",
            "metadata.labels.x",
            "platform.target",
            "spec",
            "spec..x",
            ".",
            "",
        ]
    ),
    TEXT,
)
SET_VALUES = st.one_of(st.sampled_from(TOKENS), TEXT, st.integers().map(str))


@PROPERTY
@given(data=st.data())
def test_any_command_line_ends_cleanly(data: st.DataObject, mutable_config: tuple[Path, Path, Path]) -> None:
    config, _, out = mutable_config
    command = data.draw(
        st.sampled_from(
            [
                ["render", "--check", "-o", str(out)],
                ["explain", data.draw(st.one_of(SET_KEYS, st.just("spec.template.spec.parallelism")))],
                ["memory"],
                ["list"],
            ]
        ),
        label="command",
    )
    options = []
    for flag in ("-e", "-p", "-n", "-d", "-t"):
        if data.draw(st.booleans(), label=flag) and not (
            command[0] == "list" or (flag == "-t" and command[0] != "render")
        ):
            options += [flag, data.draw(NAMES, label=flag)]
    if command[0] != "list":
        for _ in range(data.draw(st.integers(0, 2), label="sets")):
            options += ["--set", f"{data.draw(SET_KEYS)}={data.draw(SET_VALUES)}"]
    result = run_cli(*command, *options, "-c", str(config))
    shown = f"{command + options}:\n{result.stderr}"
    assert result.code in (0, 1, 2), shown
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, shown
    if result.code == 2 and "Usage:" not in result.stderr:  # click reports bad options itself
        lines = result.stderr.splitlines()
        assert lines and lines[-1].startswith("error: "), shown
        assert all(LOCATED.match(line) for line in lines[:-1]), shown


# -- 3. the YAML reader and the sandbox fail only with located problems ---------------------------
YAMLISH = st.lists(st.sampled_from([*TOKENS, "a", "b", "spec", "1", "x: 1", "  ", "\n  "]), max_size=40).map("".join)


@CHEAP
@given(text=st.one_of(YAMLISH, st.text(max_size=200)))
def test_the_yaml_reader_returns_data_or_located_problems(text: str) -> None:
    try:
        doc = parse_text(text, "f.yaml")
    except YamlProblems as exc:
        assert exc.problems
        for problem in exc.problems:
            shown = str(problem)
            assert "\n" not in shown and shown.startswith("f.yaml:"), shown
        return
    json.dumps(doc.data)  # plain data: no dates, bytes, sets or Python objects


LEAVES = st.sampled_from(
    ["env", "namespace", "platform", "1", "2", "'x'", "[1, 2]", "range(100000)", "9", "''", "none", "platform.target"]
)


def _expressions(depth: int) -> SearchStrategy[str]:
    """Jinja2 expressions of operators, filters, attributes and items, ``depth`` levels deep."""
    if depth == 0:
        return LEAVES
    inner = _expressions(depth - 1)
    operators = st.sampled_from(["*", "**", "~", "+", "%", "//"])
    filters = st.sampled_from(["join", "join('-' * 1000)", "list", "upper", "replace('', 'xyz')", "string", "length"])
    attributes = st.sampled_from(["__class__", "format", "items", "keys"])
    return st.one_of(
        inner,
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, operators, inner),
        st.builds(lambda a, f: f"({a})|{f}", inner, filters),
        st.builds(lambda a, attr: f"{a}.{attr}", inner, attributes),
        st.builds(lambda a: f"{a}[0]", inner),
    )


EXPRESSIONS = _expressions(3)
_SANDBOX = ConfigSandbox()


@CHEAP
@given(expression=EXPRESSIONS)
def test_a_template_renders_a_bounded_value_or_fails_as_a_template(expression: str) -> None:
    import jinja2

    try:
        text = _SANDBOX.render_bounded(
            _SANDBOX.compile_checked("{{ " + expression + " }}"),
            {"env": "prod", "namespace": "analytics", "platform": {"target": "vvp"}},
        )
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError):
        return  # resolve.py turns each of these into a located problem
    assert len(text) <= MAX_CHARS


def test_the_schema_strategies_produce_valid_layers() -> None:
    """The strategies are of our schemas: a sample of what they give is valid (or filtered)."""
    found = []

    @settings(PROPERTY, max_examples=30)
    @given(layer=deployment_layers())
    def collect(layer: dict[str, Any]) -> None:
        found.append(layer)

    collect()
    assert found and all(schema.is_valid("deployment", layer) for layer in found)
    assert any("spec" in layer for layer in found) and any("platform" in layer for layer in found)


__all__ = ["FromSchema", "GenError"]
