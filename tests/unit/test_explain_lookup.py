"""`gen explain` answers the question asked: keys that hold dots, the end of a path, a map key by
key, the closest key for a typo, the target's own field names, what a template read, and a
profile's view in a repository of several namespaces."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from generator.config.schemafiles import schema_folder
from generator.config.yamlload import Path_
from generator.render import target as targets
from generator.targets.flink_operator.fields import INPUT_FIELDS
from tests.conftest import edit, run_cli

NODE_SELECTOR = 'spec.template.spec.kubernetes.pods.nodeSelector["node-pool.acme.io/name"]'


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def explain(*args: str) -> Any:
    result = run_cli("explain", *args, "--format", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_key_that_holds_dots_by_its_end_in_brackets(config: Path) -> None:
    data = explain('nodeSelector["node-pool.acme.io/name"]', "-e", "prod", "-d", "fraud-scoring", "-c", str(config))
    assert data["value"] == "flink-prod"
    assert data["path"] == "spec.template.spec.kubernetes.pods.nodeSelector.node-pool.acme.io/name"
    assert data["chain"][0]["line"] == line_of(config / "environments/prod.yaml", "node-pool.acme.io/name:")
    assert 'nodeSelector["node-pool.acme.io/name"]' in data["note"]


def test_a_key_that_holds_dots_written_without_brackets(config: Path) -> None:
    plain = "spec.template.spec.kubernetes.pods.nodeSelector.node-pool.acme.io/name"
    data = explain(plain, "-e", "prod", "-d", "fraud-scoring", "-c", str(config))
    assert data["value"] == "flink-prod"
    assert NODE_SELECTOR in data["note"]


def test_a_map_shows_each_key_with_its_own_chain(config: Path) -> None:
    edit(
        config / "deployments/analytics/fraud-scoring.yaml",
        "      numberOfTaskManagers: 4\n",
        "      numberOfTaskManagers: 4\n      kubernetes:\n        pods:\n          nodeSelector:\n"
        "            topology.kubernetes.io/zone: eu-west-1a\n",
    )
    selector = "spec.template.spec.kubernetes.pods.nodeSelector"
    data = explain(selector, "-e", "prod", "-d", "fraud-scoring", "-c", str(config))
    keys = data["keys"]
    assert set(keys) == {"node-pool.acme.io/name", "topology.kubernetes.io/zone"}
    assert keys["node-pool.acme.io/name"]["chain"][0]["layer"] == "environment prod"
    zone = keys["topology.kubernetes.io/zone"]["chain"]
    assert [c["layer"] for c in zone] == ["deployment analytics/fraud-scoring"]
    assert zone[0]["line"] == line_of(config / "deployments/analytics/fraud-scoring.yaml", "eu-west-1a")
    text = run_cli("explain", selector, "-e", "prod", "-d", "fraud-scoring", "-c", str(config)).stdout
    assert '  ["topology.kubernetes.io/zone"] = "eu-west-1a"' in text
    assert "environments/prod.yaml" in text and "deployments/analytics/fraud-scoring.yaml" in text


def test_a_typo_gets_the_closest_key() -> None:
    result = run_cli("explain", "spec.template.spec.paralelism", "-e", "prod", "-d", "fraud-scoring")
    assert result.code == 2
    assert "did you mean spec.template.spec.parallelism?" in result.stderr
    result = run_cli("explain", "spec.template.spec.resources.taskmanager.memroy", "-e", "prod", "-d", "fraud-scoring")
    assert "did you mean spec.template.spec.resources.taskmanager.memory?" in result.stderr


def test_the_end_of_several_paths_is_refused_naming_them() -> None:
    result = run_cli("explain", "memory", "-e", "prod", "-d", "fraud-scoring")
    assert result.code == 2
    assert "spec.template.spec.resources.jobmanager.memory" in result.stderr
    assert "spec.template.spec.resources.taskmanager.memory" in result.stderr


def test_the_end_of_one_path() -> None:
    data = explain("parallelism", "-e", "prod", "-d", "fraud-scoring")
    assert data["path"] == "spec.template.spec.parallelism" and data["value"] == 4


def test_a_field_of_the_operator_resource_explains_its_input_key() -> None:
    args = ("-e", "prod", "-d", "fraud-scoring", "--set", "platform.target=flink-operator")
    data = explain("spec.taskManager.replicas", *args)
    assert data["path"] == "spec.template.spec.numberOfTaskManagers" and data["value"] == 4
    assert "flink-operator field spec.taskManager.replicas" in data["note"]
    data = explain("spec.flinkConfiguration.state.checkpoints.dir", *args)
    assert data["path"] == "spec.template.spec.flinkConfiguration.execution.checkpointing.dir"
    data = explain("spec.job.parallelism", *args)
    assert data["value"] == 4
    data = explain('spec.taskManager.podTemplate.spec.nodeSelector["node-pool.acme.io/name"]', *args)
    assert data["value"] == "flink-prod" and data["chain"][0]["layer"] == "environment prod"
    assert data["note"].endswith(f"is written from {NODE_SELECTOR}")
    typo = run_cli("explain", "spec.taskManager.replica", *args)
    assert typo.code == 2 and "did you mean the flink-operator field spec.taskManager.replicas?" in typo.stderr
    # on the vvp target the same words are no field: nothing maps them
    result = run_cli("explain", "spec.taskManager.replicas", "-e", "prod", "-d", "fraud-scoring")
    assert result.code == 2 and "is not set" in result.stderr


def test_the_vvp_operator_maps_its_embedded_deployment() -> None:
    vvp_operator = targets.get("vvp-operator")
    assert targets.input_path(vvp_operator, ("spec", "deployment", "spec", "template", "spec", "parallelism")) == (
        ("spec", "template", "spec", "parallelism"),
        ("spec", "deployment", "spec"),
    )
    assert targets.input_path(targets.get("vvp"), ("spec", "template")) is None


def _schema_at(folder: str, file: str, path: Path_) -> Mapping[str, Any] | None:
    """The subschema of ``path`` in a schema (following $ref, allOf, additionalProperties)."""
    schemas = schema_folder(folder)

    def follow(node: Any, resolver: Any) -> tuple[Any, Any]:
        while isinstance(node, Mapping) and "$ref" in node:
            resolved = resolver.lookup(node["$ref"])
            node, resolver = resolved.contents, resolved.resolver
        return node, resolver

    def step(node: Any, resolver: Any, part: str | int) -> tuple[Any, Any] | None:
        node, resolver = follow(node, resolver)
        if part in node.get("properties", {}):
            return node["properties"][part], resolver
        for sub in node.get("allOf", []):
            found = step(sub, resolver, part)
            if found is not None:
                return found
        extra = node.get("additionalProperties")
        return (extra, resolver) if isinstance(extra, Mapping) else None

    at: tuple[Any, Any] | None = (schemas.schemas[file], schemas.registry.resolver(schemas.uri(file)))
    for part in path:
        assert at is not None
        at = step(*at, part)
        if at is None:
            return None
    assert at is not None
    node, _ = follow(*at)
    return node if isinstance(node, Mapping) else None


@pytest.mark.parametrize("field", sorted(INPUT_FIELDS), ids=lambda p: ".".join(p))
def test_every_mapped_operator_field_and_input_key_exist(field: Path_) -> None:
    """The table is true: the field is in the operator's CRD schema and the key in the input schema."""
    in_crd = _schema_at("output/crd", "FlinkDeployment.json", field) or _schema_at(
        "output/crd", "FlinkSessionJob.json", field
    )
    assert in_crd is not None, f"{field} is no field of FlinkDeployment or FlinkSessionJob"
    assert _schema_at("input", "deployment.json", INPUT_FIELDS[field]) is not None


def test_a_templated_value_shows_what_its_template_read() -> None:
    data = explain(
        "spec.template.spec.flinkConfiguration.execution.checkpointing.dir", "-e", "dev", "-d", "fraud-scoring"
    )
    [read] = data["reads"]
    assert read["key"] == "platform.storage.baseUri" and read["value"] == "s3://acme-flink-dev/analytics"
    assert read["file"].endswith("namespaces/analytics.yaml")
    data = explain("platform.storage.baseUri", "-e", "dev", "-d", "fraud-scoring")
    assert [(r["key"], r["value"]) for r in data["reads"]] == [("env", "dev"), ("namespace", "analytics")]
    text = run_cli("explain", "platform.storage.baseUri", "-e", "dev", "-d", "fraud-scoring").stdout
    assert 'reads     namespace = "analytics"' in text


@pytest.fixture
def two_namespaces(config: Path) -> Path:
    text = (config / "namespaces/analytics.yaml").read_text()
    (config / "namespaces/payments.yaml").write_text(text.replace("flink-analytics", "flink-payments"))
    (config / "deployments/payments").mkdir()
    job = (config / "deployments/analytics/fraud-scoring.yaml").read_text()
    (config / "deployments/payments/card-scoring.yaml").write_text(job)
    return config


def test_a_profile_view_with_several_namespaces(two_namespaces: Path) -> None:
    config = str(two_namespaces)
    key = "spec.template.spec.resources.taskmanager.memory"
    result = run_cli("explain", key, "-e", "prod", "-p", "stateful-heavy", "-c", config)
    assert result.code == 0, result.stderr
    assert "[namespaces analytics, payments, profile stateful-heavy, env prod]" in result.stdout
    data = explain("platform.kubernetesNamespace", "-e", "prod", "-p", "stateful-heavy", "-c", config)
    assert [(r["scope"], r["value"]) for r in data["results"]] == [
        ("namespace analytics, profile stateful-heavy", "flink-analytics"),
        ("namespace payments, profile stateful-heavy", "flink-payments"),
    ]
    memory = run_cli("memory", "-e", "prod", "-p", "stateful-heavy", "-c", config)
    assert memory.code == 0, memory.stderr
    assert "Memory of profile stateful-heavy (namespaces analytics, payments, env prod)" in memory.stdout
    # a profile only one namespace uses is that namespace's
    small = run_cli("memory", "-e", "prod", "-p", "small", "-c", config, "--format", "json")
    assert json.loads(small.stdout)["scope"] == "profile small (namespace analytics, env prod)"
