"""The Ververica Platform target end to end: the complete set per namespace for both VVP targets
(REST resources and the VVP 3 operator's VvpDeployment), PATCH vs PUT, session mode, the platform
Helm values and the production settings the checklist asks for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.targets.vvp.helm import FILE as HELM_FILE
from generator.targets.vvp.helm import check as helm_check
from generator.validate.vvp_schemas import check_helm_values, error_messages, load_vvp_validators
from tests.conftest import edit, run_cli

MAIN = ("render", "--profile", "stateful-heavy", "--env", "prod")
NS = "prod/analytics"
LOCATED = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<msg>.+)$", re.M)
VVP_KINDS = ("Deployment", "DeploymentDefaults", "DeploymentTarget", "SessionCluster", "VvpDeployment")


def render(tmp_path: Path, *args: str, config: Path | None = None) -> Path:
    out = tmp_path / "out"
    extra = ("--config", str(config)) if config else ()
    result = run_cli(*(args or MAIN), *extra, "--out", str(out), "--force")
    assert result.code == 0, result.stderr
    return out


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def vvp_documents(out: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(out.rglob("*.yaml")):
        doc = load(path)
        if (
            isinstance(doc, dict)
            and doc.get("kind") in VVP_KINDS
            and doc.get("apiVersion")
            in (
                "v1",
                "ververica.platform/v1",
            )
        ):
            yield path, doc


def fails(config: Path, *args: str) -> tuple[str, list[re.Match[str]]]:
    result = run_cli(*(args or MAIN), "--config", str(config), "--out", str(config.parent / "never"))
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (config.parent / "never").exists()
    return result.stderr, list(LOCATED.finditer(result.stderr))


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# -- the complete set ------------------------------------------------------------------------------
def test_rest_target_renders_the_complete_set_for_the_namespace(tmp_path: Path) -> None:
    out = render(tmp_path)
    vvp = {str(p.relative_to(out)) for p in (out / NS / "vvp").rglob("*.yaml")}
    assert vvp == {
        f"{NS}/vvp/deployment-fraud-scoring.yaml",
        f"{NS}/vvp/deploymenttarget-analytics.yaml",
        f"{NS}/vvp/deploymentdefaults.yaml",
        f"{NS}/vvp/deployment-templates/deploymentdefaults-small.yaml",
        f"{NS}/vvp/deployment-templates/deploymentdefaults-stateful-heavy.yaml",
        f"{NS}/vvp/deployment-templates/deploymentdefaults-high-throughput.yaml",
    }
    assert not list(out.rglob("vvpdeployment-*.yaml"))
    deployment = load(out / NS / "vvp/deployment-fraud-scoring.yaml")
    target = load(out / NS / "vvp/deploymenttarget-analytics.yaml")
    assert deployment["spec"]["deploymentTargetName"] == target["metadata"]["name"] == "analytics"
    assert target["spec"] == {"kubernetes": {"namespace": "flink-analytics"}}
    assert (out / "prod" / HELM_FILE).is_file()


def test_operator_target_renders_the_complete_set_for_the_namespace(tmp_path: Path) -> None:
    out = render(tmp_path, *MAIN, "--target", "vvp-operator")
    # the profile's deployment, and the others' VvpDeployments the namespace's kustomization lists
    assert sorted(p.name for p in (out / NS).glob("vvpdeployment-*.yaml")) == [
        f"vvpdeployment-{name}.yaml" for name in ("clickstream-sessions", "events-ingest", "fraud-scoring")
    ]
    assert not list((out / NS / "vvp").glob("deployment-*.yaml"))  # no REST Deployment next to the CR
    assert (out / NS / "vvp/deploymenttarget-analytics.yaml").is_file()
    assert (out / NS / "vvp/deploymentdefaults.yaml").is_file()
    assert (out / "prod" / HELM_FILE).is_file()
    cr = load(out / NS / "vvpdeployment-fraud-scoring.yaml")
    assert (cr["apiVersion"], cr["kind"]) == ("ververica.platform/v1", "VvpDeployment")
    assert cr["metadata"]["namespace"] == "flink-analytics"  # a Kubernetes namespace the operator watches
    assert cr["metadata"]["labels"]["ververica.platform/owner"] == "vvp-prod"
    assert cr["metadata"]["annotations"] == {"apikeySecretName": "vvp-api-token-analytics"}
    assert cr["spec"]["deployment"]["metadata"]["namespace"] == "analytics"  # the VVP namespace
    assert cr["spec"]["deployment"]["spec"]["state"] == "CANCELLED"  # create, then start
    artifact = cr["spec"]["deployment"]["spec"]["template"]["spec"]["artifact"]
    assert artifact["engineVersionName"] == "vera-4.1-flink-1.20"
    assert not {"flinkVersion", "flinkImageRegistry", "flinkImageRepository", "flinkImageTag"} & set(artifact)


@pytest.mark.parametrize("target", ["vvp", "vvp-operator"])
@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_vvp_document_validates_against_the_strict_schemas(tmp_path: Path, env: str, target: str) -> None:
    out = render(tmp_path, "render", "--env", env, "--target", target)
    validators = load_vvp_validators()
    kinds = set()
    for path, doc in vvp_documents(out):
        kinds.add(doc["kind"])
        assert error_messages(validators[doc["kind"]], doc) == [], path
    expected = {"DeploymentDefaults", "DeploymentTarget", "Deployment" if target == "vvp" else "VvpDeployment"}
    assert kinds == expected
    assert helm_check(load(out / env / HELM_FILE)) == []


def test_namespace_documents_do_not_depend_on_the_target(tmp_path: Path) -> None:
    rest = render(tmp_path / "a")
    operator = render(tmp_path / "b", *MAIN, "--target", "vvp-operator")
    for path in (rest / NS / "vvp").rglob("deploymentdefaults*.yaml"):
        assert path.read_text() == (operator / path.relative_to(rest)).read_text()


# -- VvpDeployment: PATCH vs PUT -------------------------------------------------------------------
PUT_MANDATORY_SPEC = (
    "state",
    "deploymentTargetName",
    "upgradeStrategy",
    "restoreStrategy",
    "template",
)
PUT_MANDATORY_TEMPLATE = (
    "artifact",
    "parallelism",
    "numberOfTaskManagers",
    "resources",
    "flinkConfiguration",
    "logging",
    "kubernetes",
)


def _cr(tmp_path: Path, *sets: str) -> dict[str, Any]:
    args = [*MAIN, "--target", "vvp-operator"]
    for item in sets:
        args += ["--set", item]
    out = render(tmp_path, *args)
    return load(out / NS / "vvpdeployment-fraud-scoring.yaml")


def test_put_carries_every_mandatory_field_and_no_init_fields(tmp_path: Path) -> None:
    cr = _cr(tmp_path, "platform.vvp.operator.syncingMode=PUT")
    assert cr["spec"]["syncingMode"] == "PUT"
    assert "initFields" not in cr["spec"]
    spec = cr["spec"]["deployment"]["spec"]
    assert set(PUT_MANDATORY_SPEC) <= set(spec)
    assert spec["upgradeStrategy"]["kind"] and spec["restoreStrategy"]["kind"]
    template = spec["template"]["spec"]
    assert set(PUT_MANDATORY_TEMPLATE) <= set(template)
    assert {"kind", "jarUri", "engineVersionName"} <= set(template["artifact"])
    # the complete definition: the production settings go with every PUT
    conf = template["flinkConfiguration"]
    assert conf["high-availability.type"] == "kubernetes"
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    # taking a mandatory field away is rejected by the schema, before anything is written
    del template["logging"]
    messages = error_messages(load_vvp_validators()["VvpDeployment"], cr)
    assert any("'logging' is a required property" in m for m in messages), messages


def test_patch_carries_init_fields_and_only_the_managed_fields(tmp_path: Path) -> None:
    put = _cr(tmp_path / "put", "platform.vvp.operator.syncingMode=PUT")
    patch = _cr(tmp_path / "patch")
    assert patch["spec"]["syncingMode"] == "PATCH"
    init = patch["spec"]["initFields"]["spec"]["template"]["spec"]
    managed = patch["spec"]["deployment"]["spec"]["template"]["spec"]
    full = put["spec"]["deployment"]["spec"]["template"]["spec"]
    assert set(init) == {"resources", "logging"}  # the default creation-only fields
    assert not set(init) & set(managed)
    assert {**managed, **init} == full  # nothing lost, nothing added
    assert set(patch["spec"]["initFields"]) == {"spec"}
    assert set(patch["spec"]["initFields"]["spec"]) == {"template"}


def test_patch_init_fields_are_configurable(tmp_path: Path) -> None:
    patch = _cr(tmp_path, "platform.vvp.operator.initFields=[resources, numberOfTaskManagers]")
    init = patch["spec"]["initFields"]["spec"]["template"]["spec"]
    assert set(init) == {"resources", "numberOfTaskManagers"}
    assert "logging" in patch["spec"]["deployment"]["spec"]["template"]["spec"]


def test_state_is_cancelled_until_the_deployment_file_says_otherwise(tmp_path: Path, config: Path) -> None:
    edit(config / "deployments/analytics/fraud-scoring.yaml", "spec:\n", "spec:\n  state: RUNNING\n")
    cr = load(
        render(tmp_path, *MAIN, "--target", "vvp-operator", config=config) / NS / "vvpdeployment-fraud-scoring.yaml"
    )
    assert cr["spec"]["deployment"]["spec"]["state"] == "RUNNING"
    rest = load(render(tmp_path / "rest", *MAIN) / NS / "vvp/deployment-fraud-scoring.yaml")
    assert rest["spec"]["state"] == "RUNNING"  # the REST target keeps the baseline's state


def test_nonces_pass_through_from_the_deployment_file(tmp_path: Path, config: Path) -> None:
    edit(
        config / "deployments/analytics/fraud-scoring.yaml",
        "platform:\n",
        "platform:\n  vvp:\n    operator:\n      savepointNonce: 3\n      restartNonce: 7\n",
    )
    cr = load(
        render(tmp_path, *MAIN, "--target", "vvp-operator", config=config) / NS / "vvpdeployment-fraud-scoring.yaml"
    )
    assert (cr["spec"]["savepointNonce"], cr["spec"]["restartNonce"]) == (3, 7)
    other = load(
        render(tmp_path / "o", "render", "-e", "prod", "-p", "small", "-t", "vvp-operator", config=config)
        / NS
        / "vvpdeployment-clickstream-sessions.yaml"
    )
    assert "restartNonce" not in other["spec"]


def test_a_nonce_in_a_shared_layer_is_rejected(config: Path) -> None:
    namespace = config / "namespaces/analytics.yaml"
    edit(namespace, "      instanceId:", "      restartNonce: 1\n      instanceId:")
    stderr, located = fails(config, *MAIN, "--target", "vvp-operator")
    assert any(
        m["file"].endswith("namespaces/analytics.yaml") and int(m["line"]) == line_of(namespace, "restartNonce")
        for m in located
    ), stderr
    assert "set it in the deployment's own file" in stderr


def test_operator_settings_are_required_for_the_operator_target(config: Path) -> None:
    namespace = config / "namespaces/analytics.yaml"
    edit(namespace, '      engineVersions:\n        "1.20": vera-4.1-flink-1.20\n', "")
    edit(namespace, "      apiTokenSecret: vvp-api-token-analytics\n", "")
    stderr, _ = fails(config, *MAIN, "--target", "vvp-operator")
    assert "target vvp-operator needs platform.vvp.operator.apiTokenSecret" in stderr
    assert "no approved engine version for Flink 1.20" in stderr
    assert run_cli(*MAIN, "--config", str(config), "--out", str(config.parent / "rest")).code == 0  # REST needs neither


def test_an_engine_version_of_another_flink_version_is_rejected(config: Path) -> None:
    edit(config / "namespaces/analytics.yaml", "vera-4.1-flink-1.20", "vera-4.1-flink-1.19")
    stderr, _ = fails(config, *MAIN, "--target", "vvp-operator")
    assert "engine version 'vera-4.1-flink-1.19' does not run Flink 1.20" in stderr


def test_target_can_be_chosen_in_the_namespace_defaults(tmp_path: Path, config: Path) -> None:
    edit(config / "namespaces/analytics.yaml", "platform:\n", "platform:\n  target: vvp-operator\n")
    out = render(tmp_path, *MAIN, config=config)
    assert (out / NS / "vvpdeployment-fraud-scoring.yaml").is_file()
    assert not (out / NS / "vvp/deployment-fraud-scoring.yaml").exists()


# -- session mode ----------------------------------------------------------------------------------
@pytest.fixture
def session_config(config: Path) -> Path:
    edit(
        config / "namespaces/analytics.yaml",
        '  deploymentTargetName: "{{ namespace }}"\n',
        # the shared cluster offers 2 TaskManagers x 1 slot: room for each job's parallelism 2
        "  sessionClusterName: shared\n  template:\n    spec:\n      numberOfTaskManagers: 2\n",
    )
    for name in ("events-ingest", "fraud-scoring"):
        path = config / f"deployments/analytics/{name}.yaml"
        text = re.sub(r"      numberOfTaskManagers: \d+\n", "", path.read_text())
        path.write_text(re.sub(r"      parallelism: \d+\n", "      parallelism: 2\n", text))
    return config


@pytest.mark.parametrize("target", ["vvp", "vvp-operator"])
def test_session_mode_moves_cluster_settings_to_the_session_cluster(
    tmp_path: Path, session_config: Path, target: str
) -> None:
    out = render(tmp_path, *MAIN, "--target", target, config=session_config)
    cluster = load(out / NS / "vvp/sessioncluster-shared.yaml")
    assert cluster["spec"]["deploymentTargetName"] == "analytics"
    assert (out / NS / "vvp/deploymenttarget-analytics.yaml").is_file()
    assert cluster["spec"]["flinkImageRegistry"].startswith("registry.acme.internal/")
    assert {"resources", "numberOfTaskManagers", "logging", "kubernetes"} <= set(cluster["spec"])
    cluster_conf = cluster["spec"]["flinkConfiguration"]
    assert cluster_conf["high-availability.type"] == "kubernetes"
    assert "execution.checkpointing.interval" not in cluster_conf
    if target == "vvp":
        spec = load(out / NS / "vvp/deployment-fraud-scoring.yaml")["spec"]
    else:
        spec = load(out / NS / "vvpdeployment-fraud-scoring.yaml")["spec"]["deployment"]["spec"]
    assert spec["sessionClusterName"] == "shared" and "deploymentTargetName" not in spec
    template = spec["template"]["spec"]
    assert not {"resources", "numberOfTaskManagers", "logging", "kubernetes"} & set(template)
    assert not {"flinkImageRegistry", "flinkImageRepository", "flinkImageTag"} & set(template["artifact"])
    assert template["flinkConfiguration"]["execution.checkpointing.interval"] == "60s"
    assert not [k for k in template["flinkConfiguration"] if k.startswith(("high-availability", "taskmanager."))]
    defaults = load(out / NS / "vvp/deploymentdefaults.yaml")
    assert defaults["spec"]["sessionClusterName"] == "shared"
    validators = load_vvp_validators()
    for path, doc in vvp_documents(out):
        assert error_messages(validators[doc["kind"]], doc) == [], path


def test_session_mode_rejects_cluster_settings_in_a_deployment_file(session_config: Path) -> None:
    path = session_config / "deployments/analytics/fraud-scoring.yaml"
    edit(path, "      parallelism: 2\n", "      parallelism: 2\n      numberOfTaskManagers: 4\n")
    stderr, located = fails(session_config)
    assert any(
        m["file"].endswith("fraud-scoring.yaml") and int(m["line"]) == line_of(path, "numberOfTaskManagers")
        for m in located
    ), stderr
    assert "configures the session cluster" in stderr


def test_a_deployment_target_has_one_kubernetes_namespace(config: Path) -> None:
    path = config / "deployments/analytics/fraud-scoring.yaml"
    edit(path, "platform:\n", "platform:\n  kubernetesNamespace: flink-fraud\n")
    stderr, located = fails(config)
    assert "deployment target 'analytics' runs in Kubernetes namespace 'flink-analytics' elsewhere" in stderr
    assert any(m["file"].endswith("fraud-scoring.yaml") for m in located), stderr


# -- namespace defaults and deployment templates ---------------------------------------------------
def test_namespace_defaults_follow_the_environment(tmp_path: Path) -> None:
    out = render(tmp_path, "render")
    dev = load(out / "dev/analytics/vvp/deploymentdefaults.yaml")["spec"]
    prod = load(out / "prod/analytics/vvp/deploymentdefaults.yaml")["spec"]
    checkpoints = "execution.checkpointing.dir"
    assert dev["template"]["spec"]["flinkConfiguration"][checkpoints] == "s3://acme-flink-dev/analytics/checkpoints"
    assert prod["template"]["spec"]["flinkConfiguration"][checkpoints] == "s3://acme-flink-prod/analytics/checkpoints"
    assert dev["deploymentTargetName"] == prod["deploymentTargetName"] == "analytics"
    pod = prod["template"]["spec"]["kubernetes"]["taskManagerPodTemplate"]
    assert "app.kubernetes.io/instance" not in pod["metadata"]["labels"]  # no deployment in a namespace's defaults


@pytest.mark.parametrize(
    ("profile", "memory", "slots"),
    [("small", "2g", "2"), ("stateful-heavy", "16g", "1"), ("high-throughput", "8g", "2")],
)
def test_a_deployment_template_per_profile(tmp_path: Path, profile: str, memory: str, slots: str) -> None:
    out = render(tmp_path)
    doc = load(out / NS / f"vvp/deployment-templates/deploymentdefaults-{profile}.yaml")
    assert doc["metadata"] == {"name": profile, "namespace": "analytics"}
    template = doc["spec"]["template"]["spec"]
    assert template["resources"]["taskmanager"]["memory"] == memory
    assert template["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] == slots
    assert "kubernetes.jobmanager.replicas" not in template["flinkConfiguration"]  # VVP runs one JobManager
    assert error_messages(load_vvp_validators()["DeploymentDefaults"], doc) == []


def test_user_templates_in_the_namespace_defaults_run_in_the_sandbox(config: Path) -> None:
    edit(
        config / "namespaces/analytics.yaml",
        '"{{ namespace }}"',
        '"{{ namespace.__class__.__mro__[1].__subclasses__() }}"',
    )
    stderr, _ = fails(config)
    assert "blocked by the sandbox" in stderr or "unsafe" in stderr


# -- production settings ---------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "ssl"), [("dev", "false"), ("staging", "true"), ("prod", "true")])
def test_production_settings_are_concrete(tmp_path: Path, env: str, ssl: str) -> None:
    out = render(tmp_path, "render", "--env", env, "--profile", "stateful-heavy")
    doc = load(out / env / "analytics/vvp/deployment-fraud-scoring.yaml")
    assert doc["spec"]["template"]["metadata"]["annotations"]["flink.security.ssl.enabled"] == ssl
    template = doc["spec"]["template"]["spec"]
    conf = template["flinkConfiguration"]
    store = f"s3://acme-flink-{env}/analytics"
    assert conf["high-availability.type"] == "kubernetes"
    dirs = {
        conf["high-availability.storageDir"],
        conf["execution.checkpointing.dir"],
        conf["execution.checkpointing.savepoint-dir"],
    }
    assert dirs == {f"{store}/ha", f"{store}/checkpoints", f"{store}/savepoints"}  # separate paths, one store
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    assert conf["restart-strategy.type"] == "failure-rate"
    assert int(conf["restart-strategy.failure-rate.max-failures-per-interval"]) > 0
    for key in ("jobManagerPodTemplate", "taskManagerPodTemplate"):
        pod = template["kubernetes"][key]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
        assert pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
        assert pod["nodeSelector"] == {"node-pool.acme.io/name": f"flink-{env}"}
        if env == "prod":
            assert pod["tolerations"] == [
                {"key": "dedicated", "operator": "Equal", "value": "flink", "effect": "NoSchedule"}
            ]
    artifact = template["artifact"]
    values = load(out / env / HELM_FILE)
    assert artifact["flinkImageRegistry"] == values["vvp"]["registry"]
    assert re.fullmatch(r"\d+\.\d+\.\d+-stream\d+-scala_2\.12-java\d+", artifact["flinkImageTag"])


def test_vvp_kubernetes_ha_is_rejected(config: Path) -> None:
    path = config / "environments/staging.yaml"
    edit(
        path,
        "      kubernetes:\n",
        "      flinkConfiguration:\n        high-availability: vvp-kubernetes\n      kubernetes:\n",
    )
    stderr, located = fails(config, "render", "--env", "staging")
    assert any(
        m["file"].endswith("staging.yaml") and int(m["line"]) == line_of(path, "vvp-kubernetes") for m in located
    )
    assert "high-availability.type: kubernetes" in stderr


def test_an_unpinned_image_tag_is_rejected(config: Path) -> None:
    edit(
        config / "deployments/analytics/fraud-scoring.yaml",
        "        mainArgs:",
        "        flinkImageTag: latest\n        mainArgs:",
    )
    stderr, _ = fails(config)
    assert "the image tag 'latest' is not pinned" in stderr


# -- Helm values of the platform chart -------------------------------------------------------------
@pytest.mark.parametrize(("env", "persistence"), [("dev", "local"), ("staging", "jdbc"), ("prod", "jdbc")])
def test_helm_values_per_environment(tmp_path: Path, env: str, persistence: str) -> None:
    out = render(tmp_path, "render", "--env", env)
    values = load(out / env / HELM_FILE)
    assert check_helm_values(values) == []
    vvp = values["vvp"]
    assert vvp["persistence"]["type"] == persistence
    if persistence == "jdbc":
        assert vvp["persistence"]["datasource"] == {
            "url": f"jdbc:postgresql://vvp-db.{env}.acme.internal:5432/vvp",
            "username": "vvp",
        }
    assert vvp["blobStorage"]["baseUri"] == f"s3://acme-flink-{env}/vvp"
    assert values["rbac"] == {"additionalNamespaces": ["flink-analytics"]}
    registry = load(out / env / "analytics/vvp/deploymentdefaults.yaml")["spec"]["template"]["spec"]["artifact"]
    assert vvp["registry"] == registry["flinkImageRegistry"]
    text = (out / env / HELM_FILE).read_text()
    assert "globalDeploymentDefaults: |" in text  # a YAML string, as the chart requires
    defaults = yaml.safe_load(vvp["globalDeploymentDefaults"])
    assert set(defaults) == {"spec"}
    spec = defaults["spec"]
    conf = spec["template"]["spec"]["flinkConfiguration"]
    assert conf["high-availability.type"] == "kubernetes"
    # what a namespace sets or computes from its own settings stays in its own defaults
    assert "deploymentTargetName" not in spec
    assert "high-availability.storageDir" not in conf and "analytics" not in vvp["globalDeploymentDefaults"]


def test_local_persistence_is_rejected_where_production_is_expected(config: Path) -> None:
    path = config / "environments/prod.yaml"
    edit(path, "        type: jdbc\n", "        type: local\n")
    datasource = '        datasource:\n          url: "jdbc:postgresql://vvp-db.{{ env }}.acme.internal:5432/vvp"\n'
    edit(path, datasource + "          username: vvp\n", "")
    stderr, located = fails(config, "render", "--env", "prod")
    assert "the platform metadata database must be a backed-up RDBMS" in stderr
    assert any(m["file"].endswith("prod.yaml") and int(m["line"]) == line_of(path, "type: local") for m in located)


def test_helm_values_are_not_written_for_one_namespace_only(tmp_path: Path) -> None:
    out = render(tmp_path, "render", "--env", "prod", "--namespace", "analytics")
    assert not (out / "prod" / HELM_FILE).exists()


@pytest.fixture
def two_namespaces(config: Path) -> Path:
    """A second namespace, payments, on the operator target, with one deployment."""
    text = (config / "namespaces/analytics.yaml").read_text()
    text = text.replace("kubernetesNamespace: flink-analytics", "kubernetesNamespace: flink-payments")
    (config / "namespaces/payments.yaml").write_text(
        text.replace("platform:\n", "platform:\n  target: vvp-operator\n", 1)
    )
    (config / "deployments/payments").mkdir()
    (config / "deployments/payments/ledger.yaml").write_text(
        (config / "deployments/analytics/clickstream-sessions.yaml").read_text()
    )
    return config


def test_one_platform_values_file_for_namespaces_of_both_vvp_targets(tmp_path: Path, two_namespaces: Path) -> None:
    out = render(tmp_path, "render", "--env", "prod", config=two_namespaces)
    assert (out / "prod/analytics/vvp/deployment-fraud-scoring.yaml").is_file()
    assert (out / "prod/payments/vvpdeployment-ledger.yaml").is_file()
    values = load(out / "prod" / HELM_FILE)
    assert values["rbac"]["additionalNamespaces"] == ["flink-analytics", "flink-payments"]
    assert [p.name for p in (out / "prod").rglob("ververica-platform-values.yaml")] == [
        "ververica-platform-values.yaml"
    ]


def test_namespaces_must_agree_on_environment_wide_settings(two_namespaces: Path) -> None:
    path = two_namespaces / "namespaces/payments.yaml"
    # (the environment file wins over namespace files; a key it leaves open can still differ)
    edit(
        path,
        "  vvp:\n",
        "  vvp:\n    helm:\n      blobStorage:\n        s3:\n          endpoint: https://minio.acme.internal\n",
    )
    stderr, located = fails(two_namespaces, "render", "--env", "prod")
    assert "namespaces analytics and payments disagree on this environment-wide setting" in stderr
    assert any(m["file"].endswith("payments.yaml") for m in located), stderr
