"""Every rendered document is checked here before anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.errors import RenderError

VVP_REST_KINDS = frozenset({"Deployment", "DeploymentDefaults", "DeploymentTarget", "SessionCluster"})
CRD_API_GROUPS = ("monitoring.coreos.com/", "flink.apache.org/")


def is_vvp_rest(doc: Mapping[str, Any]) -> bool:
    """VVP REST resources (apiVersion v1, VVP kinds) are not Kubernetes objects."""
    return doc.get("apiVersion") == "v1" and doc.get("kind") in VVP_REST_KINDS


def problems(doc: Mapping[str, Any]) -> list[str]:
    """Schema violations of one rendered document, as ``path: message`` lines."""
    api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    if is_vvp_rest(doc) or api == "ververica.platform/v1":
        from generator.validate.vvp_schemas import error_messages, load_vvp_validators

        validator = load_vvp_validators()[kind]
        return list(error_messages(validator, doc))
    if api.startswith(CRD_API_GROUPS):
        from generator.validate.crd_schemas import check_crd

        return check_crd(doc)
    from generator.validate import kubernetes

    if kubernetes.is_builtin(doc):
        return kubernetes.problems(doc)
    raise RenderError(f"no output schema for {api} {kind}: every rendered kind must have one")


def check(doc: Mapping[str, Any], where: str) -> None:
    found = problems(doc)
    if found:
        name = doc.get("metadata", {}).get("name", "?")
        lines = "; ".join(found[:5])
        raise RenderError(f"rendered {doc.get('kind')} {name} ({where}) failed validation: {lines}")
