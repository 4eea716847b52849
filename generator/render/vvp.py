"""Ververica Platform resources rendered from an effective configuration."""

from __future__ import annotations

from typing import Any

from generator.config.resolve import Effective
from generator.render import pods
from generator.render.engine import render_template
from generator.render.plan import Doc


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
        jobmanager_pod=pods.pod_template(eff, "jobmanager", pods.VVP_PODS),
        taskmanager_pod=pods.pod_template(eff, "taskmanager", pods.VVP_PODS),
    )


def deployment_docs(eff: Effective) -> list[Doc]:
    return [Doc(deployment(eff))]
