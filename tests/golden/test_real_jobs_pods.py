"""Real jobs, pod side: volumes, sidecars and init containers, ephemeral storage, ingress, logging.

Each shape is a deployment file under ``tests/real_jobs/<shape>/`` (docs/real-jobs.md shows them),
rendered into a copy of the example configuration for every target that supports it, checked field
by field against what the platform needs and snapshotted. The refused variants fail with the file,
the line and the key that wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import ROUND_CEILING, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.data import copy_example
from generator.render import pods
from generator.render.footprint import Defaults
from generator.render.footprint import pod as pod_footprint
from generator.render.plan import Selection, render
from generator.validate import kubernetes as k8s
from tests.conftest import run_cli

SHAPES = Path(__file__).parent.parent / "real_jobs"
ALL_TARGETS = ("vvp", "vvp-operator", "flink-operator")
#: (shape, file) -> the targets that render it
CASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("volumes-configmap", "deployment.yaml"): ALL_TARGETS,
    ("sidecar-initcontainer", "deployment.yaml"): ALL_TARGETS,
    ("ephemeral-storage", "deployment.yaml"): ALL_TARGETS,
    ("ingress", "deployment.yaml"): ("flink-operator",),
    ("log4j2", "vvp.yaml"): ("vvp", "vvp-operator"),
    ("log4j2", "flink-operator.yaml"): ("flink-operator",),
}
MAIN = {"vvp": pods.VVP_PODS, "vvp-operator": pods.VVP_PODS, "flink-operator": pods.OPERATOR_PODS}
NAMESPACE = "flink-analytics"


def place(tmp: Path, shape: str, file: str) -> Path:
    config = tmp / "config"
    copy_example(config)
    (config / "deployments/analytics" / f"{shape}.yaml").write_text((SHAPES / shape / file).read_text())
    return config


@cache
def rendered(shape: str, file: str, target: str, env: str = "prod") -> dict[str, dict[str, Any]]:
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="real-job-"))
    repo = ConfigRepo(place(tmp, shape, file))
    files = render(repo, Resolver(repo), Selection(env=env, target=target, deployment=shape))
    return {f.path: yaml.safe_load(f.content) for f in files if f.path.endswith(".yaml")}


def effective(shape: str, file: str, target: str, tmp: Path) -> Any:
    repo = ConfigRepo(place(tmp, shape, file))
    return Resolver(repo, (f"platform.target={target}",)).deployment("prod", "analytics", shape)


def job_document(docs: dict[str, dict[str, Any]], shape: str) -> dict[str, Any]:
    kinds = ("Deployment", "VvpDeployment", "FlinkDeployment")
    found = [d for d in docs.values() if d.get("kind") in kinds and d["metadata"]["name"] == shape]
    assert len(found) == 1, sorted(docs)
    return found[0]


def pod_templates(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """component -> its rendered pod template, for each kind of job document."""
    spec = doc["spec"]
    if doc["kind"] == "FlinkDeployment":
        return {"jobmanager": spec["jobManager"]["podTemplate"], "taskmanager": spec["taskManager"]["podTemplate"]}
    if doc["kind"] == "VvpDeployment":
        spec = spec["deployment"]["spec"]
    options = spec["template"]["spec"]["kubernetes"]
    return {"jobmanager": options["jobManagerPodTemplate"], "taskmanager": options["taskManagerPodTemplate"]}


def each_case() -> Iterator[tuple[str, str, str]]:
    for (shape, file), targets in CASES.items():
        for target in targets:
            yield shape, file, target


def case_id(case: tuple[str, str, str]) -> str:
    return f"{case[0]}-{Path(case[1]).stem}-{case[2]}"


ALL_CASES = list(each_case())


# -- every shape, every target: valid pod templates carrying gen's own settings -------------------------
@pytest.mark.parametrize("case", ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
def test_pod_templates_are_strict_pod_template_specs_with_gens_settings(case: tuple[str, str, str]) -> None:
    shape, file, target = case
    doc = job_document(rendered(shape, file, target), shape)
    for component, template in pod_templates(doc).items():
        assert k8s.pod_template_problems(template) == []
        labels = template["metadata"]["labels"]
        assert labels[pods.POD_LABEL_DEPLOYMENT] == shape and labels[pods.POD_LABEL_COMPONENT] == component
        spec = template["spec"]
        assert spec["serviceAccountName"] == pods.DEFAULT_SERVICE_ACCOUNTS[component]
        main = spec["containers"][0]
        assert main["name"] == MAIN[target].container_names[component]
        assert "image" not in main  # the platform's image
        assert {"name": "metrics", "containerPort": 9249, "protocol": "TCP"} in main["ports"]
        assert main["securityContext"]["allowPrivilegeEscalation"] is False
        assert "ALL" in main["securityContext"]["capabilities"]["drop"]
        if target != "flink-operator":
            # VVP takes container limits only from the pod template: gen writes them
            assert set(main["resources"]["limits"]) >= {"cpu", "memory"}


@pytest.mark.parametrize("case", ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
def test_snapshot(case: tuple[str, str, str], snapshot: SnapshotAssertion) -> None:
    shape, file, target = case
    docs = rendered(shape, file, target)
    own = {
        path: doc
        for path, doc in docs.items()
        if doc.get("metadata", {}).get("name") in (shape, f"{shape}-jobmanager")
        or doc.get("kind") in ("ResourceQuota", "LimitRange")
    }
    assert own == snapshot


# -- volumes of every common source ---------------------------------------------------------------------
@pytest.mark.parametrize("target", ALL_TARGETS)
def test_volumes_of_every_source_reach_both_components(target: str) -> None:
    written = yaml.safe_load((SHAPES / "volumes-configmap/deployment.yaml").read_text())
    entries = written["spec"]["template"]["spec"]["kubernetes"]["pods"]["volumeMounts"]
    doc = job_document(rendered("volumes-configmap", "deployment.yaml", target), "volumes-configmap")
    sources = set()
    for template in pod_templates(doc).values():
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        mounts = {m["name"]: m for m in template["spec"]["containers"][0]["volumeMounts"]}
        for entry in entries:
            assert volumes[entry["name"]] == {**entry["volume"], "name": entry["name"]}
            assert mounts[entry["name"]] == {**entry["volumeMount"], "name": entry["name"]}
            sources |= set(entry["volume"])
    assert sources == {"configMap", "secret", "emptyDir", "persistentVolumeClaim", "projected", "csi"}


# -- sidecars and init containers ------------------------------------------------------------------------
@pytest.mark.parametrize("target", ALL_TARGETS)
def test_sidecar_and_init_container_are_kept_and_the_flink_container_renamed(target: str) -> None:
    written = yaml.safe_load((SHAPES / "sidecar-initcontainer/deployment.yaml").read_text())
    own = written["spec"]["template"]["spec"]["kubernetes"]["taskManagerPodTemplate"]
    doc = job_document(rendered("sidecar-initcontainer", "deployment.yaml", target), "sidecar-initcontainer")
    templates = pod_templates(doc)
    tm = templates["taskmanager"]["spec"]
    assert tm["initContainers"] == own["spec"]["initContainers"]
    assert tm["containers"][1] == own["spec"]["containers"][1]  # the sidecar, as written
    # the user's volumes and mounts first, then gen's own (the operator target's TLS stores)
    assert tm["volumes"][: len(own["spec"]["volumes"])] == own["spec"]["volumes"]
    mounts = own["spec"]["containers"][0]["volumeMounts"]
    assert tm["containers"][0]["volumeMounts"][: len(mounts)] == mounts
    assert [v["name"] for v in tm["volumes"][len(own["spec"]["volumes"]) :]] == (
        ["flink-tls"] if target == "flink-operator" else []
    )
    assert templates["taskmanager"]["metadata"]["annotations"] == {"acme.io/owner": "scoring"}


@pytest.mark.parametrize("target", ALL_TARGETS)
def test_pod_templates_keep_the_environments_pod_options(target: str) -> None:
    """The templates of a job with its own pods carry every option of the environment's and the
    baseline's ``pods`` (prod's dedicated node pool, the pod security context), on every target."""
    config = Path(__file__).parent.parent.parent
    prod = yaml.safe_load((config / "environments/prod.yaml").read_text())
    base = yaml.safe_load((config / "baseline.yaml").read_text())
    env_pods = prod["spec"]["template"]["spec"]["kubernetes"]["pods"]
    base_pods = base["spec"]["template"]["spec"]["kubernetes"]["pods"]
    doc = job_document(rendered("sidecar-initcontainer", "deployment.yaml", target), "sidecar-initcontainer")
    for component, template in pod_templates(doc).items():
        spec = template["spec"]
        assert spec["nodeSelector"] == env_pods["nodeSelector"], component
        assert spec["tolerations"] == env_pods["tolerations"], component
        assert spec["securityContext"] == base_pods["securityContext"], component
        assert template["metadata"]["annotations"]["acme.io/owner"] == "scoring"
        assert k8s.pod_template_problems(template) == []
    # Ververica Platform accepts pods or the templates, never both: only the templates are rendered
    assert doc["kind"] != "Deployment" or "pods" not in doc["spec"]["template"]["spec"]["kubernetes"]


def test_the_quota_counts_sidecars_and_init_containers(tmp_path: Path) -> None:
    eff = effective("sidecar-initcontainer", "deployment.yaml", "vvp", tmp_path)
    problems: list[Any] = []
    flink = pods.container_size(eff, "taskmanager", problems)
    defaults = Defaults(100, 128 << 20, 0)
    pod = pod_footprint(eff, "taskmanager", defaults, problems)
    assert problems == []
    # the log shipper (requests 50m / 64Mi, limits 100m / 128Mi) runs next to Flink; the init container
    # (100m / 64Mi) is smaller than both together, so Kubernetes reserves the sum of the two
    assert pod.cpu_request == flink.cpu_request + 50
    assert pod.memory_request == flink.memory_request + (64 << 20)
    assert pod.cpu_limit == flink.cpu_limit + 100
    assert pod.memory_limit == flink.memory_limit + (128 << 20)


# -- ephemeral storage -----------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ALL_TARGETS)
def test_ephemeral_storage_where_each_platform_reads_it(target: str) -> None:
    docs = rendered("ephemeral-storage", "deployment.yaml", target)
    doc = job_document(docs, "ephemeral-storage")
    wanted = {"jobmanager": "2Gi", "taskmanager": "20Gi"}
    if target == "flink-operator":
        # the operator's resource has a field for it
        assert doc["spec"]["jobManager"]["resource"]["ephemeralStorage"] == "2Gi"
        assert doc["spec"]["taskManager"]["resource"]["ephemeralStorage"] == "20Gi"
    else:
        # VVP's resources have none: container resources in the pod templates, nothing in resources
        spec = doc["spec"]["deployment"]["spec"] if target == "vvp-operator" else doc["spec"]
        assert "ephemeralStorage" not in str(spec["template"]["spec"].get("resources", {}))
        for component, template in pod_templates(doc).items():
            resources = template["spec"]["containers"][0]["resources"]
            assert resources["requests"]["ephemeral-storage"] == wanted[component]
            assert resources["limits"]["ephemeral-storage"] == wanted[component]
    quota = next(d for d in docs.values() if d.get("kind") == "ResourceQuota")["spec"]["hard"]
    limits = next(d for d in docs.values() if d.get("kind") == "LimitRange")["spec"]["limits"][0]
    assert quota["requests.ephemeral-storage"] == quota["limits.ephemeral-storage"]
    assert pods.storage_bytes(quota["requests.ephemeral-storage"]) >= 2 * (20 << 30) + (2 << 30)
    # once the quota counts storage, every container must declare it: the LimitRange gives the default
    assert limits["default"]["ephemeral-storage"] == limits["defaultRequest"]["ephemeral-storage"] == "1Gi"
    assert limits["max"]["ephemeral-storage"] == "20Gi"


def test_without_ephemeral_storage_the_quota_does_not_count_it() -> None:
    docs = rendered("volumes-configmap", "deployment.yaml", "vvp")
    quota = next(d for d in docs.values() if d.get("kind") == "ResourceQuota")["spec"]["hard"]
    assert not any("ephemeral" in key for key in quota)


# -- ingress ----------------------------------------------------------------------------------------------
def test_ingress_renders_verbatim_and_the_controller_reaches_the_rest_port() -> None:
    docs = rendered("ingress", "deployment.yaml", "flink-operator")
    doc = job_document(docs, "ingress")
    assert doc["spec"]["ingress"] == {
        "template": "{{name}}.{{namespace}}.flink.acme.internal",  # the operator's placeholders, not gen's
        "className": "nginx",
        "annotations": {"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS"},
        "labels": {"acme.io/exposure": "internal"},
        "tls": [{"hosts": ["*.flink-analytics.flink.acme.internal"], "secretName": "flink-ui-wildcard-tls"}],
    }
    policy = next(d for d in docs.values() if d.get("metadata", {}).get("name") == "ingress-jobmanager")
    controller = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-internal"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
    }
    rules = [r for r in policy["spec"]["ingress"] if controller in r["from"]]
    assert [r["ports"] for r in rules] == [[{"port": 8081, "protocol": "TCP"}]]


# -- logging ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ("vvp", "vvp-operator"))
def test_vvp_logging_template_reaches_the_output_verbatim(target: str) -> None:
    written = yaml.safe_load((SHAPES / "log4j2/vvp.yaml").read_text())
    twig = written["spec"]["template"]["spec"]["logging"]["log4j2ConfigurationTemplate"]
    assert "{{ level }}" in twig and "{%- for" in twig
    doc = job_document(rendered("log4j2", "vvp.yaml", target), "log4j2")
    text = yaml.safe_dump(doc)
    spec = doc["spec"]["deployment"] if target == "vvp-operator" else doc
    logging = (
        spec["spec"]["template"]["spec"].get("logging")
        or doc["spec"]["initFields"]["spec"]["template"]["spec"]["logging"]
    )
    assert logging["log4j2ConfigurationTemplate"] == twig, text


def test_operator_log_configuration_reaches_the_output_verbatim() -> None:
    written = yaml.safe_load((SHAPES / "log4j2/flink-operator.yaml").read_text())
    doc = job_document(rendered("log4j2", "flink-operator.yaml", "flink-operator"), "log4j2")
    assert doc["spec"]["logConfiguration"] == written["platform"]["flinkOperator"]["logConfiguration"]


# -- issue: the limits the quota is sized for are the limits that run ----------------------------------
def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _cpu_m(text: str) -> int:
    return int(text[:-1]) if text.endswith("m") else int(Decimal(text) * 1000)


def test_prod_vvp_pod_templates_carry_the_limits_the_quota_and_limit_range_assume(tmp_path: Path) -> None:
    config = tmp_path / "config"
    copy_example(config)
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env="prod", target="vvp"))
    docs = [yaml.safe_load(f.content) for f in files if f.path.endswith(".yaml")]
    deployments = [d for d in docs if d.get("kind") == "Deployment" and d["spec"].get("state", "RUNNING") == "RUNNING"]
    assert deployments
    total_cpu = total_memory = largest_cpu = largest_memory = 0
    for deployment in deployments:
        spec = deployment["spec"]["template"]["spec"]
        replicas = {
            # VVP runs one JobManager per deployment (no documented way to run standbys; docs/vvp.md)
            "jobmanager": 1,
            "taskmanager": int(spec.get("numberOfTaskManagers", 1)),
        }
        for component, key in (("jobmanager", "jobManagerPodTemplate"), ("taskmanager", "taskManagerPodTemplate")):
            limits = spec["kubernetes"][key]["spec"]["containers"][0]["resources"]["limits"]
            cpu, memory = _cpu_m(str(limits["cpu"])), pods.quantity_bytes(limits["memory"])
            total_cpu += cpu * replicas[component]
            total_memory += memory * replicas[component]
            largest_cpu, largest_memory = max(largest_cpu, cpu), max(largest_memory, memory)
    quota = next(d for d in docs if d.get("kind") == "ResourceQuota")["spec"]["hard"]
    limit_range = next(d for d in docs if d.get("kind") == "LimitRange")["spec"]["limits"][0]

    def hard(total: int, largest: int) -> int:
        return total + max(_ceil(Decimal(total) * Decimal("0.25")), largest)

    assert _cpu_m(str(quota["limits.cpu"])) == hard(total_cpu, largest_cpu)
    assert pods.quantity_bytes(quota["limits.memory"]) == hard(total_memory, largest_memory)
    assert _cpu_m(str(limit_range["max"]["cpu"])) == largest_cpu
    assert pods.quantity_bytes(limit_range["max"]["memory"]) == largest_memory
    # the limit factors became these limits: VVP does not read them, so they are not passed on
    for deployment in deployments:
        conf = deployment["spec"]["template"]["spec"]["flinkConfiguration"]
        assert not [key for key in conf if key.endswith(".limit-factor")]


# -- refused, with the file, the line and the key ----------------------------------------------------------
REFUSED = [
    pytest.param(
        "volumes-configmap",
        "deployment.yaml",
        ("                  name: enrichment-rules\n", "                  nmae: enrichment-rules\n"),
        "vvp",
        "spec.template.spec.kubernetes.pods.volumeMounts[0].volume.configMap",
        "'nmae' was unexpected",
        id="volume-misspelt-key",
    ),
    pytest.param(
        "volumes-configmap",
        "deployment.yaml",
        (
            "              volumeMount:\n                mountPath: /tmp/scratch\n",
            "              volumeMount:\n                mountPath: /etc/kafka\n",
        ),
        "flink-operator",
        "spec.template.spec.kubernetes.pods.volumeMounts",
        "two mounts at the path '/etc/kafka'",
        id="two-mounts-one-path",
    ),
    pytest.param(
        "sidecar-initcontainer",
        "deployment.yaml",
        (
            "            initContainers:\n",
            "            nodeSelector: {node-pool.acme.io/name: batch}\n            initContainers:\n",
        ),
        "vvp",
        "spec.template.spec.kubernetes.taskManagerPodTemplate.spec.nodeSelector.node-pool.acme.io/name",
        '"batch" here, but pods (',
        id="pods-and-template-conflict",
    ),
    pytest.param(
        "sidecar-initcontainer",
        "deployment.yaml",
        (
            "                image: registry.acme.internal/mirror/fluent/fluent-bit:3.1.9\n",
            "                image: registry.acme.internal/mirror/fluent/fluent-bit:3.1.9\n"
            "                restart: Always\n",
        ),
        "flink-operator",
        "spec.template.spec.kubernetes.taskManagerPodTemplate.spec.containers[1]",
        "'restart' was unexpected",
        id="sidecar-unknown-field",
    ),
    pytest.param(
        "sidecar-initcontainer",
        "deployment.yaml",
        ("            initContainers:\n", "            serviceAccountName: default\n            initContainers:\n"),
        "vvp-operator",
        "spec.template.spec.kubernetes.taskManagerPodTemplate.spec.serviceAccountName",
        'gen renders "flink-taskmanager" for it',
        id="service-account-conflict",
    ),
    pytest.param(
        "sidecar-initcontainer",
        "deployment.yaml",
        (
            "              - name: flink\n",
            "              - name: flink\n                resources: {limits: {cpu: 8}}\n",
        ),
        "vvp",
        "spec.template.spec.kubernetes.taskManagerPodTemplate.spec.containers[0].resources",
        "the Flink container's resources",
        id="flink-container-resources-conflict",
    ),
    pytest.param(
        "sidecar-initcontainer",
        "deployment.yaml",
        (
            "        taskManagerPodTemplate:\n          metadata:\n",
            "        taskManagerPodTemplate:\n          metadata:\n"
            "            labels:\n              component: flink\n",
        ),
        "flink-operator",
        "spec.template.spec.kubernetes.taskManagerPodTemplate.metadata.labels.component",
        'gen renders "taskmanager" for it',
        id="label-conflict",
    ),
    pytest.param(
        "sidecar-initcontainer",
        "deployment.yaml",
        (
            "              - name: flink\n",
            "              - name: flink\n                ports: [{name: metrics, containerPort: 9000}]\n",
        ),
        "flink-operator",
        "spec.template.spec.kubernetes.taskManagerPodTemplate.spec.containers[0].ports[0]",
        "a container port",
        id="metrics-port-conflict",
    ),
    pytest.param(
        "sidecar-initcontainer",
        "deployment.yaml",
        (
            "              - name: flink\n",
            "              - name: flink\n                securityContext: {allowPrivilegeEscalation: true}\n",
        ),
        "vvp",
        "spec.template.spec.kubernetes.taskManagerPodTemplate.spec.containers[0].securityContext.allowPrivilegeEscalation",
        "gen renders false for it",
        id="privilege-escalation-conflict",
    ),
    pytest.param(
        "sidecar-initcontainer",
        "deployment.yaml",
        ("                image: registry.acme.internal/mirror/fluent/fluent-bit:3.1.9\n", ""),
        "vvp",
        "spec.template.spec.kubernetes.taskManagerPodTemplate.spec.containers[1]",
        "has no image, and neither has 'flink'",
        id="two-containers-without-an-image",
    ),
    pytest.param(
        "ephemeral-storage",
        "deployment.yaml",
        ("          ephemeralStorage: 20Gi\n", "          ephemeralStorage: 20GB\n"),
        "vvp",
        "spec.template.spec.resources.taskmanager.ephemeralStorage",
        "",
        id="ephemeral-storage-unit",
    ),
    pytest.param(
        "ingress",
        "deployment.yaml",
        ('      template: "{{name}}.{{namespace}}.flink.acme.internal"\n', ""),
        "flink-operator",
        "platform.flinkOperator.ingress",
        "missing required key: 'template'",
        id="ingress-without-template",
    ),
    pytest.param(
        "log4j2",
        "vvp.yaml",
        ("", ""),
        "flink-operator",
        "spec.template.spec.logging.log4j2ConfigurationTemplate",
        "a VVP logging template (Twig) cannot configure the operator's pods",
        id="twig-template-on-the-operator",
    ),
    pytest.param(
        "log4j2",
        "flink-operator.yaml",
        (
            "spec:\n  template:\n    spec:\n",
            "spec:\n  template:\n    spec:\n      logging:\n        log4jLoggers:\n          org.apache.kafka: DEBUG\n",
        ),
        "flink-operator",
        "spec.template.spec.logging.log4jLoggers",
        "log4jLoggers would be ignored",
        id="loggers-next-to-a-whole-configuration",
    ),
]


@pytest.mark.parametrize(("shape", "file", "edit", "target", "key", "message"), REFUSED)
def test_refused_with_file_line_and_key(
    tmp_path: Path, shape: str, file: str, edit: tuple[str, str], target: str, key: str, message: str
) -> None:
    config = place(tmp_path, shape, file)
    path = config / "deployments/analytics" / f"{shape}.yaml"
    text = path.read_text()
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1))
    out = tmp_path / "out"
    result = run_cli(
        "render",
        "--config",
        str(config),
        "--env",
        "prod",
        "--target",
        target,
        "--deployment",
        shape,
        "--out",
        str(out),
    )
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if f": {key}" in line and message in line]
    assert lines, result.stderr
    where = re.match(r"(?P<file>[^:]+):(?P<line>\d+):\d+: ", lines[0])
    assert where is not None and where["file"].endswith(f"deployments/analytics/{shape}.yaml"), lines[0]
    assert 1 <= int(where["line"]) <= len(path.read_text().splitlines())
    assert not out.exists() or not any(out.rglob("*.yaml"))


# -- which strings are templates ----------------------------------------------------------------------------
def test_a_literal_double_brace_is_written_as_a_jinja_string(tmp_path: Path) -> None:
    config = place(tmp_path, "volumes-configmap", "deployment.yaml")
    path = config / "deployments/analytics/volumes-configmap.yaml"
    path.write_text(
        path.read_text().replace(
            "        pods:\n",
            "        pods:\n          annotations:\n            acme.io/note: \"{{ '{{' }}not a template}}\"\n"
            '            acme.io/env: "{{ env }}"\n',
            1,
        )
    )
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env="prod", target="flink-operator", deployment="volumes-configmap"))
    doc = next(yaml.safe_load(f.content) for f in files if f.path.endswith("flinkdeployment-volumes-configmap.yaml"))
    annotations = doc["spec"]["jobManager"]["podTemplate"]["metadata"]["annotations"]
    assert annotations == {"acme.io/note": "{{not a template}}", "acme.io/env": "prod"}


# -- production grade: gen check passes every shape ---------------------------------------------------------
@pytest.mark.parametrize("case", ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
def test_every_shape_passes_the_readiness_check_in_prod(tmp_path: Path, case: tuple[str, str, str]) -> None:
    shape, file, target = case
    config = place(tmp_path, shape, file)
    result = run_cli("check", "--config", str(config), "-e", "prod", "-t", target, "-d", shape)
    assert result.code == 0, result.stdout + result.stderr
    assert "0 failed, 0 with warnings" in result.stdout, result.stdout


def test_the_default_ephemeral_storage_of_undeclaring_containers_is_configurable(tmp_path: Path) -> None:
    repo = ConfigRepo(place(tmp_path, "ephemeral-storage", "deployment.yaml"))
    sets = ("platform.kubernetes.quota.containerDefaults.ephemeralStorage=3Gi",)
    files = render(repo, Resolver(repo, sets), Selection(env="prod", target="vvp", namespace="analytics"))
    docs = [yaml.safe_load(f.content) for f in files if f.path.endswith(".yaml")]
    limits = next(d for d in docs if d.get("kind") == "LimitRange")["spec"]["limits"][0]
    assert limits["default"]["ephemeral-storage"] == limits["defaultRequest"]["ephemeral-storage"] == "3Gi"
