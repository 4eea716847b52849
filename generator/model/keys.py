"""Where things live in a layer file: the key paths of the sections the model reads.

Renderers and checks name values through the model (:mod:`generator.model`); they use these
constants only to say where a problem is (``model.problem(keys.DNS + ("cidrs",), ...)``).
"""

from __future__ import annotations

from generator.config.yamlload import Path_

METADATA: Path_ = ("metadata",)
SPEC: Path_ = ("spec",)
TEMPLATE_SPEC: Path_ = ("spec", "template", "spec")
TEMPLATE_ANNOTATIONS: Path_ = ("spec", "template", "metadata", "annotations")
ARTIFACT: Path_ = (*TEMPLATE_SPEC, "artifact")
RESOURCES: Path_ = (*TEMPLATE_SPEC, "resources")
FLINK_CONF: Path_ = (*TEMPLATE_SPEC, "flinkConfiguration")
KUBERNETES_OPTIONS: Path_ = (*TEMPLATE_SPEC, "kubernetes")
PODS: Path_ = (*KUBERNETES_OPTIONS, "pods")
#: component -> the key of its own pod template (PODS are merged into it when both are set)
POD_TEMPLATES: dict[str, Path_] = {
    "jobmanager": (*KUBERNETES_OPTIONS, "jobManagerPodTemplate"),
    "taskmanager": (*KUBERNETES_OPTIONS, "taskManagerPodTemplate"),
}
LOGGING: Path_ = (*TEMPLATE_SPEC, "logging")
LOGGERS: Path_ = (*LOGGING, "log4jLoggers")
UPGRADE_STRATEGY: Path_ = ("spec", "upgradeStrategy", "kind")
RESTORE_STRATEGY: Path_ = ("spec", "restoreStrategy", "kind")
ALLOW_NON_RESTORED_STATE: Path_ = ("spec", "restoreStrategy", "allowNonRestoredState")
STATE: Path_ = ("spec", "state")
DEPLOYMENT_TARGET: Path_ = ("spec", "deploymentTargetName")
SESSION_CLUSTER: Path_ = ("spec", "sessionClusterName")

PLATFORM: Path_ = ("platform",)
TARGET: Path_ = ("platform", "target")
TOLERANCE: Path_ = ("platform", "tolerance")
KUBERNETES_NAMESPACE: Path_ = ("platform", "kubernetesNamespace")
POLICY: Path_ = ("platform", "policy")
KUBERNETES: Path_ = ("platform", "kubernetes")
SERVICE_ACCOUNTS: Path_ = (*KUBERNETES, "serviceAccounts")
DNS: Path_ = (*KUBERNETES, "dns")
NETWORK_POLICY: Path_ = (*KUBERNETES, "networkPolicy")
API_SERVER: Path_ = (*KUBERNETES, "apiServer")
QUOTA: Path_ = (*KUBERNETES, "quota")
MONITORING: Path_ = ("platform", "monitoring")
ALERTS: Path_ = ("platform", "alerts")
FLINK_OPERATOR: Path_ = ("platform", "flinkOperator")
OPERATOR_CHART: Path_ = (*FLINK_OPERATOR, "chart")
OPERATOR_INGRESS: Path_ = (*FLINK_OPERATOR, "ingress")
OPERATOR_LOG_CONFIGURATION: Path_ = (*FLINK_OPERATOR, "logConfiguration")
VVP: Path_ = ("platform", "vvp")
VVP_SESSION_CLUSTER: Path_ = (*VVP, "sessionCluster")
VVP_OPERATOR: Path_ = (*VVP, "operator")
VVP_HELM: Path_ = (*VVP, "helm")
BOUNDS: Path_ = ("bounds",)
WAIVERS: Path_ = ("waivers",)
EXCEPTIONS: Path_ = ("exceptions",)
