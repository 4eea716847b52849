"""``gen vvp apply``: bring the rendered Ververica Platform REST resources of an environment onto the
platform. Argo CD and Flux apply Kubernetes objects; DeploymentTargets, DeploymentDefaults,
SessionClusters and Deployments are AppManager resources, so they need this step.

Each rendered resource is compared with the platform's (GET by name): missing -> create (POST), a
field that differs -> update (the resource's documented method, :data:`vvp_api.UPDATE`), else left
alone. The comparison is one way: every field gen writes must have the same value on the platform;
fields the platform adds (ids, status, defaults) are not differences. Resources on the platform that
carry gen's ``app.kubernetes.io/managed-by: gen`` label and are no longer rendered are deleted only
with ``allow_delete``; otherwise the plan lists them as kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.deliver import vvp_api
from generator.deliver.vvp_api import COLLECTION, UPDATE, ApiError, Client, collection_path, item_path
from generator.errors import UsageError

ORDER = ("DeploymentTarget", "DeploymentDefaults", "SessionCluster", "Deployment")
"""What a resource needs exists first: targets before the deployments and session clusters that name them."""
MANAGED = ("app.kubernetes.io/managed-by", "gen")
_DELETABLE = ("Deployment", "SessionCluster", "DeploymentTarget")
SHOWN = 5  # differing fields named in a plan line


@dataclass(frozen=True)
class Resource:
    kind: str
    namespace: str
    name: str  # "" for DeploymentDefaults (one per namespace)
    body: Mapping[str, Any]
    file: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.name else f"{self.kind} {self.namespace}"


@dataclass(frozen=True)
class Action:
    verb: str  # create, update, unchanged, delete, keep
    kind: str
    namespace: str
    name: str
    method: str = ""
    path: str = ""
    body: Mapping[str, Any] | None = None
    differences: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.name else f"{self.kind} {self.namespace}"

    def line(self) -> str:
        if self.verb == "update":
            shown = ", ".join(self.differences[:SHOWN])
            more = len(self.differences) - SHOWN
            return f"update {self.label} ({self.method}; {shown}{f' and {more} more' if more > 0 else ''})"
        if self.verb == "keep":
            return f"keep {self.label} (no longer rendered; --allow-delete deletes it)"
        return f"{self.verb} {self.label}" + (f" ({self.method})" if self.method else "")


def read_resources(out: Path, env: str) -> list[Resource]:
    """The AppManager resources rendered for ``env`` under ``out`` (``<out>/<env>/<namespace>/vvp/*.yaml``;
    the deployment templates per profile are templates, not platform resources)."""
    folder = out / env
    if not folder.is_dir():
        raise UsageError(f"{folder} does not exist", hint=f"run gen render --env {env} first (or give --out)")
    found: list[Resource] = []
    for path in sorted(folder.glob("*/vvp/*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise UsageError(f"{path}: not YAML ({exc})", hint="render again") from None
        if not isinstance(doc, dict) or doc.get("apiVersion") != "v1" or doc.get("kind") not in COLLECTION:
            continue
        metadata = doc.get("metadata") or {}
        namespace = str(metadata.get("namespace") or "")
        name = "" if doc["kind"] == "DeploymentDefaults" else str(metadata.get("name") or "")
        if not namespace or (doc["kind"] != "DeploymentDefaults" and not name):
            raise UsageError(f"{path}: {doc['kind']} without metadata.namespace and metadata.name", hint="render again")
        found.append(Resource(doc["kind"], namespace, name, doc, str(path)))
    if not found:
        raise UsageError(f"no Ververica Platform resources under {folder}", hint="render a vvp target first")
    found.sort(key=lambda r: (ORDER.index(r.kind), r.namespace, r.name))
    return found


def differences(desired: Any, live: Any, path: str = "") -> Iterator[str]:
    """Dotted paths where ``live`` does not hold what ``desired`` says (``desired`` maps are a subset)."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            yield path or "."
            return
        for key, value in desired.items():
            at = f"{path}.{key}" if path else str(key)
            if key not in live:
                yield at
            else:
                yield from differences(value, live[key], at)
    elif desired != live:
        yield path or "."


def _comparable(body: Mapping[str, Any]) -> dict[str, Any]:
    """What apply sets: the resource without the fields of its identity the URL already carries."""
    return {k: v for k, v in body.items() if k in ("metadata", "spec")}


def plan(client: Client, resources: Sequence[Resource]) -> list[Action]:
    actions: list[Action] = []
    for resource in resources:
        path = item_path(resource.kind, resource.namespace, resource.name)
        response = client.request("GET", path)
        if response.status == 404 and resource.kind != "DeploymentDefaults":
            create = collection_path(resource.kind, resource.namespace)
            actions.append(
                Action("create", resource.kind, resource.namespace, resource.name, "POST", create, resource.body)
            )
            continue
        if response.status != 200:
            client.expect("GET", path, ok=(200,))  # raises with the platform's message
        diff = tuple(differences(_comparable(resource.body), response.body))
        if resource.kind == "DeploymentTarget" and any(d == "spec" or d.startswith("spec.") for d in diff):
            # "The DeploymentTarget specification (.spec) is immutable, but updates to metadata are allowed."
            # (https://docs.ververica.com/vvp/platform-operations/deployment-targets)
            raise ApiError(
                f"{resource.label}: its spec differs on the platform ({', '.join(diff)}), and a DeploymentTarget's "
                "spec is immutable",
                hint="give the Kubernetes namespace another DeploymentTarget name, or delete the old target on the "
                "platform once no Deployment or SessionCluster references it",
            )
        if diff:
            method = UPDATE[resource.kind]
            actions.append(
                Action("update", resource.kind, resource.namespace, resource.name, method, path, resource.body, diff)
            )
        else:
            actions.append(Action("unchanged", resource.kind, resource.namespace, resource.name))
    actions.extend(_stale(client, resources))
    return actions


def _stale(client: Client, resources: Sequence[Resource]) -> Iterator[Action]:
    """Resources gen manages on the platform (by label) in the namespaces it renders, no longer rendered."""
    rendered = {(r.kind, r.namespace, r.name) for r in resources}
    for kind in reversed(ORDER):
        if kind not in _DELETABLE:
            continue
        for namespace in sorted({r.namespace for r in resources}):
            listing = client.expect("GET", collection_path(kind, namespace), ok=(200,)).body or {}
            for item in listing.get("items") or []:
                metadata = item.get("metadata") or {}
                name = str(metadata.get("name") or "")
                labels = metadata.get("labels") or {}
                if labels.get(MANAGED[0]) == MANAGED[1] and (kind, namespace, name) not in rendered:
                    yield Action("keep", kind, namespace, name, "DELETE", item_path(kind, namespace, name))


def apply(client: Client, actions: Sequence[Action], *, allow_delete: bool) -> list[Action]:
    """Carry out the plan; returns the actions taken (deletes only with ``allow_delete``)."""
    done: list[Action] = []
    for action in actions:
        if action.verb in ("create", "update"):
            client.expect(action.method, action.path, dict(action.body or {}))
            done.append(action)
        elif action.verb == "keep" and allow_delete:
            client.expect("DELETE", action.path)
            done.append(Action("delete", action.kind, action.namespace, action.name, "DELETE", action.path))
    return done


def read_token(env_var: str, token_file: Path | None) -> str:
    """The API token from a file or an environment variable, never from the command line."""
    import os

    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"--token-file {token_file}: {exc.strerror or exc}") from None
        if not token:
            raise UsageError(f"--token-file {token_file} is empty")
        return token
    token = os.environ.get(env_var, "").strip()
    if not token:
        raise UsageError(
            f"no API token: ${env_var} is not set",
            hint=f"export {env_var} (or give --token-file); a token is never taken from the command line",
        )
    return token


__all__ = ["Action", "ApiError", "Resource", "apply", "plan", "read_resources", "read_token", "vvp_api"]
