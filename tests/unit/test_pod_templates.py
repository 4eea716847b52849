"""Per-component pod templates across layers: merged like any map (containers, init containers and
volumes by name), every value located at the layer that wrote it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.errors import InputError
from generator.render import pods
from generator.render.plan import Selection, render
from tests.conftest import edit

NAMESPACE_TEMPLATE = """\
  template:
    spec:
      kubernetes:
        pods: null
        taskManagerPodTemplate:
          spec:
            securityContext: {runAsNonRoot: true, runAsUser: 9999}
            containers:
              - name: log-shipper
                image: registry.acme.internal/mirror/fluent/fluent-bit:3.1.9
                resources: {limits: {cpu: 100m, memory: 128Mi}}
            volumes:
              - {name: flink-logs, emptyDir: {}}
"""

DEPLOYMENT_ADDITION = """\
      kubernetes:
        pods: null
        taskManagerPodTemplate:
          spec:
            initContainers:
              - name: fetch-model
                image: registry.acme.internal/mirror/curlimages/curl:8.10.1
            volumes:
              - {name: models, emptyDir: {}}
"""


def _layered(config: Path) -> None:
    edit(
        config / "namespaces/analytics.yaml",
        'spec:\n  deploymentTargetName: "{{ namespace }}"\n',
        'spec:\n  deploymentTargetName: "{{ namespace }}"\n' + NAMESPACE_TEMPLATE,
    )
    edit(
        config / "deployments/analytics/events-ingest.yaml",
        "      numberOfTaskManagers: 4\n",
        "      numberOfTaskManagers: 4\n" + DEPLOYMENT_ADDITION,
    )
    for env in ("dev", "staging", "prod"):
        path = config / f"environments/{env}.yaml"
        text = path.read_text()
        if "        pods:\n" in text:
            # the environment's pod options would meet the namespace's template: move them into it
            path.write_text(
                text.replace("      kubernetes:\n        pods:\n", "      kubernetes:\n        pods_moved:\n")
            )
            data = yaml.safe_load(path.read_text())
            moved = data["spec"]["template"]["spec"]["kubernetes"].pop("pods_moved")
            data["spec"]["template"]["spec"]["kubernetes"]["taskManagerPodTemplate"] = {"spec": moved}
            path.write_text(yaml.safe_dump(data, sort_keys=False))


def _tm_template(config: Path, target: str) -> dict[str, Any]:
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env="prod", target=target, deployment="events-ingest"))
    for f in files:
        doc = yaml.safe_load(f.content) if f.path.endswith(".yaml") else None
        if doc and doc.get("metadata", {}).get("name") == "events-ingest":
            if doc["kind"] == "FlinkDeployment":
                template: dict[str, Any] = doc["spec"]["taskManager"]["podTemplate"]
                return template
            if doc["kind"] == "Deployment":
                template = doc["spec"]["template"]["spec"]["kubernetes"]["taskManagerPodTemplate"]
                return template
    raise AssertionError("no job document")


@pytest.mark.parametrize("target", ["vvp", "flink-operator"])
def test_layers_merge_containers_and_volumes_by_name(config: Path, target: str) -> None:
    _layered(config)
    template = _tm_template(config, target)
    spec = template["spec"]
    names = [c["name"] for c in spec["containers"]]
    assert names == [
        pods.VVP_PODS.container_names["taskmanager"] if target == "vvp" else "flink-main-container",
        "log-shipper",
    ]
    # the namespace's sidecar and volume, the deployment's init container and volume: merged by name
    assert spec["containers"][1]["image"].endswith("fluent-bit:3.1.9")
    assert [c["name"] for c in spec["initContainers"]] == ["fetch-model"]
    assert [v["name"] for v in spec["volumes"]][:2] == ["flink-logs", "models"]
    # the environment's node pool moved into the template: still there
    assert spec["nodeSelector"] == {"node-pool.acme.io/name": "flink-prod"}
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 9999}


def test_a_bad_value_is_located_at_the_layer_that_wrote_it(config: Path) -> None:
    _layered(config)
    edit(
        config / "namespaces/analytics.yaml",
        "                resources: {limits: {cpu: 100m, memory: 128Mi}}\n",
        "                resources: {limits: {cpu: 100m, memory: 128Mi}}\n                restartPolicy: Sometimes\n",
    )
    repo = ConfigRepo(config)
    with pytest.raises(InputError) as caught:
        render(repo, Resolver(repo), Selection(env="prod", target="vvp", deployment="events-ingest"))
    found = [p for p in caught.value.problems if "restartPolicy" in p.message]
    assert found, caught.value.problems
    assert found[0].file.endswith("namespaces/analytics.yaml")
    assert found[0].key.startswith("spec.template.spec.kubernetes.taskManagerPodTemplate.spec.containers")


JM_TEMPLATE = (
    "      numberOfTaskManagers: 4\n      kubernetes:\n        pods:\n"
    "          envVars: [{name: JOB_OWNER, value: ingest}]\n"
    "        jobManagerPodTemplate:\n"
    "          metadata: {annotations: {a: b}}\n"
    "          spec:\n"
    "            containers: [{name: flink, env: [{name: TZ, value: UTC}]}]\n"
)


def _jm_template(config: Path, target: str) -> dict[str, Any]:
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env="prod", target=target, deployment="events-ingest"))
    for f in files:
        doc = yaml.safe_load(f.content) if f.path.endswith(".yaml") else None
        if doc and doc.get("metadata", {}).get("name") == "events-ingest":
            if doc["kind"] == "FlinkDeployment":
                template: dict[str, Any] = doc["spec"]["jobManager"]["podTemplate"]
                return template
            if doc["kind"] == "Deployment":
                kubernetes = doc["spec"]["template"]["spec"]["kubernetes"]
                assert "pods" not in kubernetes  # the platform takes one or the other
                template = kubernetes["jobManagerPodTemplate"]
                return template
    raise AssertionError("no job document")


@pytest.mark.parametrize("target", ["vvp", "flink-operator"])
def test_pods_of_every_layer_are_merged_into_a_template(config: Path, target: str) -> None:
    """The environment's and the deployment's pods (pod-level and container-level options) meet a
    template of the same deployment file: all of them end up in the template."""
    edit(config / "deployments/analytics/events-ingest.yaml", "      numberOfTaskManagers: 4\n", JM_TEMPLATE)
    template = _jm_template(config, target)
    spec = template["spec"]
    assert spec["nodeSelector"] == {"node-pool.acme.io/name": "flink-prod"}  # environments/prod.yaml
    assert spec["tolerations"][0]["key"] == "dedicated"
    assert spec["securityContext"]["runAsUser"] == 9999  # baseline.yaml
    env = {v["name"]: v.get("value") for v in spec["containers"][0]["env"]}
    assert env["TZ"] == "UTC" and env["JOB_OWNER"] == "ingest"
    assert template["metadata"]["annotations"] == {"a": "b"}
    assert len(spec["containers"]) == 1


def test_a_pod_option_contradicting_the_template_is_a_located_error(config: Path) -> None:
    edit(
        config / "deployments/analytics/events-ingest.yaml",
        "      numberOfTaskManagers: 4\n",
        "      numberOfTaskManagers: 4\n      kubernetes:\n        jobManagerPodTemplate:\n"
        "          spec:\n            nodeSelector: {node-pool.acme.io/name: flink-batch}\n",
    )
    repo = ConfigRepo(config)
    with pytest.raises(InputError) as caught:
        render(repo, Resolver(repo), Selection(env="prod", target="flink-operator", deployment="events-ingest"))
    [problem] = [p for p in caught.value.problems if "but pods" in p.message]
    assert problem.file.endswith("deployments/analytics/events-ingest.yaml")
    assert problem.key == "spec.template.spec.kubernetes.jobManagerPodTemplate.spec.nodeSelector.node-pool.acme.io/name"
    assert '"flink-batch" here' in problem.message and '"flink-prod"' in problem.message
    assert "environments/prod.yaml:" in problem.message  # where pods set the other value
    assert "pods.nodeSelector.node-pool.acme.io/name: null" in problem.hint
