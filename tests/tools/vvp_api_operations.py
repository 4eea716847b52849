"""Describe the AppManager API operations ``gen vvp apply`` may use, from the VVP 2.4 API definition.

Usage::

    python tests/tools/vvp_api_operations.py path/to/vvp-appmanager-api-2.4.swagger.json \
        [-o tests/data/vvp_api_2_4_operations.json]

For the four resources gen renders (Deployment, DeploymentDefaults, DeploymentTarget, SessionCluster)
the output lists every operation of the API: the HTTP method, the path template, the query parameters,
the resource kind its request body carries (``null`` for none) and the status codes of success. The
request-body kinds are the kinds of ``tests/data/vvp_api_2_4_fields.json``, which describes their
fields. The AppManager types the body of ``PUT .../deployments/{name}`` as a bare JSON object; it is
described here as a Deployment (``bodyInferred``).

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

COLLECTIONS = {
    "deployments": "Deployment",
    "deployment-defaults": "DeploymentDefaults",
    "deployment-targets": "DeploymentTarget",
    "sessionclusters": "SessionCluster",
}
_REF = "#/definitions/"


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path, item in sorted(spec["paths"].items()):
        parts = path.strip("/").split("/")
        if len(parts) < 5 or parts[:3] != ["api", "v1", "namespaces"] or parts[4] not in COLLECTIONS:
            continue
        kind = COLLECTIONS[parts[4]]
        for method, op in sorted(item.items()):
            if method == "parameters":
                continue
            body = [p for p in op.get("parameters", []) if p.get("in") == "body"]
            entry: dict[str, Any] = {"method": method.upper(), "path": path, "resource": kind}
            entry["query"] = sorted(p["name"] for p in op.get("parameters", []) if p.get("in") == "query")
            body_kind = None
            if body:
                ref = body[0]["schema"].get("$ref", "")
                name = ref.removeprefix(_REF)
                if name == kind:
                    body_kind = kind
                elif name == "ObjectNode":
                    body_kind, entry["bodyInferred"] = kind, True
                else:
                    raise SystemExit(f"{method.upper()} {path}: unexpected request body {ref!r}")
            entry["body"] = body_kind
            entry["success"] = sorted(int(code) for code in op.get("responses", {}) if code.startswith("2"))
            out.append(entry)
    return out


def main(argv: list[str] | None = None) -> int:
    default_out = Path(__file__).resolve().parents[1] / "data" / "vvp_api_2_4_operations.json"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("definition", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=default_out)
    args = parser.parse_args(argv)
    raw = args.definition.read_bytes()
    spec = json.loads(raw)
    result = {
        "source": {
            "file": args.definition.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
        },
        "authentication": "an API token in the Authorization header (Bearer)",
        "contentTypes": sorted(set(spec.get("consumes", []))),
        "operations": operations(spec),
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(result['operations'])} operations to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
