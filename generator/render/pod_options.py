"""VVP's pod options (``spec.template.spec.kubernetes.pods``) merged into a pod template.

Ververica Platform accepts either ``pods`` or ``jobManagerPodTemplate``/``taskManagerPodTemplate``
in one Deployment, never both
(https://docs.ververica.com/vvp/user-guide/application-operations/deployments/k8s-resources). That is
a constraint on the output, not on the layers: an environment's ``pods`` (a dedicated node pool's
nodeSelector and tolerations, variables, volumes, a security context) must not be lost because a
deployment adds a sidecar through a pod template. So when the effective configuration has both, gen
renders only pod templates and merges every ``pods`` option into each component's template:
pod-level options into the pod's metadata and spec, container-level ones (``envVars``,
``volumeMounts``) into the Flink container. The result is the same on every target.

Merge rules (``merge``): maps merge key by key; a scalar, or a list that is not additive, must be
equal on both sides; additive lists are united: ``tolerations`` (each only permits, so all of them
apply) by value, and ``env``, ``volumes``, ``imagePullSecrets``, ``volumeMounts`` by their key (name,
or ``mountPath`` for mounts), where one key written twice must have the same value. Anything else is
a conflict, reported with both places, never resolved silently.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: additive lists: the field of an item that identifies it (None: the whole item)
_ADDITIVE: dict[str, str | None] = {
    "tolerations": None,
    "env": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
}

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Conflict:
    """One value the template and ``pods`` both set, differently."""

    template_path: Path  # inside the pod template
    options_path: Path  # inside the template built from ``pods`` (spec.containers[0] is the Flink container)
    template_value: Any
    options_value: Any


def from_options(pods: Mapping[str, Any], main: str) -> dict[str, Any]:
    """VVP's pod options (``pods``) as a PodTemplateSpec around the main container."""
    metadata: dict[str, Any] = {}
    for key in ("labels", "annotations"):
        if pods.get(key):
            metadata[key] = dict(pods[key])
    container: dict[str, Any] = {"name": main}
    if pods.get("envVars"):
        container["env"] = [dict(v) for v in pods["envVars"]]
    spec: dict[str, Any] = {}
    mounts = pods.get("volumeMounts") or []
    if mounts:
        container["volumeMounts"] = [{**m.get("volumeMount", {}), "name": m["name"]} for m in mounts]
        spec["volumes"] = [{**m.get("volume", {}), "name": m["name"]} for m in mounts]
    spec["containers"] = [container]
    for key in ("securityContext", "nodeSelector", "tolerations", "affinity", "imagePullSecrets"):
        if pods.get(key):
            spec[key] = copy.deepcopy(pods[key])
    return {"metadata": metadata, "spec": spec}


def merge_into(template: dict[str, Any], options: Mapping[str, Any], main_index: int) -> list[Conflict]:
    """Merge the template built from ``pods`` (:func:`from_options`) into ``template`` in place; its
    Flink container is ``template.spec.containers[main_index]``. Returns the conflicts."""
    found: list[Conflict] = []
    for key in ("metadata", "spec"):
        mine = template.setdefault(key, {})
        theirs = dict(options.get(key) or {})
        if key == "spec":
            container = (theirs.pop("containers", None) or [{}])[0]
            _merge_map(
                template["spec"]["containers"][main_index],
                {k: v for k, v in container.items() if k != "name"},
                ("spec", "containers", main_index),
                ("spec", "containers", 0),
                found,
            )
        _merge_map(mine, theirs, (key,), (key,), found)
    return found


def _merge_map(mine: dict[str, Any], theirs: Mapping[str, Any], at: Path, opt_at: Path, found: list[Conflict]) -> None:
    for key, value in theirs.items():
        if key not in mine or mine[key] is None:
            mine[key] = copy.deepcopy(value)
        else:
            _merge_value(mine, key, value, (*at, key), (*opt_at, key), found)


def _merge_value(parent: dict[str, Any], key: str, value: Any, at: Path, opt_at: Path, found: list[Conflict]) -> None:
    current = parent[key]
    if isinstance(current, dict) and isinstance(value, Mapping):
        _merge_map(current, value, at, opt_at, found)
    elif isinstance(current, list) and isinstance(value, list) and key in _ADDITIVE:
        _merge_list(current, value, _ADDITIVE[key], at, opt_at, found)
    elif current != value:
        found.append(Conflict(at, opt_at, current, value))


def _merge_list(
    mine: list[Any], theirs: list[Any], ident: str | None, at: Path, opt_at: Path, found: list[Conflict]
) -> None:
    def identity(item: Any) -> Any:
        if ident is None or not isinstance(item, Mapping):
            return repr(item)
        return item.get(ident)

    index = {identity(item): i for i, item in enumerate(mine)}
    for k, item in enumerate(theirs):
        i = index.get(identity(item))
        if i is None:
            mine.append(copy.deepcopy(item))
        elif mine[i] != item:
            found.append(Conflict((*at, i), (*opt_at, k), mine[i], item))
