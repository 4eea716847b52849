"""Per-environment sections: ``environments.<env>`` in a deployment or namespace file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.errors import InputError
from tests.conftest import run_cli

FRAUD = "deployments/analytics/fraud-scoring.yaml"
PARALLELISM = ("spec", "template", "spec", "parallelism")
ENV_VARS = ("spec", "template", "spec", "kubernetes", "pods", "envVars")
EGRESS = ("platform", "kubernetes", "networkPolicy", "egress")

PROD_SECTION = """\
environments:
  prod:
    spec:
      template:
        spec:
          parallelism: 8
          numberOfTaskManagers: 8
          flinkConfiguration:
            execution:
              checkpointing.interval: 30s
          kubernetes:
            pods:
              envVars:
                - name: FRAUD_MODE
                  value: strict
              tolerations:
                - key: fraud-only
                  operator: Exists
                  effect: NoSchedule
"""


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def append(path: Path, text: str) -> None:
    """``text`` at the end of the file, in place of the file's own ``environments`` sections."""
    own = path.read_text()
    path.write_text(own.split("\nenvironments:\n")[0].rstrip("\n") + "\n" + text)


def test_a_deployment_section_applies_in_its_environment_only(config: Path) -> None:
    append(config / FRAUD, PROD_SECTION)
    resolver = Resolver(ConfigRepo(config))
    prod = resolver.deployment("prod", "analytics", "fraud-scoring")
    dev = resolver.deployment("dev", "analytics", "fraud-scoring")
    assert prod.get(PARALLELISM) == 8 and dev.get(PARALLELISM) == 4
    assert prod.flink_conf["execution.checkpointing.interval"] == "30s"
    assert dev.flink_conf["execution.checkpointing.interval"] != "30s"
    chain = prod.provenance[PARALLELISM]
    assert [o.layer for o in chain][-2:] == [
        "deployment analytics/fraud-scoring",
        "deployment analytics/fraud-scoring (prod)",
    ]
    assert chain[-1].line == line_of(config / FRAUD, "parallelism: 8")
    assert chain[-1].file.endswith(FRAUD)
    # the toleration replaces the environment's list (lists are replaced) for this job only
    tolerations = prod.get(("spec", "template", "spec", "kubernetes", "pods", "tolerations"))
    assert tolerations == [{"key": "fraud-only", "operator": "Exists", "effect": "NoSchedule"}]
    other = resolver.deployment("prod", "analytics", "events-ingest")
    assert other.get(("spec", "template", "spec", "kubernetes", "pods", "tolerations"))[0]["key"] == "dedicated"


def test_a_section_merges_keyed_lists_item_by_item(config: Path) -> None:
    append(config / FRAUD, PROD_SECTION)
    text = (config / FRAUD).read_text()
    text = text.replace(
        "      numberOfTaskManagers: 4\n",
        "      numberOfTaskManagers: 4\n      kubernetes:\n        pods:\n          envVars:\n"
        "            - name: FRAUD_REGION\n              value: eu\n",
        1,
    )
    (config / FRAUD).write_text(text)
    prod = Resolver(ConfigRepo(config)).deployment("prod", "analytics", "fraud-scoring")
    names = [item["name"] for item in prod.get(ENV_VARS)]
    assert "FRAUD_REGION" in names and "FRAUD_MODE" in names


def test_a_namespace_section_sits_right_above_the_namespace_file(config: Path) -> None:
    append(
        config / "namespaces/analytics.yaml",
        """\
environments:
  prod:
    platform:
      kubernetes:
        networkPolicy:
          egress:
            - name: audit-log
              description: the audit log collector, prod only
              cidrs: [10.60.0.0/24]
              ports: [6514]
    spec:
      template:
        spec:
          parallelism: 3
""",
    )
    resolver = Resolver(ConfigRepo(config))
    prod = resolver.deployment("prod", "analytics", "events-ingest")
    staging = resolver.deployment("staging", "analytics", "events-ingest")
    assert [rule["name"] for rule in prod.get(EGRESS)][-2:] == ["kafka", "audit-log"]
    assert "audit-log" not in [rule["name"] for rule in staging.get(EGRESS, [])]
    # right above the namespace file, below the profile: the profile's parallelism still wins
    layers = [o.layer for o in prod.provenance[PARALLELISM]]
    assert layers[:2] == ["baseline", "namespace analytics (prod)"]
    assert layers[2].startswith("profile ") and prod.get(PARALLELISM) != 3
    view = resolver.namespace("prod", "analytics")
    assert "audit-log" in [rule["name"] for rule in view.get(EGRESS)]


def test_an_unknown_environment_is_a_located_error(config: Path) -> None:
    append(config / FRAUD, PROD_SECTION.replace("  prod:", "  prd:"))
    result = run_cli("validate", "-c", str(config))
    assert result.code == 2
    line = line_of(config / FRAUD, "  prd:")
    assert f"{FRAUD}:{line}:3: environments.prd: unknown environment 'prd'" in result.stderr
    assert "did you mean 'prod'?" in result.stderr


def test_a_section_is_validated_like_the_file(config: Path) -> None:
    append(config / FRAUD, PROD_SECTION.replace("parallelism: 8", "paralelism: 8"))
    with pytest.raises(InputError) as exc:
        ConfigRepo(config).layer("deployment", "fraud-scoring", "analytics")
    [problem] = exc.value.problems
    assert problem.key == "environments.prod.spec.template.spec.paralelism"
    assert problem.line == line_of(config / FRAUD, "paralelism: 8")
    assert "did you mean 'parallelism'?" in problem.hint


def test_a_section_may_not_hold_a_profile(config: Path) -> None:
    append(config / FRAUD, "environments:\n  prod:\n    profile: small\n")
    with pytest.raises(InputError) as exc:
        ConfigRepo(config).layer("deployment", "fraud-scoring", "analytics")
    assert [p.key for p in exc.value.problems] == ["environments.prod.profile"]


def test_flink_aliases_in_a_section_are_one_key(config: Path) -> None:
    append(
        config / FRAUD,
        "environments:\n  prod:\n    spec:\n      template:\n        spec:\n          flinkConfiguration:\n"
        "            state.checkpoints.dir: s3://a/x\n            execution.checkpointing.dir: s3://a/y\n",
    )
    with pytest.raises(InputError) as exc:
        ConfigRepo(config).layer("deployment", "fraud-scoring", "analytics")
    [problem] = exc.value.problems
    assert problem.key.startswith("environments.prod.spec.template.spec.flinkConfiguration.")
    assert "same Flink option" in problem.message


def test_the_editor_schema_accepts_a_section_and_refuses_a_typo(tmp_path: Path) -> None:
    assert run_cli("schema", str(tmp_path / "schemas")).code == 0
    schemas = {
        f"https://gen.schemas/input/{p.name}": json.loads(p.read_text()) for p in (tmp_path / "schemas").glob("*.json")
    }
    registry: Registry[object] = Registry().with_resources(
        (uri, Resource.from_contents(schema)) for uri, schema in schemas.items()
    )
    validator = jsonschema.Draft202012Validator(schemas["https://gen.schemas/input/deployment.json"], registry=registry)
    good = {"profile": "small", "environments": {"prod": {"spec": {"template": {"spec": {"parallelism": 8}}}}}}
    assert not list(validator.iter_errors(good))
    bad = {"profile": "small", "environments": {"prod": {"spec": {"template": {"spec": {"paralelism": 8}}}}}}
    assert list(validator.iter_errors(bad))


def test_the_example_shows_a_prod_exception_in_explain() -> None:
    key = "platform.kubernetes.networkPolicy.egress"
    prod = run_cli("explain", key, "-e", "prod", "-d", "fraud-scoring", "--format", "json")
    staging = run_cli("explain", key, "-e", "staging", "-d", "fraud-scoring", "--format", "json")
    assert prod.code == 0 and staging.code == 0, prod.stderr + staging.stderr
    prod_data, staging_data = json.loads(prod.stdout), json.loads(staging.stdout)
    assert [rule["name"] for rule in prod_data["value"]] == ["kafka", "feature-store", "feature-store-replica"]
    assert [rule["name"] for rule in staging_data["value"]] == ["kafka", "feature-store"]
    assert prod_data["chain"][0]["layer"] == "deployment analytics/fraud-scoring (prod)"


def test_gen_check_locates_a_list_item_of_a_section(config: Path) -> None:
    """Readiness rules find an item a section wrote (a sink) at the section's line."""
    append(
        config / FRAUD,
        "environments:\n  prod:\n    platform:\n      policy:\n        sinks:\n          - name: fraud-alerts\n"
        "            delivery: exactly-once\n            transactionTimeout: 5min\n",
    )
    result = run_cli("check", "-e", "prod", "-d", "fraud-scoring", "-c", str(config), "--format", "json")
    data = json.loads(result.stdout)
    found = [
        f
        for c in data["checks"]
        if c["rule"]["id"] == "EOS-001"
        for f in c.get("findings", [])
        if "fraud-alerts" in f["message"]
    ]
    assert found, result.stdout[:2000]
    assert found[0]["location"]["line"] == line_of(config / FRAUD, "transactionTimeout: 5min")
