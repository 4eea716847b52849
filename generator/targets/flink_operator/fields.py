"""Which input key each field of a ``FlinkDeployment`` or ``FlinkSessionJob`` is written from, so
``gen explain spec.taskManager.replicas`` on this target explains the input key behind it.

The fields are those of the operator's custom resources
(https://nightlies.apache.org/flink/flink-kubernetes-operator-docs-stable/docs/custom-resource/reference);
how each is filled is in :mod:`.documents` and docs/flink-operator.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from generator.config.yamlload import Path_
from generator.model import keys
from generator.targets.flink_operator.settings import JOB_NONCES

_POD_FIELDS = ("nodeSelector", "tolerations", "affinity", "securityContext", "imagePullSecrets")


def _pod_template(component: str) -> dict[Path_, Path_]:
    """``spec.<component>.podTemplate.spec.<field>``: written from the pod options every pod shares."""
    return {("spec", component, "podTemplate", "spec", field): (*keys.PODS, field) for field in _POD_FIELDS}


INPUT_FIELDS: Mapping[Path_, Path_] = {
    ("metadata", "labels"): ("metadata", "labels"),
    ("metadata", "annotations"): ("metadata", "annotations"),
    ("spec", "image"): (*keys.FLINK_OPERATOR, "image"),
    ("spec", "flinkVersion"): (*keys.ARTIFACT, "flinkVersion"),
    ("spec", "flinkConfiguration"): keys.FLINK_CONF,
    ("spec", "jobManager", "replicas"): (*keys.FLINK_CONF, "kubernetes.jobmanager.replicas"),
    ("spec", "jobManager", "resource"): (*keys.RESOURCES, "jobmanager"),
    ("spec", "taskManager", "replicas"): (*keys.TEMPLATE_SPEC, "numberOfTaskManagers"),
    ("spec", "taskManager", "resource"): (*keys.RESOURCES, "taskmanager"),
    **_pod_template("jobManager"),
    **_pod_template("taskManager"),
    ("spec", "job", "jarURI"): (*keys.ARTIFACT, "jarUri"),
    ("spec", "job", "entryClass"): (*keys.ARTIFACT, "entryClass"),
    ("spec", "job", "args"): (*keys.ARTIFACT, "mainArgs"),
    ("spec", "job", "parallelism"): (*keys.TEMPLATE_SPEC, "parallelism"),
    ("spec", "job", "upgradeMode"): ("spec", "upgradeStrategy", "kind"),
    ("spec", "job", "state"): keys.STATE,
    ("spec", "job", "allowNonRestoredState"): keys.ALLOW_NON_RESTORED_STATE,
    ("spec", "deploymentName"): keys.SESSION_CLUSTER,
    ("spec", "restartNonce"): (*keys.FLINK_OPERATOR, "restartNonce"),
    **{("spec", "job", nonce): (*keys.FLINK_OPERATOR, nonce) for nonce in JOB_NONCES},
    ("spec", "job", "initialSavepointPath"): (*keys.FLINK_OPERATOR, "initialSavepointPath"),
}
