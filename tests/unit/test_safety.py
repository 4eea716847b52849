"""Safe by construction: what `gen` renders for production never lets the wrong people in.

For every target, the prod output of the example configuration is checked by document kind and
field, whichever renderer wrote it:

- every Kubernetes namespace that receives objects has a default-deny NetworkPolicy (all pods,
  Ingress and Egress, no rule);
- no pod runs as the default ServiceAccount, and a ServiceAccount token is mounted only into pods
  whose ServiceAccount is bound to a Role (Flink's Kubernetes HA and native mode need the API);
  a ServiceAccount nobody binds does not automount its token;
- every pod runs as non-root (runAsNonRoot, no UID 0, nothing privileged);
- every Flink deployment has TLS: Flink's internal SSL and HTTPS for the REST API and UI.

And no rendered file holds a credential: the values of ``tests.secrets.PLANTED`` are planted
where people put credentials; gen refuses them with a located message that does not repeat them,
or renders a reference; the scanner in ``tests/secrets.py`` checks every output folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.config.layers import example_config_dir
from generator.targets import names as target_names
from generator.validate import outputs
from tests import secrets
from tests.conftest import edit, run_cli

Doc = dict[str, Any]
TARGETS = target_names()


# -- the prod output of every target ----------------------------------------------------------------
@pytest.fixture(scope="module")
def prod_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, list[tuple[str, Doc]]]]:
    """target -> (exit code, stderr, [(file, document)]) of `gen render -e prod -t target`."""
    rendered = {}
    for target in TARGETS:
        out = tmp_path_factory.mktemp("safety") / target
        result = run_cli("render", "-e", "prod", "-t", target, "-c", str(example_config_dir()), "-o", str(out))
        docs = [
            (str(path.relative_to(out)), doc)
            for path in sorted(out.rglob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text("utf-8"))
            if isinstance(doc, dict)
        ]
        rendered[target] = (result.code, result.stderr, docs)
    return rendered


def _docs(prod_outputs: dict[str, tuple[int, str, list[tuple[str, Doc]]]], target: str) -> list[tuple[str, Doc]]:
    code, stderr, docs = prod_outputs[target]
    assert code == 0, f"the {target} target does not render prod yet:\n{stderr}"
    assert docs, f"the {target} target rendered nothing for prod"
    return docs


def _kubernetes(docs: list[tuple[str, Doc]]) -> Iterator[tuple[str, Doc]]:
    """Kubernetes objects: a kind, an apiVersion, and not a Ververica Platform REST resource."""
    for file, doc in docs:
        if "kind" in doc and "apiVersion" in doc and not outputs.is_vvp_rest(doc) and "/vvp/" not in f"/{file}":
            yield file, doc


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _walk(child, f"{path}[{i}]")


def _pod_specs(docs: list[tuple[str, Doc]]) -> Iterator[tuple[str, Doc]]:
    """Every pod spec in every document (a map with a list of containers), wherever it is nested:
    Deployments, StatefulSets, VVP pod templates, FlinkDeployment pod templates, Helm values."""
    for file, doc in docs:
        for path, value in _walk(doc):
            if isinstance(value, dict) and isinstance(value.get("containers"), list):
                yield f"{file}: {path or '.'}", value


ALL = pytest.mark.parametrize("target", TARGETS)


@ALL
def test_every_namespace_has_a_default_deny_network_policy(target: str, prod_outputs: Any) -> None:
    docs = _docs(prod_outputs, target)
    namespaces = {
        str(doc["metadata"]["namespace"])
        for _, doc in _kubernetes(docs)
        if isinstance(doc.get("metadata"), dict) and doc["metadata"].get("namespace")
    }
    assert namespaces, f"{target}: no namespaced Kubernetes object in the prod output"
    denied = set()
    for _, doc in _kubernetes(docs):
        spec = doc.get("spec") or {}
        if doc["kind"] != "NetworkPolicy" or not isinstance(spec, dict):
            continue
        selector = spec.get("podSelector") or {}
        every_pod = not selector.get("matchLabels") and not selector.get("matchExpressions")
        both = {"Ingress", "Egress"} <= set(spec.get("policyTypes") or ())
        if every_pod and both and not spec.get("ingress") and not spec.get("egress"):
            denied.add(str(doc["metadata"].get("namespace")))
    missing = sorted(namespaces - denied)
    assert not missing, f"{target}: no default-deny NetworkPolicy (podSelector {{}}, Ingress+Egress) in {missing}"


@ALL
def test_service_account_tokens_are_mounted_only_where_the_api_is_needed(target: str, prod_outputs: Any) -> None:
    docs = _docs(prod_outputs, target)
    bound: set[str] = set()
    accounts: dict[str, Doc] = {}
    for _, doc in _kubernetes(docs):
        if doc["kind"] in ("RoleBinding", "ClusterRoleBinding"):
            bound.update(str(s.get("name")) for s in doc.get("subjects") or () if s.get("kind") == "ServiceAccount")
        if doc["kind"] == "ServiceAccount":
            accounts[str(doc["metadata"]["name"])] = doc
    wrong = [
        f"ServiceAccount {name} is bound to no Role but automounts its token"
        for name, doc in sorted(accounts.items())
        if name not in bound and doc.get("automountServiceAccountToken") is not False
    ]
    for where, pod in _pod_specs(docs):
        account = pod.get("serviceAccountName") or pod.get("serviceAccount")
        if not account or account == "default":
            wrong.append(f"{where}: runs as the default ServiceAccount")
            continue
        mounted = pod.get("automountServiceAccountToken")
        if mounted is None:
            mounted = accounts.get(str(account), {}).get("automountServiceAccountToken", True)
        if mounted and account not in bound:
            wrong.append(f"{where}: mounts the token of {account}, which no RoleBinding gives any permission")
    assert not wrong, f"{target}:\n  " + "\n  ".join(wrong)


@ALL
def test_every_pod_runs_as_non_root(target: str, prod_outputs: Any) -> None:
    docs = _docs(prod_outputs, target)
    wrong = []
    pods = list(_pod_specs(docs))
    assert pods, f"{target}: no pod spec in the prod output"
    for where, pod in pods:
        context = pod.get("securityContext") or {}
        containers = [c for c in pod["containers"] if isinstance(c, dict)]
        if context.get("runAsNonRoot") is not True and not all(
            (c.get("securityContext") or {}).get("runAsNonRoot") is True for c in containers
        ):
            wrong.append(f"{where}: runAsNonRoot is not set")
        if context.get("runAsUser") == 0:
            wrong.append(f"{where}: runAsUser 0")
        for container in containers:
            own = container.get("securityContext") or {}
            name = container.get("name", "?")
            if own.get("runAsUser") == 0 or own.get("runAsNonRoot") is False:
                wrong.append(f"{where}: container {name} runs as root")
            if own.get("privileged") is True or own.get("allowPrivilegeEscalation") is True:
                wrong.append(f"{where}: container {name} is privileged or may escalate")
    for file, doc in docs:  # Helm values: the charts' own security contexts
        for path, value in _walk(doc):
            context = value if re.search(r"securitycontext$", path.lower()) and isinstance(value, dict) else {}
            if context.get("runAsUser") == 0 or context.get("runAsNonRoot") is False:
                wrong.append(f"{file}: {path} runs as root")
    assert not wrong, f"{target}:\n  " + "\n  ".join(wrong)


FLINK_KINDS = ("Deployment", "VvpDeployment", "FlinkDeployment", "SessionCluster", "FlinkSessionJob")


def _flink_deployments(docs: list[tuple[str, Doc]]) -> Iterator[tuple[str, Doc]]:
    for file, doc in docs:
        is_vvp = outputs.is_vvp_rest(doc) or "/vvp/" in f"/{file}"
        if doc.get("kind") in FLINK_KINDS and (doc["kind"] != "Deployment" or is_vvp):
            yield file, doc


def _tls(doc: Doc) -> bool:
    """VVP's auto-provisioned Flink SSL (template annotation), or Flink's own SSL options on with
    stores that both pods of the resource mount (Flink Kubernetes Operator)."""
    if doc.get("kind") == "FlinkDeployment":
        return _operator_tls(doc)
    for path, value in _walk(doc):
        annotations = value if path.endswith("annotations") and isinstance(value, dict) else {}
        if str(annotations.get("flink.security.ssl.enabled", "")).lower() == "true":
            return True
    return False


SSL_SCOPES = ("internal", "rest")


def _operator_tls(doc: Doc) -> bool:
    spec = doc["spec"]
    conf: dict[str, str] = spec["flinkConfiguration"]
    if not all(conf.get(f"security.ssl.{scope}.enabled") == "true" for scope in SSL_SCOPES):
        return False
    stores = [
        conf.get(f"security.ssl.{scope}.{store}", "") for scope in SSL_SCOPES for store in ("keystore", "truststore")
    ]
    if not all(stores):
        return False
    for component in ("jobManager", "taskManager"):
        pod = spec[component]["podTemplate"]["spec"]
        mounts = [m["mountPath"].rstrip("/") + "/" for c in pod["containers"] for m in c.get("volumeMounts", [])]
        if not all(store.startswith(tuple(mounts)) for store in stores):
            return False
    # the passwords reach Flink from the environment (a Secret), never as text of the resource
    for component in ("jobmanager", "taskmanager"):
        args = conf.get(f"kubernetes.{component}.entrypoint.args", "")
        for scope in SSL_SCOPES:
            for key in ("keystore-password", "key-password", "truststore-password"):
                option = f"security.ssl.{scope}.{key}"
                if option in conf or f'-D{option}="${{' not in args:
                    return False
    return True


@ALL
def test_every_flink_deployment_has_tls(target: str, prod_outputs: Any) -> None:
    docs = _docs(prod_outputs, target)
    deployments = list(_flink_deployments(docs))
    assert deployments, f"{target}: no Flink deployment in the prod output"
    missing = [f"{file} ({doc['kind']} {doc['metadata']['name']})" for file, doc in deployments if not _tls(doc)]
    assert not missing, (
        f"{target}: TLS is not enabled (flink.security.ssl.enabled annotation, or security.ssl.internal.enabled "
        "and security.ssl.rest.enabled) in:\n  " + "\n  ".join(missing)
    )


def test_user_templates_run_in_the_sandbox() -> None:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from generator.config import resolve

    assert isinstance(resolve._TEMPLATES.env, ImmutableSandboxedEnvironment)


# -- planted credentials ------------------------------------------------------------------------------
FLINK_CONF_ANCHOR = "      kubernetes:\n        pods:\n          nodeSelector:\n"
PLANTINGS = {
    "s3-secret-key": (
        "environments/prod.yaml",
        FLINK_CONF_ANCHOR,
        f"      flinkConfiguration:\n        s3.secret-key: {secrets.S3_SECRET_KEY}\n"
        f"        s3.access-key: {secrets.S3_ACCESS_KEY}\n{FLINK_CONF_ANCHOR}",
    ),
    "kafka-jaas-password": (
        "profiles/stateful-heavy.yaml",
        "      flinkConfiguration:\n",
        "      flinkConfiguration:\n        properties.sasl.jaas.config: >-\n"
        "          org.apache.kafka.common.security.plain.PlainLoginModule required\n"
        f'          username="fraud" password="{secrets.KAFKA_PASSWORD}";\n',
    ),
    "env-var-value": (
        "namespaces/analytics.yaml",
        "spec:\n",
        "spec:\n  template:\n    spec:\n      kubernetes:\n        pods:\n          envVars:\n"
        f"            - name: DB_PASSWORD\n              value: {secrets.DB_PASSWORD}\n",
    ),
    "password-in-a-uri": (
        "environments/prod.yaml",
        '          url: "jdbc:postgresql://vvp-db.{{ env }}.acme.internal:5432/vvp"\n',
        f'          url: "jdbc:postgresql://vvp:{secrets.DB_PASSWORD}@vvp-db.{{{{ env }}}}.acme.internal:5432/vvp"\n',
    ),
    "token-option": (
        "deployments/analytics/fraud-scoring.yaml",
        "      numberOfTaskManagers: 4\n",
        "      numberOfTaskManagers: 4\n      flinkConfiguration:\n"
        f"        metrics.reporter.x.api-key: {secrets.API_TOKEN}\n",
    ),
}


@pytest.mark.parametrize("planting", sorted(PLANTINGS))
@pytest.mark.parametrize("target", TARGETS)
def test_a_planted_credential_is_refused_and_never_rendered(
    planting: str, target: str, config: Path, tmp_path: Path
) -> None:
    file, old, new = PLANTINGS[planting]
    edit(config / file, old, new)
    out = tmp_path / "out"
    result = run_cli("render", "-e", "prod", "-t", target, "-c", str(config), "-o", str(out))
    # refused with a located message that names the file; the secret is in no message and no file
    assert result.code == 2, f"a planted credential ({planting}) was accepted:\n{result.stderr}"
    assert re.search(rf"{re.escape(file)}:\d+:\d+: ", result.stderr), result.stderr
    for secret in secrets.PLANTED:
        assert secret not in result.stdout + result.stderr
    assert not out.exists()


def test_the_scanner_finds_a_planted_value_in_an_output(config: Path, tmp_path: Path) -> None:
    """The scanner itself: a planted value gen cannot know is a secret (a display name) is found."""
    edit(
        config / "deployments/analytics/fraud-scoring.yaml",
        "  displayName: Fraud scoring\n",
        f"  displayName: Fraud scoring {secrets.API_TOKEN}\n",
    )
    out = tmp_path / "scanned"
    assert run_cli("render", "-e", "prod", "-c", str(config), "-o", str(out)).code == 0
    found = secrets.scan(out)
    assert found and all(secrets.API_TOKEN in hit for hit in found)
    assert [out] == list(secrets.output_folders(tmp_path))
    import shutil

    shutil.rmtree(out)  # the autouse scan would (rightly) fail this test otherwise
    secrets._written.clear()
