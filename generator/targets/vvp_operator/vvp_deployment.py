"""The ``VvpDeployment`` custom resource (target ``vvp-operator``), one per deployment.

``VvpDeployment`` follows the contract of the Ververica Platform 3 Kubernetes operator (see
docs/vvp.md and https://docs.ververica.com/): ``spec.deployment.metadata``, ``syncingMode``,
``initFields`` (PATCH only), the nonces, the ``ververica.platform/owner`` label and the
``apikeySecretName`` annotation. A VVP 3 deployment names its engine with
``artifact.engineVersionName`` instead of the VVP 2 fields ``flinkVersion`` and ``flinkImage*``;
the renderer maps the deployment's Flink version through the approved engine catalog
``platform.vvp.operator.engineVersions``. Every other field of the embedded deployment is the same
as in the REST Deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem
from generator.model import images, keys
from generator.model.session import IMAGE_FIELDS, set_explicitly
from generator.render.context import Doc
from generator.render.engine import render_template
from generator.targets.vvp import versions
from generator.targets.vvp.spec import (
    cross_target_problems,
    deployment_metadata,
    deployment_spec,
    invariant_problems,
    operator_job_settings,
    problem,
    raise_problems,
    session_problems,
)

OWNER_LABEL = "ververica.platform/owner"
APIKEY_ANNOTATION = "apikeySecretName"
DEFAULT_SYNCING_MODE = "PATCH"
DEFAULT_INIT_FIELDS = ("resources", "logging")
DEFAULT_INITIAL_STATE = "CANCELLED"
#: the embedded deployment has the input's shape: ``spec.deployment.spec.X`` is written from ``spec.X``
INPUT_FIELDS: Mapping[Path_, Path_] = {
    ("spec", "deployment", "spec"): keys.SPEC,
    ("spec", "deployment", "metadata"): keys.METADATA,
}
#: The VvpDeployment's nonces and the Flink operator target's field with the same intent.
FLINK_OPERATOR_NONCES = {"savepointNonce": "savepointTriggerNonce", "restartNonce": "restartNonce"}


def _operator(m: model.Deployment, key: str, default: Any = None) -> Any:
    """A setting of ``platform.vvp.operator`` (``default`` when unset)."""
    value = m.vvp.operator.get(key)
    return default if value is None else value


def _operator_problems(eff: Effective) -> list[Problem]:
    m = model.of(eff)
    found: list[Problem] = []
    platform_version = versions.of(m, versions.DEFAULT_OPERATOR)
    if platform_version[:2] < versions.DEFAULT_OPERATOR:
        found.append(
            problem(
                eff,
                versions.PATH,
                "target vvp-operator renders the VvpDeployment of the VVP 3 operator (Ververica Platform 3.1 or "
                f"later), not VVP {versions.text(platform_version)}'s: VVP 2 operator resources have another shape "
                "(spec.deployment.userMetadata) and are not directly compatible",
                "use target vvp (the AppManager's REST resources, delivered with gen vvp apply) on VVP 2, or set "
                "platform.vvp.version to the VVP 3 installation's version",
            )
        )
    for key, what in (("instanceId", "the operator's instanceId"), ("apiTokenSecret", "the API-token Secret")):
        if not _operator(m, key):
            found.append(
                problem(
                    eff,
                    (*keys.VVP_OPERATOR, key),
                    f"target vvp-operator needs platform.vvp.operator.{key} ({what})",
                    "set it in the namespace defaults",
                )
            )
    version = m.flink_version
    engines: dict[str, str] = _operator(m, "engineVersions", {})
    engine = engines.get(version)
    if engine is None:
        found.append(
            problem(
                eff,
                (*keys.ARTIFACT, "flinkVersion"),
                f"no approved engine version for Flink {version} in platform.vvp.operator.engineVersions",
                f'add "{version}": vera-<x.y>-flink-{version} to the catalog'
                + (f" (it has {', '.join(sorted(engines))})" if engines else ""),
            )
        )
    elif not engine.endswith(f"-flink-{version}"):
        found.append(
            problem(
                eff,
                (*keys.VVP_OPERATOR, "engineVersions", version),
                f"engine version '{engine}' does not run Flink {version}",
                f'map "{version}" to an engine named vera-<x.y>-flink-{version}',
            )
        )
    flink_operator = operator_job_settings(m)
    for nonce, equivalent in FLINK_OPERATOR_NONCES.items():
        path = (*keys.VVP_OPERATOR, nonce)
        if _operator(m, nonce) is not None and not set_explicitly(eff, path):
            found.append(
                problem(
                    eff,
                    path,
                    f"{nonce} triggers an operation on one deployment; a shared layer would trigger it on all",
                    "set it in the deployment's own file",
                )
            )
        other = flink_operator.get(equivalent)
        other_path = (*keys.FLINK_OPERATOR, equivalent)
        if other is None:
            continue
        if _operator(m, nonce) is not None and _operator(m, nonce) != other:
            found.append(
                problem(
                    eff,
                    other_path,
                    f"{equivalent} {other} is this target's {nonce}, which is set to {_operator(m, nonce)}",
                    "keep one of them",
                )
            )
        elif not set_explicitly(eff, other_path):
            found.append(
                problem(
                    eff,
                    other_path,
                    f"{equivalent} triggers an operation on one deployment; a shared layer would trigger it on all",
                    "set it in the deployment's own file",
                )
            )
    found.extend(cross_target_problems(eff, tuple(FLINK_OPERATOR_NONCES.values())))
    repository = m.artifact.flink_image_repository
    if repository and not images.is_official_flink(repository):
        found.append(
            problem(
                eff,
                (*keys.ARTIFACT, "flinkImageRepository"),
                f"application image '{repository}' cannot run on VVP 3: a VvpDeployment names its engine with "
                "artifact.engineVersionName, which picks the image",
                "run the jar from the artifact (jarUri) on an approved engine, or render for vvp or flink-operator",
            )
        )
    return found


def _nonce(m: model.Deployment, nonce: str) -> Any:
    """A nonce of the VvpDeployment: its own, else the Flink operator's equivalent (the same intent)."""
    own = _operator(m, nonce)
    return own if own is not None else operator_job_settings(m).get(FLINK_OPERATOR_NONCES[nonce])


def vvp_deployment(eff: Effective) -> dict[str, Any]:
    """The VvpDeployment custom resource (VVP 3 operator) for one deployment."""
    m = model.of(eff)
    spec = deployment_spec(eff)
    if not set_explicitly(eff, keys.STATE):
        spec["state"] = _operator(m, "initialState", DEFAULT_INITIAL_STATE)
    artifact = spec["template"]["spec"]["artifact"]
    for key in ("flinkVersion", *IMAGE_FIELDS):
        artifact.pop(key, None)
    artifact["engineVersionName"] = _operator(m, "engineVersions", {})[m.flink_version]
    mode = _operator(m, "syncingMode", DEFAULT_SYNCING_MODE)
    init_fields: dict[str, Any] = {}
    if mode == "PATCH":
        template_spec = spec["template"]["spec"]
        for key in _operator(m, "initFields", list(DEFAULT_INIT_FIELDS)):
            if key in template_spec:
                init_fields[key] = template_spec.pop(key)
    cr_spec: dict[str, Any] = {
        "syncingMode": mode,
        "deployment": {"metadata": deployment_metadata(eff), "spec": spec},
    }
    if init_fields:
        cr_spec["initFields"] = {"spec": {"template": {"spec": init_fields}}}
    for nonce in FLINK_OPERATOR_NONCES:
        if _nonce(m, nonce) is not None:
            cr_spec[nonce] = _nonce(m, nonce)
    labels = {
        OWNER_LABEL: str(_operator(m, "instanceId")),
        "app.kubernetes.io/name": "flink",
        "app.kubernetes.io/instance": m.name,
        "app.kubernetes.io/managed-by": "gen",
    }
    metadata = {
        "name": m.name,
        "namespace": m.kubernetes_namespace,
        "labels": labels,
        "annotations": {APIKEY_ANNOTATION: str(_operator(m, "apiTokenSecret"))},
    }
    return render_template("vvp/VvpDeployment.yaml.j2", metadata=metadata, spec=cr_spec)


def deployment_docs(eff: Effective) -> list[Doc]:
    raise_problems([*invariant_problems(eff), *session_problems(eff), *_operator_problems(eff)])
    return [Doc(vvp_deployment(eff))]
