"""JobManager and TaskManager pod templates, built once from the effective configuration.

Users describe pods once (``spec.template.spec.kubernetes.pods``: labels, nodeSelector,
tolerations, securityContext, envVars, ...). Each platform needs more than that options block can
say — a ServiceAccount per component, a *named* metrics container port, a component label — so
every target renders full pod templates from the same description: VVP's
``jobManagerPodTemplate``/``taskManagerPodTemplate`` and the operator's ``podTemplate``s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator import model
from generator.config.resolve import Effective

COMPONENTS = ("jobmanager", "taskmanager")
METRICS_PORT_NAME = "metrics"
POD_LABEL_DEPLOYMENT = "flink-deployment"
POD_LABEL_COMPONENT = "component"
DEFAULT_SERVICE_ACCOUNTS = {"jobmanager": "flink-jobmanager", "taskmanager": "flink-taskmanager"}


@dataclass(frozen=True)
class PodSettings:
    """What a target decides about its pods (container names differ between platforms)."""

    container_names: dict[str, str]
    # components that always call the Kubernetes API (a native-mode JobManager creates its TaskManagers)
    needs_api: frozenset[str] = frozenset()


VVP_PODS = PodSettings({"jobmanager": "flink-jobmanager", "taskmanager": "flink-taskmanager"})
OPERATOR_PODS = PodSettings({"jobmanager": "flink-main-container", "taskmanager": "flink-main-container"})
OPERATOR_NATIVE_PODS = PodSettings(OPERATOR_PODS.container_names, frozenset({"jobmanager"}))


def pod_labels(eff: Effective, component: str | None = None) -> dict[str, str]:
    """Labels every Flink pod of a deployment carries; PodMonitors and policies select on them."""
    labels = {
        "app.kubernetes.io/name": "flink",
        "app.kubernetes.io/instance": eff.deployment,
        "app.kubernetes.io/managed-by": "gen",
        POD_LABEL_DEPLOYMENT: eff.deployment,
    }
    if component is not None:
        labels[POD_LABEL_COMPONENT] = component
    return labels


def service_account(eff: Effective, component: str) -> str:
    return model.of(eff).service_account(component, DEFAULT_SERVICE_ACCOUNTS[component])


def needs_kubernetes_api(eff: Effective) -> bool:
    """Kubernetes HA keeps leader election and HA metadata in ConfigMaps: the pods need the API."""
    return model.of(eff).ha.kubernetes


def metrics_port(eff: Effective) -> int:
    """The Prometheus reporter port (the first of a range): the named container port."""
    return model.of(eff).metrics_port


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
    }


def pod_template(eff: Effective, component: str, settings: PodSettings) -> dict[str, Any]:
    """A Kubernetes PodTemplateSpec for one component of one deployment."""
    pods: Mapping[str, Any] = model.of(eff).pods
    metadata: dict[str, Any] = {"labels": {**pods.get("labels", {}), **pod_labels(eff, component)}}
    if pods.get("annotations"):
        metadata["annotations"] = dict(pods["annotations"])
    container: dict[str, Any] = {
        "name": settings.container_names[component],
        "ports": [{"name": METRICS_PORT_NAME, "containerPort": metrics_port(eff), "protocol": "TCP"}],
        "securityContext": container_security_context(),
    }
    if pods.get("envVars"):
        container["env"] = [dict(v) for v in pods["envVars"]]
    spec: dict[str, Any] = {
        "serviceAccountName": service_account(eff, component),
        "automountServiceAccountToken": needs_kubernetes_api(eff) or component in settings.needs_api,
        "containers": [container],
    }
    for key in ("securityContext", "nodeSelector", "tolerations", "affinity", "imagePullSecrets"):
        if pods.get(key):
            spec[key] = pods[key]
    return {"metadata": metadata, "spec": spec}
