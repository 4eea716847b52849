"""Ververica Platform resources rendered from an effective configuration."""

from __future__ import annotations

from typing import Any

from generator.config.resolve import Effective
from generator.render.engine import render_template

POD_LABEL_DEPLOYMENT = "flink-deployment"


def pod_labels(eff: Effective) -> dict[str, str]:
    """Labels every Flink pod of a deployment carries (PodMonitors and policies select on them)."""
    return {
        "app.kubernetes.io/name": "flink",
        "app.kubernetes.io/instance": eff.deployment,
        "app.kubernetes.io/managed-by": "gen",
        POD_LABEL_DEPLOYMENT: eff.deployment,
    }


def pods(eff: Effective) -> dict[str, Any]:
    configured = eff.get(("spec", "template", "spec", "kubernetes", "pods"), {}) or {}
    result = dict(configured)
    result["labels"] = {**configured.get("labels", {}), **pod_labels(eff)}
    return result


def deployment(eff: Effective) -> dict[str, Any]:
    spec = eff.data["spec"]
    template = spec["template"]["spec"]
    return render_template(
        "vvp/Deployment.yaml.j2",
        name=eff.deployment,
        namespace=eff.namespace,
        metadata=eff.data.get("metadata", {}),
        spec=spec,
        template=template,
        template_annotations=spec["template"].get("metadata", {}).get("annotations", {}),
        flink_configuration=eff.emitted_flink_conf(),
        pods=pods(eff),
    )
