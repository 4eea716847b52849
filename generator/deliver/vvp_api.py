"""A small client of the Ververica Platform AppManager REST API (``/api/v1``), TLS verified.

The operations ``gen vvp apply`` uses (the resources and their name addressing:
https://docs.ververica.com/vvp/user-guide/application-operations/rest-api-ci-cd; the methods: the
Application Manager API reference every installation serves at ``/api/swagger.json``):

========================  ===============================================================  =======
resource                  read / create                                                     update
========================  ===============================================================  =======
DeploymentTarget          GET / POST ``/api/v1/namespaces/{ns}/deployment-targets[/{name}]``  PUT
DeploymentDefaults        GET ``/api/v1/namespaces/{ns}/deployment-defaults`` (one per ns)    PATCH
SessionCluster            GET / POST ``/api/v1/namespaces/{ns}/sessionclusters[/{name}]``     PATCH
Deployment                GET / POST ``/api/v1/namespaces/{ns}/deployments[/{name}]``         PATCH
========================  ===============================================================  =======

Deletes use ``DELETE`` on the named path. The API token goes in the ``Authorization`` header as a
Bearer token (https://docs.ververica.com/vvp/platform-operations/access-control/api-tokens); it is never printed.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from generator.errors import GenError, UsageError

COLLECTION = {
    "DeploymentTarget": "deployment-targets",
    "DeploymentDefaults": "deployment-defaults",
    "SessionCluster": "sessionclusters",
    "Deployment": "deployments",
}
UPDATE = {"DeploymentTarget": "PUT", "DeploymentDefaults": "PATCH", "SessionCluster": "PATCH", "Deployment": "PATCH"}


class ApiError(GenError):
    """The platform answered with an error (or could not be reached)."""


def collection_path(kind: str, namespace: str) -> str:
    return f"/api/v1/namespaces/{urllib.parse.quote(namespace, safe='')}/{COLLECTION[kind]}"


def item_path(kind: str, namespace: str, name: str) -> str:
    if kind == "DeploymentDefaults":  # one per namespace, addressed by the namespace alone
        return collection_path(kind, namespace)
    return f"{collection_path(kind, namespace)}/{urllib.parse.quote(name, safe='')}"


@dataclass(frozen=True)
class Response:
    status: int
    body: Any


class Client:
    """HTTPS only; the server's certificate is verified against the system's CAs or ``ca_file``."""

    def __init__(self, url: str, token: str, *, ca_file: str | None = None, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "https" or not parsed.hostname:
            raise UsageError(
                f"--url '{url}' is not an https URL",
                hint="the API token travels with every request: give the platform's https address",
            )
        self.base = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        try:
            self._context = ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--ca-file '{ca_file}' cannot be read as CA certificates: {exc}") from None
        self._context.check_hostname = True
        self._context.verify_mode = ssl.CERT_REQUIRED

    def request(self, method: str, path: str, body: Any = None) -> Response:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self._token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self._timeout, context=self._context) as resp:
                return Response(resp.status, _json(resp.read()))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, _json(exc.read()))
        except urllib.error.URLError as exc:
            raise ApiError(f"{method} {self.base}{path}: {exc.reason}") from None
        except (TimeoutError, ConnectionError) as exc:
            raise ApiError(f"{method} {self.base}{path}: {exc}") from None

    def expect(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201, 204)) -> Response:
        response = self.request(method, path, body)
        if response.status not in ok:
            detail = response.body.get("message") if isinstance(response.body, dict) else None
            raise ApiError(
                f"{method} {self.base}{path}: HTTP {response.status}" + (f": {detail}" if detail else ""),
                hint="check the API token's role in that namespace" if response.status in (401, 403) else "",
            )
        return response


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
