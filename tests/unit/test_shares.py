"""What the namespace renderers compute per deployment, kept with a unit's parts
(:mod:`generator.render.shares`): reused only for a deployment reused unchanged and while every
layer file it depends on is unchanged; and what that spares a render after one deployment changed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks import estate
from generator.config.layers import ConfigRepo
from generator.render import kubernetes, monitoring, shares
from generator.targets.vvp import resources
from tests.conftest import Result, edit, tree_digest


@pytest.fixture
def config(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    estate.write(root, 2, 4)
    return root


def _namespace_reads(repo: ConfigRepo, namespace: str) -> dict[tuple[str, str], str]:
    with repo.recording() as reads:
        repo.layer("namespace", namespace)
        repo.layer("environment", "prod")
    return reads


def test_a_share_is_kept_for_a_reused_deployment_while_what_it_read_is_unchanged(config: Path) -> None:
    namespace = estate.namespace_names(2)[0]
    calls: list[str] = []

    def compute(value: str, read_profile: bool = False) -> Callable[[], str]:
        def run() -> str:
            calls.append(value)
            if read_profile:
                repo.layer("profile", "small")
            return value

        return run

    repo = ConfigRepo(config)
    base = _namespace_reads(repo, namespace)
    with shares.keeping(repo, {}, frozenset(), base) as first:
        assert shares.share("a", "d1", compute("one", read_profile=True)) == "one"
        assert shares.share("a", "d2", compute("two")) == "two"
        assert shares.share("t", "", compute("namespace")) == "namespace"
    assert calls == ["one", "two", "namespace"]
    kept = first["d1"]["a"]
    assert dict(kept.reads) == {**base, ("profile", "/small"): repo.current_digest("profile", "/small")}
    assert dict(first["d2"]["a"].reads) == base

    # the next render: d1 reused, d2 rendered again (its file changed)
    calls.clear()
    repo = ConfigRepo(config)
    with repo.recording() as unit_reads, shares.keeping(repo, first, frozenset({"d1"}), base) as second:
        assert shares.share("a", "d1", compute("new one", read_profile=True)) == "one"  # kept
        assert shares.share("a", "d2", compute("new two")) == "new two"  # not a reused deployment
        assert shares.share("t", "", compute("new namespace")) == "namespace"  # the namespace's own: kept
        assert shares.share("b", "d1", compute("other")) == "other"  # nothing kept under this tag
    assert calls == ["new two", "other"]
    assert second["d1"]["a"] is kept
    assert ("profile", "/small") in unit_reads  # a kept share's reads are the unit's, as if it had computed

    # a layer file a share read changed: computed again, whether it read it itself or through the namespace
    edit(config / "profiles" / "small.yaml", "\n", "\n# an edit\n")
    calls.clear()
    repo = ConfigRepo(config)
    with shares.keeping(repo, second, frozenset({"d1", "d2"}), _namespace_reads(repo, namespace)):
        assert shares.share("a", "d1", compute("edited", read_profile=True)) == "edited"
        assert shares.share("a", "d2", compute("kept?")) == "new two"
    edit(config / "environments" / "prod.yaml", "\n", "\n# an edit\n")
    repo = ConfigRepo(config)
    with shares.keeping(repo, second, frozenset({"d1", "d2"}), _namespace_reads(repo, namespace)):
        assert shares.share("a", "d2", compute("after the environment")) == "after the environment"
        assert shares.share("t", "", compute("namespace again")) == "namespace again"
    assert calls == ["edited", "after the environment", "namespace again"]


def test_outside_a_unit_every_share_is_computed(config: Path) -> None:
    calls: list[int] = []
    for _ in range(2):
        assert shares.share("a", "d1", lambda: calls.append(1) or "x") == "x"
    assert calls == [1, 1]


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the namespace renderers computed (not reused) in this process, by kind."""
    seen: list[str] = []

    def spy(module: Any, name: str) -> None:
        real = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            seen.append(name)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    spy(kubernetes, "deployment_policies")
    spy(kubernetes, "_deployment_network")
    spy(monitoring, "_alert_group")
    spy(resources, "deployment_defaults")
    return seen


def test_after_one_deployment_changed_its_namespace_computes_that_deployment_alone(
    config: Path, tmp_path: Path, cli: Callable[..., Result], computed: list[str]
) -> None:
    out, cold = tmp_path / "out", tmp_path / "cold"
    assert cli("render", "-c", str(config), "-o", str(out), "-j", "1").code == 0
    envs, deployments_per_namespace = 3, 2
    profiles = len(list((config / "profiles").glob("*.yaml")))
    per_unit = {"deployment_policies", "_deployment_network", "_alert_group"}
    assert sorted(c for c in computed if c in per_unit) == sorted(
        [*per_unit] * envs * 2 * deployments_per_namespace
    )  # the first render computes everything

    namespace = estate.namespace_names(2)[0]
    deployment = sorted((config / "deployments" / namespace).glob("*.yaml"))[0]
    edit(deployment, "--sink-topic out-", "--sink-topic changed-")
    computed.clear()
    assert cli("render", "-c", str(config), "-o", str(out), "-j", "1").code == 0
    # one deployment of one namespace, in each environment; the namespace's deployment defaults are kept
    assert sorted(computed) == sorted([*per_unit] * envs)
    assert cli("render", "-c", str(config), "-o", str(cold), "-j", "1", "--no-cache").code == 0
    assert tree_digest(out) == tree_digest(cold)

    # the namespace's own file: every share of the namespace is computed again, in each environment
    edit(config / "namespaces" / f"{namespace}.yaml", "ports: [9093]", "ports: [9094]")
    computed.clear()
    assert cli("render", "-c", str(config), "-o", str(out), "-j", "1").code == 0
    assert sorted(c for c in computed if c in per_unit) == sorted([*per_unit] * envs * deployments_per_namespace)
    # the deployment defaults: the namespace's own one and one per profile, in each environment
    assert computed.count("deployment_defaults") == envs * (1 + profiles)
    shutil.rmtree(cold)
    assert cli("render", "-c", str(config), "-o", str(cold), "-j", "1", "--no-cache").code == 0
    assert tree_digest(out) == tree_digest(cold)
