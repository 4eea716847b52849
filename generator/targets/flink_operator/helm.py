"""Values for the ``flink-kubernetes-operator`` Helm chart (1.15), one file per environment.

The chart is installed once per environment and watches every Kubernetes namespace whose jobs
render for the flink-operator target. Its values carry:

- ``watchNamespaces``: those namespaces (the chart then creates namespaced RBAC only);
- ``defaultConfiguration``: the platform baseline (the Flink keys the baseline and environment
  layers give every namespace alike), the operator-wide keys of
  ``platform.flinkOperator.chart.defaultConfiguration``, the operator's Prometheus reporter on
  ``metrics.port`` and, when the environment has session jobs, the jar URI allowlist
  ``kubernetes.operator.user.artifacts.allowed-schemes`` set to exactly the schemes their jars use
  (:mod:`generator.targets.flink_operator.session`);
- ``jobServiceAccount``: the JobManager account the FlinkDeployments name. gen renders that
  ServiceAccount and its least-privilege Role in every namespace (``generator.render.kubernetes``:
  pods for a native JobManager's TaskManagers, ConfigMaps for Kubernetes HA), so the chart creates
  neither the account nor its broader job Role (every verb on pods, ConfigMaps and Deployments):
  one owner per object, and no more rights than the pods use;
- hardened security contexts and the operator image from the environment's registry, pinned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import InputError, Problem
from generator.flink import options
from generator.model import Deployment
from generator.model.keys import FLINK_CONF, FLINK_OPERATOR, OPERATOR_CHART, SERVICE_ACCOUNTS
from generator.render import pods
from generator.render.context import DeploymentView, Doc, EnvContext
from generator.targets.flink_operator import images, session
from generator.targets.flink_operator.settings import OWNED_KEYS, problem_at

VALUES_FILE = "helm/flink-kubernetes-operator-values.yaml"
DEFAULT_METRICS_PORT = 9999
PROM_FACTORY_KEY = "kubernetes.operator.metrics.reporter.prom.factory.class"
PROM_PORT_KEY = "kubernetes.operator.metrics.reporter.prom.port"
PROM_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
#: Layers that speak for the whole platform (not one namespace, profile or job).
PLATFORM_LAYERS = ("baseline", "environment ")
JOB_ROLE = "flink"
JOB_ROLE_BINDING = "flink-role-binding"
OPERATOR_ACCOUNT = "flink-operator"
OPERATOR_UID = 9999  # the flink user of the operator image


def pod_security_context() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": OPERATOR_UID,
        "runAsGroup": OPERATOR_UID,
        "fsGroup": OPERATOR_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    return {**pods.container_security_context(), "privileged": False}


def _platform_baseline(eff: Effective) -> dict[str, str]:
    """Flink keys of one namespace that the baseline or the environment decided, as written.

    Values rendered from a template (``{{ platform.storage.baseUri }}/checkpoints``) differ per
    namespace: they stay in each resource, never in a default every watched namespace inherits.
    """
    m = model.of(eff)
    version = options.parse_version(m.flink_version)
    conf: dict[str, str] = {}
    for key, value in m.conf.items():
        if key in OWNED_KEYS:
            continue
        chain = eff.provenance.get((*FLINK_CONF, key), ())
        if not chain or not chain[-1].layer.startswith(PLATFORM_LAYERS):
            continue
        written = chain[-1].value
        if isinstance(written, str) and ("{{" in written or "{%" in written):
            continue
        conf[options.emit_key(key, version)] = value
    return conf


def default_configuration(
    namespaces: list[Effective], problems: list[Problem], schemes: list[str] | None = None
) -> dict[str, str]:
    """The operator's default Flink configuration: the platform baseline shared by every watched
    namespace (a value one namespace renders differently, like a storage path, stays in the
    resources), then the operator-wide keys and the operator's reporter."""
    shared: dict[str, str] | None = None
    for eff in namespaces:
        conf = _platform_baseline(eff)
        shared = conf if shared is None else {k: v for k, v in shared.items() if conf.get(k) == v}
    result = dict(shared or {})
    first = namespaces[0]
    operator_keys: Mapping[str, Any] = model.of(first).operator.chart.get("defaultConfiguration") or {}
    for key, value in operator_keys.items():
        if key in (PROM_FACTORY_KEY, PROM_PORT_KEY):
            problems.append(
                problem_at(
                    first,
                    (*OPERATOR_CHART, "defaultConfiguration", key),
                    "gen sets the operator's Prometheus reporter",
                    "set platform.flinkOperator.chart.metricsPort instead",
                )
            )
        if key == session.ALLOWED_SCHEMES_KEY:
            problems.append(
                problem_at(
                    first,
                    (*OPERATOR_CHART, "defaultConfiguration", key),
                    "gen sets the operator's jar URI allowlist to exactly the schemes the environment's session "
                    "jobs use",
                    "remove it: the session jobs' jarUri decide it",
                )
            )
        result[key] = "true" if value is True else "false" if value is False else str(value)
    if schemes:
        result[session.ALLOWED_SCHEMES_KEY] = ",".join(schemes)
    result[PROM_FACTORY_KEY] = PROM_FACTORY
    result[PROM_PORT_KEY] = str(metrics_port(first))
    for key, value in result.items():
        if "#" in value or "\n" in value:
            in_conf = key in model.of(first).conf
            path = (*FLINK_CONF, key) if in_conf else (*OPERATOR_CHART, "defaultConfiguration", key)
            problems.append(
                problem_at(
                    first,
                    path,
                    "this value cannot be written into the operator's flink-conf.yaml ('#' starts a comment there)",
                )
            )
    return dict(sorted(result.items()))


def flink_conf_text(env: str, conf: Mapping[str, str]) -> str:
    lines = [f"# rendered by gen: the platform baseline of environment {env} and the operator's settings"]
    lines += [f"{key}: {value}" for key, value in conf.items()]
    return "\n".join(lines) + "\n"


def metrics_port(eff: Effective) -> int:
    return int(model.of(eff).operator.chart.get("metricsPort") or DEFAULT_METRICS_PORT)


def _agree(
    namespaces: list[Effective], value: Callable[[Deployment], Any], path: Path_, what: str, problems: list[Problem]
) -> None:
    """The chart is installed once per environment: every watched namespace must say the same
    (``value`` of its model, set at ``path``)."""
    first = namespaces[0]
    expected = json.dumps(value(model.of(first)), sort_keys=True)
    for eff in namespaces[1:]:
        if json.dumps(value(model.of(eff)), sort_keys=True) != expected:
            problems.append(
                problem_at(
                    eff,
                    path,
                    f"namespace {eff.namespace} and namespace {first.namespace} disagree on {what}, "
                    "but the operator chart is installed once per environment",
                    "set it in the baseline or the environment file, not in a namespace",
                )
            )


def _job_account(namespaces: list[Effective], deployments: list[DeploymentView], problems: list[Problem]) -> str:
    account = pods.service_account(namespaces[0], "jobmanager")
    path = (*SERVICE_ACCOUNTS, "jobmanager")

    def differs(own: str) -> str:
        return (
            f"JobManager account '{own}' differs from '{account}' of namespace {namespaces[0].namespace}: "
            "the operator chart grants one job account per environment"
        )

    hint = "use one JobManager account name for every namespace the operator watches"
    for eff in namespaces:
        own = pods.service_account(eff, "jobmanager")
        if own != account:
            problems.append(problem_at(eff, path, differs(own), hint))
    for view in deployments:
        if view.jobmanager_account != account:
            file, line, col = view.jobmanager_account_at
            problems.append(Problem(file, line, col, dotted(path), differs(view.jobmanager_account), hint))
    return account


def image_values(eff: Effective, problems: list[Problem]) -> dict[str, Any]:
    operator = model.of(eff).operator
    settings: Mapping[str, Any] = operator.chart.get("image") or {}
    found = images.image(eff, settings, (*OPERATOR_CHART, "image"), problems)
    if found is None:
        return {}
    registry = settings.get("registry") or operator.registry
    values: dict[str, Any] = {
        "repository": f"{registry}/{settings['repository']}",
        "pullPolicy": found.pull_policy or "IfNotPresent",
    }
    if settings.get("tag"):
        values["tag"] = str(settings["tag"])
    if settings.get("digest"):
        values["digest"] = str(settings["digest"])
    return values


def values(ctx: EnvContext) -> dict[str, Any] | None:
    """The chart values of one environment; None when no namespace renders for the operator."""
    namespaces = [c.effective for c in ctx.namespaces]
    if not namespaces:
        return None
    deployments = [view for c in ctx.namespaces for view in c.deployments]
    problems: list[Problem] = []
    _agree(namespaces, lambda m: m.operator.chart, OPERATOR_CHART, "the operator chart settings", problems)
    _agree(
        namespaces, lambda m: m.operator.registry, (*FLINK_OPERATOR, "registry"), "the operator's registry", problems
    )
    first = namespaces[0]
    chart = model.of(first).operator.chart
    image = image_values(first, problems)
    conf = default_configuration(namespaces, problems, session.allowed_schemes(deployments))
    account = _job_account(namespaces, deployments, problems)
    if problems:
        raise InputError(problems)
    result: dict[str, Any] = {
        "watchNamespaces": sorted({model.of(eff).kubernetes_namespace for eff in namespaces}),
        "image": image,
        "rbac": {
            "create": True,  # the operator's own Role in each watched namespace
            "jobRole": {"create": False, "name": JOB_ROLE},
            "jobRoleBinding": {"create": False, "name": JOB_ROLE_BINDING},
        },
        "operatorServiceAccount": {"create": True, "name": OPERATOR_ACCOUNT},
        "jobServiceAccount": {"create": False, "name": account},
        "podSecurityContext": pod_security_context(),
        "operatorSecurityContext": container_security_context(),
        "webhookSecurityContext": container_security_context(),
        "webhook": {"create": bool(chart.get("webhook", True))},
        "defaultConfiguration": {"create": True, "append": True, "flink-conf.yaml": flink_conf_text(ctx.env, conf)},
        "metrics": {"port": metrics_port(first)},
    }
    tls = chart.get("tls")
    if tls:
        # the operator's keystore and truststore (mounted by the chart) for the JobManagers' https REST API
        result["tls"] = {
            "create": True,
            "secretName": tls["secretName"],
            "secretKeyRef": {"name": tls["password"]["name"], "key": tls["password"]["key"]},
        }
    secrets = chart.get("imagePullSecrets")
    if secrets:
        result["imagePullSecrets"] = [{"name": s["name"]} for s in secrets]
    return result


def values_docs(ctx: EnvContext) -> list[Doc]:
    content = values(ctx)
    if content is None:
        return []
    return [Doc(content, kind_key="helm-values/flink-kubernetes-operator")]
