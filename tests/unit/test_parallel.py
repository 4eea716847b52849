"""Speed never changes a byte: a parallel render writes exactly the files of a sequential one, and
the fast YAML emitter writes exactly what PyYAML writes (the compiled schema checks are held to
jsonschema's answers in test_schema_agreement.py). Nothing here is timed (benchmarks/ times)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import estate
from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.output import dump_yaml, dump_yaml_pyyaml
from generator.render import parallel, plan
from tests.conftest import Result, edit, tree_digest

NAMESPACES, DEPLOYMENTS = 4, 24  # 3 environments x 24 deployments: above plan.PARALLEL_MIN_UNITS


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet") / "config"
    estate.write(root, NAMESPACES, DEPLOYMENTS)
    return root


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each parallel attempt rendered in parallel (True) or handed back to one process."""
    calls: list[bool] = []
    real = parallel.render

    def recording(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(parallel, "render", recording)
    return calls


def test_parallel_render_writes_the_same_bytes(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], spy: list[bool]
) -> None:
    assert DEPLOYMENTS * 3 >= plan.PARALLEL_MIN_UNITS
    one = cli("render", "-c", str(fleet), "-o", str(tmp_path / "one"), "--jobs", "1", "--no-cache")
    assert one.code == 0, one.stderr
    assert spy == []
    two = cli("render", "-c", str(fleet), "-o", str(tmp_path / "two"), "--jobs", "2", "--no-cache")
    assert two.code == 0, two.stderr
    assert spy == [True], "the parallel render fell back to one process"
    sequential, in_parallel = tree_digest(tmp_path / "one"), tree_digest(tmp_path / "two")
    assert len(sequential) > DEPLOYMENTS * 3
    assert in_parallel == sequential
    for selection in (["-e", "prod"], ["-p", "stateful-heavy"]):
        a = cli("render", "-c", str(fleet), "-o", str(tmp_path / "a"), "--jobs", "1", "--no-cache", *selection)
        b = cli("render", "-c", str(fleet), "-o", str(tmp_path / "b"), "--jobs", "3", "--no-cache", *selection)
        assert (a.code, b.code) == (0, 0), a.stderr + b.stderr
        assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    check = cli("render", "-c", str(fleet), "-o", str(tmp_path / "one"), "--jobs", "2", "--check")
    assert check.code == 0, check.stdout + check.stderr


def test_parallel_contexts_match(fleet: Path) -> None:
    def run(jobs: int) -> list[tuple[str, str, str, list[tuple[str, Any]]]]:
        repo = ConfigRepo(fleet)
        result = plan.render_run(repo, Resolver(repo), plan.Selection(), jobs=jobs)
        return [
            (c.env, c.namespace, c.target, [(e.deployment, e.data) for e in c.deployments]) for c in result.contexts
        ]

    assert run(2) == run(1)


def test_diff_renders_in_parallel_and_reports_what_one_process_reports(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], spy: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """gen diff renders with every CPU (without sending documents between processes: it reads only
    the effective configurations); its report is the one of a render in one process."""
    from generator.commands import diff as diff_command

    config = tmp_path / "config"
    shutil.copytree(fleet, config)
    out = tmp_path / "out"
    assert cli("render", "-c", str(config), "-o", str(out), "--jobs", "1").code == 0
    deployment = sorted(config.glob("deployments/*/*.yaml"))[0]
    edit(deployment, "--sink-topic out-", "--sink-topic changed-")
    reports = []
    for cpus in (1, 2):
        monkeypatch.setattr(diff_command, "_cpus", lambda cpus=cpus: cpus)
        spy.clear()
        result = cli("diff", "-c", str(config), "-o", str(out), "--no-color", "--no-cache")
        assert result.code == 1, result.stderr
        assert spy == ([True] if cpus > 1 else [])
        reports.append((result.stdout, result.stderr))
    assert reports[0] == reports[1]
    assert "set by " in reports[1][0]  # the lines behind the changes, from the effective configurations


def test_parallel_problems_are_those_of_one_process(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], spy: list[bool]
) -> None:
    import shutil

    config = tmp_path / "config"
    shutil.copytree(fleet, config)
    namespace = estate.namespace_names(NAMESPACES)[-1]
    broken = sorted((config / "deployments" / namespace).glob("*.yaml"))[-1]
    edit(broken, "spec:\n", "spec:\n  bogusKey: 1\n")
    one = cli("render", "-c", str(config), "-o", str(tmp_path / "one"), "--jobs", "1")
    two = cli("render", "-c", str(config), "-o", str(tmp_path / "two"), "--jobs", "2")
    assert one.code == two.code == 2
    assert "bogusKey" in one.stderr
    assert two.stderr == one.stderr
    assert spy == [False]
    assert not (tmp_path / "two").exists()


# -- the fast YAML emitter -------------------------------------------------------------------------
_WORDS = st.sampled_from(
    [
        "", " ", "a", "on", "Off", "yes", "null", "~", "true", "1.20", "0755", "1e3", "12:30", "2024-01-01",
        "-", "- a", "a: b", "a:b", "#x", "a #b", "x#y", "&a", "*a", "!t", "|", ">", "'q'", '"d"', "%", "@x",
        "`x", "[a]", "{a}", "a,b", "?", "? x", "a ", " a", "a\nb", "a\nb\n", "\na", "a\n\n", "a \nb", "tab\tx",
        "é", "日本", "\x07", "\u2028", "s3://bucket/path", "--flag value", "=", "<<", "...", "---", "a" * 130,
        "metadata", "kind", "apiVersion", "spec", "name", "namespace", ".inf", "0x1F", "+1", "-.5", "1_000",
    ]
)  # fmt: skip
_TEXT = st.one_of(_WORDS, st.text(max_size=12), st.from_regex(r"[A-Za-z_/][A-Za-z0-9_./=@+: -]{0,20}", fullmatch=True))
_SCALARS = st.one_of(_TEXT, st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none())
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_TEXT, _VALUES, min_size=0, max_size=6))
def test_fast_emitter_writes_what_pyyaml_writes(doc: dict[str, Any]) -> None:
    assert dump_yaml(doc) == dump_yaml_pyyaml(doc)


def test_fast_emitter_on_rendered_documents(fleet: Path) -> None:
    docs = _rendered(fleet)
    assert docs
    for doc in docs:
        assert dump_yaml(doc) == dump_yaml_pyyaml(doc)


def _rendered(config: Path) -> list[dict[str, Any]]:
    repo = ConfigRepo(config)
    resolver = Resolver(repo)
    run = plan.render_run(repo, resolver, plan.Selection(env="prod"))
    return [doc.content for ctx in run.contexts for docs in ctx.documents.values() for doc in docs]
