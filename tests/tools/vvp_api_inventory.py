"""Flatten the VVP AppManager 2.4 API definition into a field inventory.

Usage::

    python tests/tools/vvp_api_inventory.py path/to/vvp-appmanager-api-2.4.swagger.json \
        [-o tests/data/vvp_api_2_4_fields.json]

For each resource kind the output holds a flat map ``"dotted.path" -> JSON type`` where the type is one
of ``string``, ``integer``, ``number``, ``boolean``, ``object``, ``array``.  Notation:

* ``a.*``   -- the value of any key of the map ``a`` (swagger ``additionalProperties``);
* ``a[]``   -- an item of the array ``a``.

Kubernetes objects (``V1*`` definitions) are not repeated under every kind: where a kind's path reaches
one, the path is listed in ``kubernetesRefs[kind]`` with the definition name, and the definition itself
is flattened once under ``kubernetes[<definition>]`` (paths relative to it).

The API types a few Kubernetes-valued fields as opaque ``JsonNode`` objects (e.g. ``Pods.affinity``).
The VVP documentation states which Kubernetes object each of them holds; those slots are resolved to the
``V1*`` definition of the same swagger file and listed under ``jsonNodeSlots`` in the output so the
inference is visible.  Everything else is read straight from the file.

The output is committed (tests must not read files outside the repository); re-run this tool only when
the API definition changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

JsonObject = dict[str, Any]

KINDS: tuple[str, ...] = ("Deployment", "DeploymentDefaults", "DeploymentTarget", "SessionCluster")

# "<Definition>.<property>" typed as JsonNode in the API -> the Kubernetes definition it carries.
# Source: the VVP documentation's "Kubernetes resources" page (https://docs.ververica.com/): affinity
# is a V1Affinity, tolerations are V1Tolerations, securityContext is a V1PodSecurityContext,
# envVars[].valueFrom is a k8s EnvVarSource, volumeMounts[] is {name, volume: V1Volume, volumeMount: V1VolumeMount}.
JSON_NODE_SLOTS: dict[str, str] = {
    "Pods.affinity": "V1Affinity",
    "Pods.securityContext": "V1PodSecurityContext",
    "Pods.tolerations[]": "V1Toleration",
    "EnvVar.valueFrom": "V1EnvVarSource",
    "VolumeAndMount.volume": "V1Volume",
    "VolumeAndMount.volumeMount": "V1VolumeMount",
}

_REF_PREFIX = "#/definitions/"
_SCALARS = frozenset({"string", "integer", "number", "boolean"})


class Inventory:
    """Walks swagger 2.0 ``definitions`` and records the JSON type of every reachable path."""

    def __init__(self, definitions: JsonObject) -> None:
        self._defs = definitions
        # kind -> {path: V1 definition}; filled while flattening kinds.
        self.kubernetes_refs: dict[str, dict[str, str]] = {}
        self._current_refs: dict[str, str] | None = None

    def _definition(self, ref: str) -> tuple[str, JsonObject]:
        if not ref.startswith(_REF_PREFIX):
            raise ValueError(f"unsupported $ref {ref!r}")
        name = ref[len(_REF_PREFIX) :]
        return name, self._defs[name]

    def flatten(self, kind: str) -> dict[str, str]:
        """Paths of a VVP kind; stops at Kubernetes definitions (recorded in ``kubernetes_refs``)."""
        out: dict[str, str] = {}
        self._current_refs = self.kubernetes_refs.setdefault(kind, {})
        try:
            self._walk_definition(kind, self._defs[kind], "", out, (kind,))
        finally:
            self._current_refs = None
        return out

    def flatten_kubernetes(self, name: str) -> dict[str, str]:
        """All paths of a ``V1*`` definition, relative to it."""
        out: dict[str, str] = {}
        self._walk_definition(name, self._defs[name], "", out, (name,))
        return out

    def _walk_definition(
        self, name: str, definition: JsonObject, prefix: str, out: dict[str, str], stack: tuple[str, ...]
    ) -> None:
        for prop, schema in sorted(definition.get("properties", {}).items()):
            path = f"{prefix}.{prop}" if prefix else prop
            self._walk_schema(f"{name}.{prop}", schema, path, out, stack)

    def _walk_schema(
        self, slot: str, schema: JsonObject, path: str, out: dict[str, str], stack: tuple[str, ...]
    ) -> None:
        expansion = JSON_NODE_SLOTS.get(slot)
        if expansion is not None:
            schema = {"$ref": _REF_PREFIX + expansion}
        if "$ref" in schema:
            name, definition = self._definition(schema["$ref"])
            out[path] = _json_type(definition)
            if self._current_refs is not None and name.startswith("V1"):
                self._current_refs[path] = name
                return
            if name in stack:  # recursive type: record the node, do not descend again
                return
            self._walk_definition(name, definition, path, out, (*stack, name))
            return
        json_type = _json_type(schema)
        out[path] = json_type
        if json_type == "array":
            self._walk_schema(f"{slot}[]", schema["items"], f"{path}[]", out, stack)
        elif json_type == "object" and isinstance(schema.get("additionalProperties"), dict):
            self._walk_schema(f"{slot}.*", schema["additionalProperties"], f"{path}.*", out, stack)


def _json_type(schema: JsonObject) -> str:
    declared = schema.get("type")
    if declared in _SCALARS or declared in ("object", "array"):
        return str(declared)
    if declared is None and ("properties" in schema or "additionalProperties" in schema):
        return "object"
    raise ValueError(f"cannot determine the JSON type of {schema!r}")


def build(swagger_path: Path) -> JsonObject:
    raw = swagger_path.read_bytes()
    swagger: JsonObject = json.loads(raw)
    inventory = Inventory(swagger["definitions"])
    kinds = {kind: inventory.flatten(kind) for kind in KINDS}
    k8s_names = sorted({name for refs in inventory.kubernetes_refs.values() for name in refs.values()})
    return {
        "source": {
            "file": swagger_path.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "title": swagger["info"]["title"],
            "version": swagger["info"]["version"],
        },
        "notation": {"*": "value of any map key", "[]": "array item"},
        "jsonNodeSlots": JSON_NODE_SLOTS,
        "kinds": kinds,
        "kubernetesRefs": inventory.kubernetes_refs,
        "kubernetes": {name: inventory.flatten_kubernetes(name) for name in k8s_names},
    }


def main(argv: list[str] | None = None) -> int:
    default_out = Path(__file__).resolve().parents[1] / "data" / "vvp_api_2_4_fields.json"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("swagger", type=Path, help="VVP AppManager swagger (OpenAPI 2.0) JSON file")
    parser.add_argument("-o", "--output", type=Path, default=default_out)
    args = parser.parse_args(argv)
    result = build(args.swagger)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    counts = ", ".join(f"{kind}={len(paths)}" for kind, paths in result["kinds"].items())
    print(f"wrote {args.output} ({counts})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
