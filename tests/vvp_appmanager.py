"""A local, stateful stand-in for the Ververica Platform AppManager API, for ``gen vvp apply`` tests.

It serves HTTPS and checks every request against our own description of the AppManager 2.4 API
(with the later-version fields and the Kubernetes quantities tests/unit/test_vvp_output_schemas.py
allows, each with its public source):
``tests/data/vvp_api_2_4_operations.json`` (methods, paths, query parameters, request-body kinds) and
``tests/data/vvp_api_2_4_fields.json`` (the fields of each body and their JSON types). A request the
description does not allow is answered 400 and recorded in :attr:`AppManager.violations`; tests
assert that list is empty. State is kept per namespace, so applying twice is observable.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import subprocess
import threading
import uuid
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.unit.test_vvp_output_schemas import INVENTORY_FILE, LATER_VERSION_FIELDS, QUANTITY_SUFFIXES, ApiInventory

OPERATIONS_FILE = Path(__file__).parent / "data" / "vvp_api_2_4_operations.json"
_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "object": (dict,)}


def _compile(path: str) -> re.Pattern[str]:
    pattern = re.escape(path)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        yield path, value
        for item in value:
            yield from _leaves(item, (*path, "[]"))
    else:
        yield path, value


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


def _ends_with(path: tuple[str, ...], suffix: tuple[str, ...]) -> bool:
    """Whether ``path`` ends with ``suffix``, where ``*`` in the suffix matches any one key."""
    tail = path[-len(suffix) :]
    return len(tail) == len(suffix) and all(want in ("*", got) for got, want in zip(tail, suffix, strict=True))


class AppManager:
    def __init__(self, token: str) -> None:
        description = json.loads(OPERATIONS_FILE.read_text(encoding="utf-8"))
        self.operations = [(op, _compile(op["path"])) for op in description["operations"]]
        self.api = ApiInventory(json.loads(INVENTORY_FILE.read_text(encoding="utf-8")))
        self.token = token
        self.state: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind, namespace, name) -> resource
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.lock = threading.Lock()

    # -- the description ----------------------------------------------------------------------------
    def operation(self, method: str, path: str) -> tuple[Mapping[str, Any], dict[str, str]] | None:
        for op, pattern in self.operations:
            match = pattern.match(path)
            if match and op["method"] == method:
                return op, match.groupdict()
        return None

    def body_problems(self, kind: str, body: Any, params: Mapping[str, str]) -> list[str]:
        if not isinstance(body, dict):
            return [f"the body is not a {kind} object"]
        found: list[str] = []
        if body.get("kind", kind) != kind:
            found.append(f"kind {body.get('kind')!r} in a {kind} request")
        for path, value in _leaves(body):
            if not path:
                continue
            if kind in ("Deployment", "DeploymentDefaults") and path in LATER_VERSION_FIELDS:
                continue  # fields of later platforms than the 2.4 definition, each with its public source
            resolved = self.api.resolve(kind, path)
            dotted = ".".join(path)
            if any(_ends_with(path, s) for s in QUANTITY_SUFFIXES) and isinstance(value, (str, int, float)):
                quantity = self.api.resolve(kind, (*path, "number"))
                if resolved is not None and resolved[0] == "object" and quantity is not None:
                    continue  # a Kubernetes quantity ('500m', '2Gi'): the API's Java model is an object
            if resolved is None:
                found.append(f"{kind} has no field {dotted}")
                continue
            api_type = resolved[0]
            allowed = _TYPES.get(api_type, (list,))
            if (isinstance(value, bool) and api_type != "boolean") or not isinstance(value, allowed):
                found.append(f"{kind}.{dotted} is {api_type} in the API, not {type(value).__name__}")
        metadata = body.get("metadata") or {}
        if metadata.get("namespace") not in (None, params.get("namespace")):
            found.append(
                f"metadata.namespace {metadata.get('namespace')!r} in a request for {params.get('namespace')!r}"
            )
        if "name" in params and metadata.get("name") not in (None, params["name"]):
            found.append(f"metadata.name {metadata.get('name')!r} in a request for {params['name']!r}")
        return found

    # -- requests -----------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, Any]:
        split = urlsplit(raw_path)
        with self.lock:
            self.requests.append((method, split.path))
            if headers.get("Authorization") != f"Bearer {self.token}":
                return 401, {"message": "unauthorized"}
            found = self.operation(method, split.path)
            if found is None:
                self.violations.append(f"{method} {split.path}: no such operation in the API description")
                return 400, {"message": "not an operation of the API"}
            op, params = found
            for key in parse_qs(split.query):
                if key not in op["query"]:
                    self.violations.append(f"{method} {split.path}: query parameter {key!r} is not in the API")
            body = None
            if op["body"] is not None:
                if not (headers.get("Content-Type") or "").startswith("application/json"):
                    self.violations.append(f"{method} {split.path}: body without Content-Type application/json")
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                problems = self.body_problems(op["body"], body, params)
                if problems:
                    self.violations.extend(f"{method} {split.path}: {p}" for p in problems)
                    return 400, {"message": "; ".join(problems)}
            elif raw:
                self.violations.append(f"{method} {split.path}: a body where the API takes none")
            return self.serve(op, method, params, body)

    def serve(self, op: Mapping[str, Any], method: str, params: Mapping[str, str], body: Any) -> tuple[int, Any]:
        kind = op["resource"]
        namespace = params["namespace"]
        single = kind == "DeploymentDefaults"
        name = "" if single else params.get("name", "")
        key = (kind, namespace, name)
        if method == "GET" and not single and not name:
            items = [v for (k, ns, _), v in sorted(self.state.items()) if k == kind and ns == namespace]
            return 200, {"kind": "ResourceList", "items": copy.deepcopy(items)}
        if method == "GET":
            if single and key not in self.state:
                return 200, {"kind": kind, "apiVersion": "v1", "metadata": {"namespace": namespace}, "spec": {}}
            return (200, copy.deepcopy(self.state[key])) if key in self.state else (404, {"message": "not found"})
        if method == "POST":
            name = str(body["metadata"]["name"])
            key = (kind, namespace, name)
            if key in self.state:
                return 409, {"message": "exists"}
            stored = copy.deepcopy(body)
            stored["metadata"].update(id=str(uuid.uuid4()), namespace=namespace, resourceVersion=1)
            stored["status"] = {"state": "CREATED"} if kind in ("Deployment", "SessionCluster") else None
            if stored["status"] is None:
                del stored["status"]
            self.state[key] = stored
            return 201, copy.deepcopy(stored)
        if method in ("PATCH", "PUT"):
            if key not in self.state and not single:
                return 404, {"message": "not found"}
            current = self.state.get(key, {"kind": kind, "apiVersion": "v1", "metadata": {"namespace": namespace}})
            updated = (
                _merge_patch(current, body)
                if method == "PATCH"
                else {**copy.deepcopy(body), "status": current.get("status")}
            )
            if updated.get("status") is None:
                updated.pop("status", None)
            metadata = updated.setdefault("metadata", {})
            metadata["resourceVersion"] = int(current.get("metadata", {}).get("resourceVersion", 0)) + 1
            metadata.setdefault("id", current.get("metadata", {}).get("id", str(uuid.uuid4())))
            self.state[key] = updated
            return 200, copy.deepcopy(updated)
        if method == "DELETE":
            return (200, self.state.pop(key)) if key in self.state else (404, {"message": "not found"})
        return 405, {"message": "method"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body = self.server.app.handle(self.command, self.path, dict(self.headers.items()), raw)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    app: AppManager


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class Running:
    def __init__(self, app: AppManager, cert: Path, key: Path) -> None:
        self.app = app
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.app = app
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
