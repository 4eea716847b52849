"""The documents of the flink-operator target.

Per deployment: a ``FlinkDeployment`` with a ``job`` (application mode), or, when the deployment
names ``spec.sessionClusterName``, a ``FlinkSessionJob``. Per namespace: one ``FlinkDeployment``
without ``job`` for every session cluster its jobs name, built from the namespace defaults and the
profile ``platform.vvp.sessionCluster.profile`` names (as VVP's SessionCluster is). The Flink
configuration is the effective one the VVP target writes, except for the keys a platform owns (see
``OWNED_KEYS`` and ``ADDED_KEYS`` in :mod:`generator.targets.flink_operator.settings`); a session
job carries job-level keys only (cluster-level ones are its cluster's, as on VVP).

The operator's own rules (:mod:`generator.targets.flink_operator.checks`) are checked before
anything renders and reported as problems located at the value that breaks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.errors import InputError, Problem
from generator.flink import options
from generator.model import session as session_rules
from generator.model.keys import FLINK_CONF, FLINK_OPERATOR, LOGGERS, SESSION_CLUSTER
from generator.render import pods
from generator.render.context import Doc, NamespaceContext
from generator.render.engine import render_template, template
from generator.targets.flink_operator import artifacts
from generator.targets.flink_operator.checks import check_cluster, check_job, check_keys, check_name
from generator.targets.flink_operator.images import image
from generator.targets.flink_operator.secrets import check_secrets, dynamic_properties, tls_of
from generator.targets.flink_operator.session import jar_problems
from generator.targets.flink_operator.settings import (
    JM_REPLICAS_KEY,
    JOB_LAYERS,
    JOB_NONCES,
    OWNED_KEYS,
    TM_SERVICE_ACCOUNT_KEY,
    chart_problems,
    deployment_file,
    job_settings,
    job_state,
    operator_conf,
    operator_flink_version,
    operator_mode,
    problem_at,
    upgrade_mode,
)


def flink_configuration(eff: Effective) -> dict[str, str]:
    """The Flink configuration of a FlinkDeployment: the shared one in the form the deployment's
    Flink version reads, without the keys the operator owns, plus the keys it adds."""
    m = model.of(eff)
    version = options.parse_version(m.flink_version)
    conf = {options.emit_key(k, version): v for k, v in m.conf.items() if k not in OWNED_KEYS}
    conf[TM_SERVICE_ACCOUNT_KEY] = pods.service_account(eff, "taskmanager")
    tls = tls_of(eff)
    if tls is not None:
        conf.update(tls.configuration())
    conf.update(operator_conf(m))
    return dynamic_properties(dict(sorted(conf.items())))


def jobmanager_replicas(eff: Effective) -> int:
    return int(model.of(eff).conf.get(JM_REPLICAS_KEY, "1"))


def taskmanager_replicas(eff: Effective) -> int | None:
    """``numberOfTaskManagers`` when it gives exactly ``parallelism`` slots, else None.

    The operator turns ``taskManager.replicas`` into the job's parallelism (replicas x slots);
    when VVP's count has spare slots it is left out and the operator starts
    ceil(parallelism / slots) TaskManagers, so the job keeps its parallelism either way.
    """
    m = model.of(eff)
    tms = m.number_of_task_managers
    if tms is None:
        return None
    if m.parallelism is None or tms * m.slots == m.parallelism:
        return tms
    return None


def resource(eff: Effective, component: str) -> dict[str, Any]:
    """The operator's ``resource`` of a component; ``ephemeralStorage`` is a field of it (the
    operator writes it as the container's request and limit)."""
    spec = model.of(eff).resources[component].raw
    return {key: spec[key] for key in ("cpu", "memory", "ephemeralStorage") if key in spec}


def ingress(eff: Effective) -> dict[str, Any]:
    """The operator's ``spec.ingress`` (its URL template passes through verbatim), or nothing."""
    raw = model.of(eff).operator.ingress
    return {key: raw[key] for key in ("template", "className", "annotations", "labels", "tls") if raw.get(key)}


def log_configuration(eff: Effective) -> dict[str, str]:
    """``platform.flinkOperator.logConfiguration`` as written (a whole logging configuration), else
    ``log4jLoggers`` as the pods' log4j-console.properties; nothing when they are Flink's default."""
    own = model.of(eff).operator.log_configuration
    if own:
        return {str(name): str(text) for name, text in sorted(own.items())}
    loggers = model.of(eff).loggers
    named = sorted((name, level) for name, level in loggers.items() if name)
    root = str(loggers.get("", "INFO"))
    if not named and root == "INFO":
        return {}
    text = template("flink-operator/log4j-console.properties.j2").render(
        root_level=root, loggers=[{"name": n, "level": lvl} for n, lvl in named]
    )
    return {"log4j-console.properties": text}


def logging_problems(eff: Effective) -> list[Problem]:
    """Logger levels next to a whole logging configuration that would silently replace them."""
    m = model.of(eff)
    named = any(name for name in m.loggers) or str(m.loggers.get("", "INFO")) != "INFO"
    if m.operator.log_configuration and named:
        return [
            m.problem(
                LOGGERS,
                "log4jLoggers would be ignored: platform.flinkOperator.logConfiguration replaces the whole "
                "logging configuration",
                "set the levels inside logConfiguration, or leave logConfiguration out",
            )
        ]
    return []


def job_spec(eff: Effective) -> dict[str, Any]:
    m = model.of(eff)
    job: dict[str, Any] = {
        **artifacts.job_fields(eff),
        "parallelism": m.parallelism,
        "upgradeMode": upgrade_mode(m),
        "state": job_state(m),
    }
    if m.allow_non_restored_state is not None:
        job["allowNonRestoredState"] = bool(m.allow_non_restored_state)
    per_job = job_settings(m)
    for key in (*JOB_NONCES, "initialSavepointPath"):
        if key in per_job:
            job[key] = per_job[key]
    return job


def _metadata(eff: Effective) -> tuple[dict[str, str], dict[str, str]]:
    m = model.of(eff)
    return dict(m.labels), dict(m.annotations)


def flink_deployment(eff: Effective, name: str, job: Mapping[str, Any] | None) -> dict[str, Any]:
    """A FlinkDeployment named ``name``: an application cluster with ``job``, else a session cluster."""
    problems: list[Problem] = []
    m = model.of(eff)
    flink_image = image(eff, m.operator.image, (*FLINK_OPERATOR, "image"), problems, flink_version=m.flink_version)
    if flink_image is None:
        raise InputError(problems)
    mode = operator_mode(m)
    settings = pods.OPERATOR_NATIVE_PODS if mode == "native" else pods.OPERATOR_PODS
    labels, annotations = _metadata(eff)
    jobmanager_pod = pods.pod_template(eff, "jobmanager", settings)
    taskmanager_pod = pods.pod_template(eff, "taskmanager", settings)
    tls = tls_of(eff)
    if tls is not None:
        jobmanager_pod, taskmanager_pod = tls.add_to(jobmanager_pod), tls.add_to(taskmanager_pod)
        pods.check_additions(eff, "jobmanager", jobmanager_pod)
        pods.check_additions(eff, "taskmanager", taskmanager_pod)
    if job is not None and m.artifact.kind == "SQLSCRIPT":
        jobmanager_pod = artifacts.mount_sql_script(eff, jobmanager_pod)
    return render_template(
        "flink-operator/FlinkDeployment.yaml.j2",
        name=name,
        namespace=m.kubernetes_namespace,
        labels=labels,
        annotations=annotations,
        image={"reference": flink_image.reference, "pull_policy": flink_image.pull_policy},
        flink_version=operator_flink_version(m.flink_version),
        mode=mode,
        service_account=pods.service_account(eff, "jobmanager"),
        flink_configuration=flink_configuration(eff),
        log_configuration=log_configuration(eff),
        jobmanager_replicas=jobmanager_replicas(eff),
        jobmanager_resource=resource(eff, "jobmanager"),
        jobmanager_pod=jobmanager_pod,
        taskmanager_replicas=taskmanager_replicas(eff) if job is not None else m.number_of_task_managers,
        taskmanager_resource=resource(eff, "taskmanager"),
        taskmanager_pod=taskmanager_pod,
        job=job,
        ingress=ingress(eff),
        restart_nonce=job_settings(m).get("restartNonce") if job is not None else None,
    )


#: ``platform`` sections that describe platforms and policies, not values for Flink keys' templates
_NOT_TEMPLATE_INPUTS = frozenset(
    {"flinkOperator", "vvp", "kubernetes", "monitoring", "alerts", "policy", "target", "tolerance"}
)


def _job_changed_platform(eff: Effective) -> bool:
    """Whether a job layer changed a ``platform`` value that Flink keys' templates read
    (``{{ platform.storage.baseUri }}``)."""
    for path, chain in eff.provenance.items():
        if len(path) < 2 or path[0] != "platform" or path[1] in _NOT_TEMPLATE_INPUTS:
            continue
        if chain and chain[-1].layer.startswith(JOB_LAYERS):
            return True
    return False


def session_job_configuration(eff: Effective) -> dict[str, str]:
    """What one job in session mode sets beyond its session cluster (built from the namespace
    defaults): the keys its profile, its own file or ``--set`` decided, values rendered from a
    template when the job changed what the template reads, and the operator keys."""
    m = model.of(eff)
    version = options.parse_version(m.flink_version)
    platform_changed = _job_changed_platform(eff)
    conf: dict[str, str] = {}
    for key, value in m.conf.items():
        if key in OWNED_KEYS or session_rules.is_cluster_option(key):
            continue
        chain = eff.provenance.get((*FLINK_CONF, key), ())
        last = chain[-1] if chain else None
        templated = last is not None and isinstance(last.value, str) and ("{{" in last.value or "{%" in last.value)
        if last is None or last.layer.startswith(JOB_LAYERS) or (templated and platform_changed):
            conf[options.emit_key(key, version)] = value
    conf.update(operator_conf(m))
    return dict(sorted(conf.items()))


#: The operator target's own settings that belong to the session cluster, not to one session job.
_OPERATOR_CLUSTER_SETTINGS = (
    ((*FLINK_OPERATOR, "image"), "the session cluster's image runs every session job"),
    ((*FLINK_OPERATOR, "mode"), "the session cluster's mode is the cluster's"),
    ((*FLINK_OPERATOR, "tls"), "TLS is configured for the whole session cluster"),
)


def session_job(eff: Effective) -> dict[str, Any]:
    m = model.of(eff)
    labels, annotations = _metadata(eff)
    return render_template(
        "flink-operator/FlinkSessionJob.yaml.j2",
        name=m.name,
        namespace=m.kubernetes_namespace,
        labels=labels,
        annotations=annotations,
        deployment_name=m.session_cluster,
        flink_configuration=session_job_configuration(eff),
        job=job_spec(eff),
        restart_nonce=job_settings(m).get("restartNonce"),
    )


def deployment_docs(eff: Effective) -> list[Doc]:
    """A FlinkDeployment (application mode) or a FlinkSessionJob (session mode) for one deployment."""
    m = model.of(eff)
    if m.session:
        version = options.parse_version(m.flink_version)
        job_conf = session_job_configuration(eff)
        job_keys = {k: v for k, v in m.conf.items() if options.emit_key(k, version) in job_conf}
        problems = (
            check_name(eff, str(m.session_cluster), SESSION_CLUSTER)
            + session_rules.session_problems(m, _OPERATOR_CLUSTER_SETTINGS)
            + check_keys(eff)
            + chart_problems(eff)
            + check_job(eff)
            + jar_problems(eff)
            + check_secrets(eff, job_keys, session_job=True)
        )
        if problems:
            raise InputError(problems)
        return [Doc(session_job(eff))]
    problems = (
        check_name(eff, m.name, None)
        + check_keys(eff)
        + chart_problems(eff)
        + check_cluster(eff)
        + check_job(eff)
        + check_secrets(eff, m.conf)
        + logging_problems(eff)
    )
    if problems:
        raise InputError(problems)
    docs = [Doc(flink_deployment(eff, m.name, job_spec(eff)))]
    if m.artifact.kind == "SQLSCRIPT":
        docs.append(Doc(artifacts.sql_config_map(eff)))
    return docs


def session_clusters(ctx: NamespaceContext) -> dict[str, Effective]:
    """Session clusters the namespace's rendered FlinkSessionJobs name -> the first job naming it."""
    names: dict[str, Effective] = {}
    for eff in ctx.deployments:
        for doc in ctx.documents.get(eff.deployment, ()):
            if doc.content.get("kind") == "FlinkSessionJob":
                names.setdefault(str(doc.content["spec"]["deploymentName"]), eff)
    return names


def session_cluster_base(ctx: NamespaceContext) -> Effective:
    """What a session cluster is built from: the namespace defaults (baseline, namespace,
    environment) with the profile ``platform.vvp.sessionCluster.profile`` names, as VVP's
    SessionCluster is."""
    profile = model.of(ctx.effective).vvp.session_cluster.profile
    if profile and ctx.resolver is not None:
        return ctx.resolver.namespace(ctx.env, ctx.namespace, profile)
    return ctx.effective


def session_cluster_docs(ctx: NamespaceContext) -> list[Doc]:
    """One FlinkDeployment without job per session cluster, built from :func:`session_cluster_base`;
    each job on it must fit its slots."""
    clusters = session_clusters(ctx)
    problems: list[Problem] = []
    applications = {eff.deployment: eff for eff in ctx.deployments if not model.of(eff).session}
    docs: list[Doc] = []
    base = session_cluster_base(ctx) if clusters else ctx.effective
    for name, first_job in sorted(clusters.items()):
        if name in applications:
            problems.append(
                problem_at(
                    first_job,
                    SESSION_CLUSTER,
                    f"session cluster '{name}' has the name of the deployment in "
                    f"{deployment_file(applications[name])}: both would be FlinkDeployment {name}",
                    "rename the session cluster",
                )
            )
            continue
        found = (
            check_keys(base)
            + check_cluster(base)
            + check_secrets(base, model.of(base).conf)
            + logging_problems(base)
            + session_rules.capacity_problems(model.of(base), name, map(model.of, ctx.deployments))
        )
        problems.extend(found)
        if not found:
            # the namespace's pods carry the cluster's name where a deployment's carry its own
            cluster = replace(base, deployment=name)
            docs.append(Doc(flink_deployment(cluster, name, None)))
    if problems:
        raise InputError(problems)
    return docs
