"""Kubernetes versions with the same schema for a kind share one check (validate/kubernetes.py
``schema_groups``). Sharing must change nothing: an object gets exactly the problems it gets when
every claimed version checks it on its own, a field only newer versions know is still refused for
the older ones, and every distinct schema is still asked."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.validate import kubernetes as k8s
from tests.kubernetes_support import ENVS, objects, render_docs

VERSIONS = k8s.KUBERNETES_VERSIONS

SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "svc", "namespace": "flink"},
    "spec": {"selector": {"app": "x"}, "ports": [{"port": 8081}], "trafficDistribution": "PreferClose"},
}
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "pod", "namespace": "flink"},
    "spec": {"containers": [{"name": "c", "image": "i"}], "resources": {"limits": {"cpu": "1"}}},
}


def _rendered() -> list[dict[str, Any]]:
    """Every built-in object the example renders, for every target and environment."""
    docs: dict[str, dict[str, Any]] = {}
    for target in ("vvp", "vvp-operator", "flink-operator"):
        for env in ENVS:
            for doc in objects(render_docs(env, target=target)):
                if k8s.is_builtin(doc):
                    docs.setdefault(f"{doc['kind']}/{doc['metadata']['name']}/{env}", doc)
    return list(docs.values())


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _places(sub, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _places(sub, (*path, index))


def _mutations(doc: dict[str, Any], rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    """Wrong documents near ``doc``: an unknown key, a value of the wrong type, a key removed."""
    places = list(_places(doc))
    for _ in range(count):
        path = rng.choice(places)
        mutated = copy.deepcopy(doc)
        node: Any = mutated
        for part in path[:-1]:
            node = node[part]
        target = node[path[-1]] if path else mutated
        how = rng.choice(("unknown", "type", "remove"))
        if how == "unknown" and isinstance(target, dict):
            target["notAField"] = 1
        elif how == "remove" and path and isinstance(node, dict):
            del node[path[-1]]
        elif path:
            node[path[-1]] = [target] if not isinstance(target, list) else {"x": target}
        yield mutated


@pytest.fixture
def per_version(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``k8s.problems`` as it was before sharing: every version checks on its own."""

    def problems(doc: dict[str, Any]) -> list[str]:
        with monkeypatch.context() as patch:
            patch.setattr(k8s, "schema_groups", lambda api, kind: tuple((version,) for version in VERSIONS))
            return k8s.problems(doc)

    return problems


def test_sharing_gives_every_object_the_problems_each_version_finds(per_version: Any) -> None:
    rng = random.Random(8)
    docs = _rendered()
    assert {d["kind"] for d in docs} >= {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "ResourceQuota"}
    checked = wrong = 0
    for doc in [*docs, SERVICE, POD]:
        for candidate in [doc, *_mutations(doc, rng, 6)]:
            found = k8s.problems(candidate)
            assert found == per_version(candidate), candidate
            checked += 1
            wrong += bool(found)
    assert wrong >= checked // 2  # the mutations are mostly wrong: the comparison saw real problems


@pytest.mark.parametrize(
    ("doc", "field", "older"),
    [(SERVICE, "trafficDistribution", ("1.29",)), (POD, "resources", ("1.29", "1.30", "1.31"))],
)
def test_a_field_only_newer_versions_know_is_refused_for_the_older_ones(
    doc: dict[str, Any], field: str, older: tuple[str, ...]
) -> None:
    groups = k8s.schema_groups(doc["apiVersion"], doc["kind"])
    assert len(groups) >= 2
    assert all(set(group) <= set(older) or not set(group) & set(older) for group in groups)  # no mixed group
    found = k8s.problems(doc)
    assert found == [
        f"spec: Additional properties are not allowed ('{field}' was unexpected) (Kubernetes {', '.join(older)})"
    ]


def test_every_distinct_schema_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    real = k8s.validator

    def spy(version: str, api: str, kind: str) -> Any:
        asked.append(version)
        return real(version, api, kind)

    monkeypatch.setattr(k8s, "validator", spy)
    for doc in (SERVICE, POD, *_rendered()[:5]):
        asked.clear()
        k8s.problems(doc)
        groups = k8s.schema_groups(doc["apiVersion"], doc["kind"])
        assert sorted(version for group in groups for version in group) == sorted(VERSIONS)
        assert asked == [group[0] for group in groups]  # one question per distinct schema, none twice


def test_an_unknown_kind_is_refused_for_every_version() -> None:
    found = k8s.problems({"apiVersion": "v1", "kind": "Frobnicator", "metadata": {"name": "x", "namespace": "f"}})
    assert found == ["kind: no Kubernetes schema for v1 Frobnicator"]


def test_the_groups_worked_out_ahead_are_what_comparing_finds() -> None:
    for (api, kind), (digest, groups) in k8s._KNOWN_GROUPS.items():
        assert k8s.schema_files_digest(api, kind) == digest, (
            f"kubernetes-validate's schemas for {api} {kind} changed: compare_schemas gives "
            f"{k8s.compare_schemas(api, kind)} for digest {k8s.schema_files_digest(api, kind)}"
        )
        assert k8s.compare_schemas(api, kind) == groups, (api, kind)


def test_groups_worked_out_for_other_files_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = {("v1", "Service"): ("0" * 64, (VERSIONS,))}  # as if worked out for other schema files
    monkeypatch.setattr(k8s, "_KNOWN_GROUPS", wrong)
    groups = k8s.schema_groups.__wrapped__("v1", "Service")
    assert groups == k8s.compare_schemas("v1", "Service")
    assert ("1.29",) in groups


@pytest.mark.parametrize("target", ["vvp", "flink-operator"])
def test_a_render_compares_no_schemas(target: str, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind a render validates has its groups worked out ahead: comparing the schemas of every
    version reads all their definitions (0.07 s of every process that renders)."""
    from generator.config.layers import ConfigRepo
    from generator.config.resolve import Resolver
    from generator.render.plan import render
    from generator.render.selection import Selection

    def refuse(api: str, kind: str) -> Any:
        raise AssertionError(f"{api} {kind} is not in _KNOWN_GROUPS")

    k8s.schema_groups.cache_clear()
    monkeypatch.setattr(k8s, "compare_schemas", refuse)
    repo = ConfigRepo(config)
    try:
        assert render(repo, Resolver(repo), Selection(target=target))
    finally:
        k8s.schema_groups.cache_clear()
