"""Our VVP output schemas against the VVP AppManager 2.4 API, and against examples.

The API facts come from ``tests/data/vvp_api_2_4_fields.json``, written by
``tests/tools/vvp_api_inventory.py`` from the 2.4.3 swagger file (see that tool's docstring for the
path notation: ``*`` = any map key, ``[]`` = array item).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import pytest

from generator.validate.vvp_schemas import (
    VVP_KINDS,
    error_messages,
    load_vvp_validators,
    vvp_registry,
    vvp_schema_uri,
)

if TYPE_CHECKING:
    from referencing._core import Resolver  # not re-exported by `referencing`; annotations only

Doc = dict[str, Any]
SchemaPath = tuple[str, ...]

INVENTORY_FILE = Path(__file__).parents[1] / "data" / "vvp_api_2_4_fields.json"
API_KINDS = ("Deployment", "DeploymentDefaults", "DeploymentTarget", "SessionCluster")
DEFS_URI = vvp_schema_uri("_defs.json")

# Fields our schemas accept although the 2.4.3 API definition lacks them, because later VVP versions
# have them and gen targets those too.  Keep this list short, each entry with its public source.
LATER_VERSION_FIELDS: dict[SchemaPath, str] = {
    # not in the 2.4.3 API definition; present in exports of later platforms (`false`) and in the
    # VVP Kubernetes operator's VvpRestoreStrategy (added after 2.4).
    ("spec", "restoreStrategy", "allowNonRestoredState"): "restore strategy flag, VVP after 2.4",
    # not in the 2.4.3 API definition; present in the VVP Kubernetes operator's VvpDeploymentDetails;
    # documented on the VVP 2.11 Deployments page (https://docs.ververica.com/) as a '{amount}{unit}' duration.
    ("spec", "jobFailureExpirationTime"): "job failure expiry duration, VVP after 2.4",
}

# Kubernetes quantities ('500m', '2Gi') are strings or numbers in manifests; the swagger's generated Java
# client models `Quantity` as an object {format, number}.  Where our schema types a quantity we accept
# this one type difference, and check below that the API really has a Quantity there.
QUANTITY_SUFFIXES: tuple[SchemaPath, ...] = (
    ("resourceFieldRef", "divisor"),
    ("resources", "limits", "*"),
    ("resources", "requests", "*"),
)


# --------------------------------------------------------------------------------------------------
# API inventory
# --------------------------------------------------------------------------------------------------


def _split(dotted: str) -> SchemaPath:
    parts: list[str] = []
    for piece in dotted.split("."):
        name = piece.removesuffix("[]")
        depth = 0
        while name.endswith("[]"):  # nested arrays
            name = name.removesuffix("[]")
            depth += 1
        parts.append(name)
        if piece.endswith("[]"):
            parts.extend(["[]"] * (depth + 1))
    return tuple(parts)


class ApiInventory:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data["source"]["version"]
        self.kinds = {kind: {_split(path): t for path, t in paths.items()} for kind, paths in data["kinds"].items()}
        self.refs = {
            kind: {_split(path): name for path, name in refs.items()} for kind, refs in data["kubernetesRefs"].items()
        }
        self.kubernetes = {
            name: {_split(path): t for path, t in paths.items()} for name, paths in data["kubernetes"].items()
        }

    def resolve(self, kind: str, path: SchemaPath) -> tuple[str, SchemaPath] | None:
        """JSON type of ``path`` in the API and the API path it matched (fixed keys match ``*``)."""
        table = self.kinds[kind]
        refs: Mapping[SchemaPath, str] = self.refs.get(kind, {})
        prefix: SchemaPath = ()
        matched: SchemaPath = ()
        json_type = "object"
        for segment in path:
            candidate = (*prefix, segment)
            if candidate not in table and segment != "[]":
                candidate = (*prefix, "*")
            if candidate not in table:
                return None
            json_type = table[candidate]
            matched = (*matched, candidate[-1])
            prefix = candidate
            if prefix in refs:  # continue inside the Kubernetes definition
                table, refs, prefix = self.kubernetes[refs[prefix]], {}, ()
        return json_type, matched


@pytest.fixture(scope="module")
def api() -> ApiInventory:
    return ApiInventory(json.loads(INVENTORY_FILE.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------------------
# Walking our schemas
# --------------------------------------------------------------------------------------------------


def _value_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _declared_types(schema: Mapping[str, Any]) -> set[str]:
    if "type" in schema:
        declared = schema["type"]
        return {declared} if isinstance(declared, str) else set(declared)
    if "const" in schema:
        return {_value_type(schema["const"])}
    if "enum" in schema:
        return {_value_type(value) for value in schema["enum"]}
    return set()


def schema_paths(uri: str) -> dict[SchemaPath, set[str]]:
    """Every property path a schema defines (through $ref, allOf, if/then...) -> declared JSON types."""
    out: dict[SchemaPath, set[str]] = {}
    resolved = vvp_registry().resolver().lookup(uri)
    _walk(resolved.contents, resolved.resolver, (), out, 0)
    out.pop((), None)
    return out


def _walk(schema: Any, resolver: Resolver[Any], path: SchemaPath, out: dict[SchemaPath, set[str]], depth: int) -> None:
    if not isinstance(schema, Mapping):
        return  # boolean schema
    assert depth < 60, f"schema nesting too deep at {path}"
    out.setdefault(path, set()).update(_declared_types(schema))
    if "$ref" in schema:
        target = resolver.lookup(schema["$ref"])
        _walk(target.contents, target.resolver, path, out, depth + 1)
    for name, sub in schema.get("properties", {}).items():
        _walk(sub, resolver, (*path, name), out, depth + 1)
    if isinstance(schema.get("additionalProperties"), Mapping):
        _walk(schema["additionalProperties"], resolver, (*path, "*"), out, depth + 1)
    if isinstance(schema.get("items"), Mapping):
        _walk(schema["items"], resolver, (*path, "[]"), out, depth + 1)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(keyword, []):
            _walk(sub, resolver, path, out, depth + 1)
    for keyword in ("if", "then", "else"):
        if keyword in schema:
            _walk(schema[keyword], resolver, path, out, depth + 1)


def _dotted(path: SchemaPath) -> str:
    return ".".join(path).replace(".[]", "[]")


# --------------------------------------------------------------------------------------------------
# (a) agreement with the API definition
# --------------------------------------------------------------------------------------------------


def test_inventory_is_the_2_4_api(api: ApiInventory) -> None:
    assert api.version.startswith("2.4")
    assert set(API_KINDS) <= set(api.kinds)


def test_inventory_lookup_is_not_vacuous(api: ApiInventory) -> None:
    pods = ("spec", "template", "spec", "kubernetes", "pods")
    assert api.resolve("Deployment", (*pods, "securityContext", "runAsUser")) == (
        "integer",
        (*pods, "securityContext", "runAsUser"),
    )
    assert api.resolve("Deployment", ("spec", "template", "spec", "resources", "jobmanager", "cpu")) == (
        "number",
        ("spec", "template", "spec", "resources", "*", "cpu"),
    )
    assert api.resolve("Deployment", ("spec", "parallelism")) is None  # it lives in template.spec
    assert api.resolve("Deployment", (*pods, "securityContext", "runAsNonroot")) is None


@pytest.mark.parametrize("kind", API_KINDS)
def test_schema_fields_exist_in_api_with_same_type(kind: str, api: ApiInventory) -> None:
    problems: list[str] = []
    for path, types in sorted(schema_paths(vvp_schema_uri(f"{kind}.json")).items()):
        if path in LATER_VERSION_FIELDS:
            continue
        found = api.resolve(kind, path)
        if found is None:
            problems.append(f"{_dotted(path)}: not in the VVP {api.version} API")
            continue
        api_type, api_path = found
        if not types or types == {api_type}:
            continue
        if any(path[-len(s) :] == s for s in QUANTITY_SUFFIXES) and types == {"string", "number"}:
            quantity = api.resolve(kind, (*path, "number"))
            if api_type == "object" and quantity is not None and quantity[0] == "number":
                continue
        problems.append(f"{_dotted(path)}: schema type {sorted(types)} != API type {api_type!r} at {_dotted(api_path)}")
    assert not problems, "\n".join(problems)


def test_later_version_allow_list_is_current(api: ApiInventory) -> None:
    """Each allow-listed field is defined by our Deployment schema and really missing from the 2.4 API."""
    deployment_paths = schema_paths(vvp_schema_uri("Deployment.json"))
    for path in LATER_VERSION_FIELDS:
        assert path in deployment_paths, f"{_dotted(path)} is allow-listed but not in our schema"
        assert api.resolve("Deployment", path) is None, f"{_dotted(path)} is in the API now; drop it"


def test_quantity_exception_only_covers_api_quantities(api: ApiInventory) -> None:
    checked = 0
    for kind in API_KINDS:
        for path, types in schema_paths(vvp_schema_uri(f"{kind}.json")).items():
            if any(path[-len(s) :] == s for s in QUANTITY_SUFFIXES):
                assert types == {"string", "number"}, _dotted(path)
                assert api.resolve(kind, (*path, "format")) is not None, f"{_dotted(path)} is no Quantity"
                checked += 1
    assert checked > 0


# --------------------------------------------------------------------------------------------------
# (b) one Deployment spec definition
# --------------------------------------------------------------------------------------------------


def _contents(file_name: str) -> Mapping[str, Any]:
    contents: Mapping[str, Any] = vvp_registry().contents(vvp_schema_uri(file_name))
    return contents


def _absolute_ref(file_name: str, subschema: Mapping[str, Any]) -> str:
    ref: str = subschema["$ref"]
    return urljoin(vvp_schema_uri(file_name), ref)


def test_deployment_kinds_embed_the_deployment_spec_definition() -> None:
    deployment_spec = _contents("Deployment.json")["properties"]["spec"]
    defaults_spec = _contents("DeploymentDefaults.json")["properties"]["spec"]
    vvp_spec = _contents("VvpDeployment.json")["properties"]["spec"]["properties"]
    embedded = vvp_spec["deployment"]["properties"]["spec"]
    init_fields = vvp_spec["initFields"]["properties"]["spec"]

    expected = DEFS_URI + "#/$defs/deploymentSpec"
    assert _absolute_ref("Deployment.json", deployment_spec) == expected
    assert _absolute_ref("DeploymentDefaults.json", defaults_spec) == expected
    operator = DEFS_URI + "#/$defs/operatorDeploymentSpec"
    assert _absolute_ref("VvpDeployment.json", embedded) == operator
    assert _absolute_ref("VvpDeployment.json", init_fields) == operator


def _under(paths: Mapping[SchemaPath, set[str]], prefix: SchemaPath) -> dict[SchemaPath, set[str]]:
    return {p[len(prefix) :]: t for p, t in paths.items() if p[: len(prefix)] == prefix}


ARTIFACT_PATH: SchemaPath = ("template", "spec", "artifact")
VVP2_ENGINE_FIELDS = ("flinkVersion", "flinkImageRegistry", "flinkImageRepository", "flinkImageTag")
# The VVP 3 operator docs ( "Use initFields"): the engine of a VVP 3 deployment is named by
# artifact.engineVersionName, e.g. "vera-4.1-flink-1.20"; the 2.4 API has flinkVersion + images instead.
VVP3_ENGINE_FIELD: SchemaPath = (*ARTIFACT_PATH, "engineVersionName")
# VVP 3 runs Python deployments (https://docs.ververica.com/vvp3/); their artifact fields (the
# PythonArtifact of Ververica's deployment API: pythonArtifactUri, entryModule, mainArgs,
# additionalPythonLibraries, additionalPythonArchives) are not in the 2.4 API, whose artifacts are
# JARs and SQL scripts only.
VVP3_PYTHON_FIELDS: frozenset[SchemaPath] = frozenset(
    {
        (*ARTIFACT_PATH, "pythonArtifactUri"),
        (*ARTIFACT_PATH, "entryModule"),
        (*ARTIFACT_PATH, "additionalPythonLibraries"),
        (*ARTIFACT_PATH, "additionalPythonLibraries", "[]"),
        (*ARTIFACT_PATH, "additionalPythonArchives"),
        (*ARTIFACT_PATH, "additionalPythonArchives", "[]"),
    }
)


def test_vvp_deployment_spec_is_a_deployment_spec_with_the_vvp3_engine_field() -> None:
    """The operator's deployment has every field of a Deployment spec except VVP 2's engine fields (and
    VVP 3's Python artifact fields),
    which VVP 3 replaces with engineVersionName (the decision in generator/targets/vvp_operator/vvp_deployment.py)."""
    deployment = _under(schema_paths(vvp_schema_uri("Deployment.json")), ("spec",))
    vvp = _under(schema_paths(vvp_schema_uri("VvpDeployment.json")), ("spec", "deployment", "spec"))
    vvp2_only = {(*ARTIFACT_PATH, f) for f in VVP2_ENGINE_FIELDS}
    assert set(deployment) - set(vvp) == vvp2_only
    assert set(vvp) - set(deployment) == {VVP3_ENGINE_FIELD, *VVP3_PYTHON_FIELDS}
    assert all(vvp[p] == deployment[p] for p in set(vvp) & set(deployment))


def test_vvp_deployment_body_fields_exist_in_api_with_same_type(api: ApiInventory) -> None:
    """No field of the deployment a VvpDeployment carries is unknown to the VVP API, except the one
    VVP 3 engine field and the allow-listed later-version fields."""
    problems: list[str] = []
    body = _under(schema_paths(vvp_schema_uri("VvpDeployment.json")), ("spec", "deployment"))
    for path, types in sorted(body.items()):
        if path[:1] != ("spec",) or path in LATER_VERSION_FIELDS or path[1:] == VVP3_ENGINE_FIELD:
            continue
        if path[1:] in VVP3_PYTHON_FIELDS:
            continue
        found = api.resolve("Deployment", path)
        if found is None:
            problems.append(f"{_dotted(path)}: not in the VVP {api.version} API")
        elif types and types != {found[0]} and not any(path[-len(s) :] == s for s in QUANTITY_SUFFIXES):
            problems.append(f"{_dotted(path)}: schema type {sorted(types)} != API type {found[0]!r}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# (c) examples
# --------------------------------------------------------------------------------------------------


def _pods() -> Doc:
    return {
        "annotations": {"prometheus.io/scrape": "true"},
        "labels": {"team": "payments"},
        "nodeSelector": {"kubernetes.io/arch": "amd64"},
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"app": "flink-job"}},
                        },
                    }
                ]
            }
        },
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "flink", "effect": "NoSchedule"}],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 9999,
            "runAsGroup": 9999,
            "fsGroup": 9999,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "imagePullSecrets": [{"name": "registry-credentials"}],
        "envVars": [
            {"name": "REGION", "value": "eu-west-1"},
            {
                "name": "DB_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "payments-db", "key": "password"}},
            },
            {
                "name": "FEATURES",
                "valueFrom": {"configMapKeyRef": {"name": "payments-flags", "key": "features"}},
            },
        ],
        "volumeMounts": [
            {
                "name": "tls",
                "volume": {"name": "tls", "secret": {"secretName": "payments-tls"}},
                "volumeMount": {"name": "tls", "mountPath": "/etc/tls", "readOnly": True},
            }
        ],
    }


def deployment_application() -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "Deployment",
        "metadata": {
            "name": "payments-enricher",
            "namespace": "default",
            "displayName": "Payments enricher",
            "labels": {"env": "prod"},
            "annotations": {"owner": "payments"},
        },
        "spec": {
            "state": "RUNNING",
            "deploymentTargetName": "vvp-jobs",
            "upgradeStrategy": {"kind": "STATEFUL"},
            "restoreStrategy": {"kind": "LATEST_STATE", "allowNonRestoredState": False},
            "maxSavepointCreationAttempts": 4,
            "maxJobCreationAttempts": 4,
            "jobFailureExpirationTime": "10 min",
            "template": {
                "metadata": {"annotations": {"flink.queryable-state.enabled": "false"}},
                "spec": {
                    "artifact": {
                        "kind": "JAR",
                        "jarUri": "s3://artifacts/payments-enricher-1.4.2.jar",
                        "entryClass": "com.example.payments.Enricher",
                        "mainArgs": "--windowSize 10",
                        "additionalDependencies": ["s3://artifacts/extra.jar"],
                        "flinkVersion": "1.20",
                        "flinkImageRegistry": "registry.ververica.com",
                        "flinkImageRepository": "v2.14/flink",
                        "flinkImageTag": "1.20.0-stream1-java11",
                    },
                    "parallelism": 4,
                    "numberOfTaskManagers": 2,
                    "resources": {
                        "jobmanager": {"cpu": 1, "memory": "2g"},
                        "taskmanager": {"cpu": 2.5, "memory": "1536m"},
                    },
                    "flinkConfiguration": {
                        "taskmanager.numberOfTaskSlots": "2",
                        "execution.checkpointing.interval": "10s",
                        "high-availability.type": "kubernetes",
                    },
                    "logging": {
                        "loggingProfile": "default",
                        "log4jLoggers": {"": "INFO", "com.example": "DEBUG"},
                    },
                    "kubernetes": {"pods": _pods()},
                },
            },
        },
    }


def deployment_session_sql() -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "Deployment",
        "metadata": {"name": "sql-report", "namespace": "default"},
        "spec": {
            "state": "RUNNING",
            "sessionClusterName": "shared-session",
            "upgradeStrategy": {"kind": "STATEFUL"},
            "restoreStrategy": {"kind": "LATEST_STATE", "allowNonRestoredState": False},
            "maxJobCreationAttempts": 4,
            "maxSavepointCreationAttempts": 4,
            "template": {
                "spec": {
                    "artifact": {
                        "kind": "SQLSCRIPT",
                        "flinkVersion": "1.14",
                        "sqlScript": "INSERT INTO sink SELECT * FROM source;",
                        "additionalDependencies": [],
                    },
                    "flinkConfiguration": {"table.exec.state.ttl": "1 d"},
                    "parallelism": 1,
                }
            },
        },
    }


def deployment_pod_templates() -> Doc:
    pod_template = {
        "metadata": {"labels": {"app.kubernetes.io/part-of": "payments"}},
        "spec": {
            "serviceAccountName": "flink",
            "securityContext": {"runAsNonRoot": True, "fsGroup": 9999},
            "tolerations": [{"key": "dedicated", "operator": "Exists"}],
            "containers": [
                {
                    "name": "flink-main-container",
                    "resources": {"limits": {"cpu": "2", "memory": "4Gi"}, "requests": {"cpu": 1}},
                    "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
                    "volumeMounts": [{"name": "scratch", "mountPath": "/tmp/scratch"}],
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }
            ],
            "volumes": [{"name": "scratch", "emptyDir": {}}],
        },
    }
    doc = deployment_application()
    doc["spec"]["template"]["spec"]["kubernetes"] = {
        "jobManagerPodTemplate": pod_template,
        "taskManagerPodTemplate": copy.deepcopy(pod_template),
    }
    return doc


def deployment_playground_minimal() -> Doc:
    """The deployment of Ververica's public ververica-platform-playground repository."""
    return {
        "kind": "Deployment",
        "apiVersion": "v1",
        "metadata": {"displayName": "WindowJoin", "name": "window-join", "namespace": "default"},
        "spec": {
            "deploymentTargetName": "vvp-jobs",
            "template": {
                "spec": {
                    "parallelism": 1,
                    "artifact": {
                        "kind": "JAR",
                        "flinkVersion": "1.19",
                        "jarUri": "https://repo1.maven.org/maven2/org/apache/flink/"
                        "flink-examples-streaming/1.19.0/flink-examples-streaming-1.19.0-WindowJoin.jar",
                    },
                }
            },
        },
    }


def deployment_defaults() -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "DeploymentDefaults",
        "metadata": {"name": "default", "namespace": "default"},
        "spec": {
            "state": "RUNNING",
            "upgradeStrategy": {"kind": "STATELESS"},
            "restoreStrategy": {"allowNonRestoredState": True},
            "template": {
                "spec": {
                    "artifact": {"kind": "JAR"},
                    "resources": {"jobmanager": {"cpu": 0.5, "memory": "1G"}},
                    "flinkConfiguration": {"state.backend.type": "rocksdb"},
                }
            },
        },
    }


def deployment_target() -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "DeploymentTarget",
        "metadata": {"name": "vvp-jobs", "namespace": "default", "labels": {"env": "prod"}},
        "spec": {"kubernetes": {"namespace": "vvp-jobs"}},
    }


def session_cluster() -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "SessionCluster",
        "metadata": {"name": "shared-session", "namespace": "default"},
        "spec": {
            "state": "RUNNING",
            "deploymentTargetName": "vvp-jobs",
            "flinkVersion": "1.20",
            "flinkImageRegistry": "registry.ververica.com",
            "flinkImageRepository": "v2.14/flink",
            "flinkImageTag": "1.20.0-stream1-java11",
            "numberOfTaskManagers": 3,
            "resources": {
                "jobmanager": {"cpu": 1, "memory": "1g"},
                "taskmanager": {"cpu": 2, "memory": "4g"},
            },
            "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "4"},
            "logging": {"loggingProfile": "default"},
            "kubernetes": {"pods": {"nodeSelector": {"pool": "flink"}}},
        },
    }


def vvp_deployment_patch() -> Doc:
    """The PATCH example of the VVP 3 operator docs ("Use initFields")."""
    return {
        "apiVersion": "ververica.platform/v1",
        "kind": "VvpDeployment",
        "metadata": {
            "name": "my-deployment",
            "namespace": "flink-apps",
            "labels": {"ververica.platform/owner": "vvp-operator-1"},
            "annotations": {"apikeySecretName": "vvp-api-token"},
        },
        "spec": {
            "syncingMode": "PATCH",
            "deployment": {
                "metadata": {"name": "my-deployment", "namespace": "default"},
                "spec": {
                    "state": "CANCELLED",
                    "deploymentTargetName": "default",
                    "template": {
                        "spec": {
                            "artifact": {
                                "kind": "JAR",
                                "jarUri": "s3://my-bucket/artifacts/MyJob.jar",
                                "engineVersionName": "vera-4.1-flink-1.20",
                            }
                        }
                    },
                },
            },
            "initFields": {
                "spec": {
                    "template": {
                        "spec": {
                            "resources": {
                                "jobmanager": {"cpu": 1.0, "memory": "2g"},
                                "taskmanager": {"cpu": 2.0, "memory": "4g"},
                            },
                            "logging": {"loggingProfile": "default", "log4jLoggers": {"": "INFO"}},
                        }
                    }
                }
            },
            "savepointNonce": 1,
            "restartNonce": 0,
        },
    }


def _vvp3(spec: Doc) -> Doc:
    """A Deployment spec as the VVP 3 operator takes it: the engine named by engineVersionName."""
    spec = copy.deepcopy(spec)
    artifact = spec["template"]["spec"]["artifact"]
    for field in VVP2_ENGINE_FIELDS:
        artifact.pop(field, None)
    artifact["engineVersionName"] = "vera-4.1-flink-1.20"
    return spec


def vvp_deployment_put() -> Doc:
    doc = vvp_deployment_patch()
    del doc["spec"]["initFields"]
    doc["spec"]["syncingMode"] = "PUT"
    doc["spec"]["deployment"]["spec"] = _vvp3(deployment_application()["spec"])
    return doc


def vvp_deployment_put_session() -> Doc:
    """Session mode: resources belong to the SessionCluster, so PUT does not ask for them."""
    doc = vvp_deployment_put()
    doc["spec"]["deployment"]["spec"] = _vvp3(deployment_session_sql()["spec"])
    return doc


VALID: dict[str, Callable[[], Doc]] = {
    "deployment-application": deployment_application,
    "deployment-session-sql": deployment_session_sql,
    "deployment-pod-templates": deployment_pod_templates,
    "deployment-playground": deployment_playground_minimal,
    "deployment-defaults": deployment_defaults,
    "deployment-target": deployment_target,
    "session-cluster": session_cluster,
    "vvp-deployment-patch": vvp_deployment_patch,
    "vvp-deployment-put": vvp_deployment_put,
    "vvp-deployment-put-session": vvp_deployment_put_session,
}


def test_validators_cover_every_kind_and_are_built_once() -> None:
    first, second = load_vvp_validators(), load_vvp_validators()
    assert set(first) == set(VVP_KINDS)
    assert all(first[kind] is second[kind] for kind in VVP_KINDS)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_examples_pass(name: str) -> None:
    doc = VALID[name]()
    assert error_messages(load_vvp_validators()[doc["kind"]], doc) == []


def _at(doc: Doc, *path: str) -> Doc:
    node = doc
    for key in path:
        node = node[key]
    return node


def _tpl(doc: Doc) -> Doc:
    return _at(doc, "spec", "template", "spec")


def _set(node: Doc, key: str, value: Any) -> None:
    node[key] = value


def _invalid_cases() -> Iterator[tuple[str, Callable[[], Doc], tuple[str, ...]]]:
    """(case id, broken document, strings one error message must contain)."""

    def broken(make: Callable[[], Doc], change: Callable[[Doc], None]) -> Callable[[], Doc]:
        def build() -> Doc:
            doc = make()
            change(doc)
            return doc

        return build

    app, vvp_put, vvp_patch = deployment_application, vvp_deployment_put, vvp_deployment_patch
    yield (
        "typo-in-template-spec",
        broken(app, lambda d: _set(_tpl(d), "parallelizm", _tpl(d).pop("parallelism"))),
        ("spec.template.spec", "'parallelizm' was unexpected"),
    )
    yield (
        "typo-in-metadata",
        broken(app, lambda d: _set(d["metadata"], "namepsace", "default")),
        ("metadata", "'namepsace' was unexpected"),
    )
    yield (
        "typo-in-pod-security-context",
        broken(app, lambda d: _set(_tpl(d)["kubernetes"]["pods"]["securityContext"], "runAsNonroot", True)),
        ("pods.securityContext", "'runAsNonroot' was unexpected"),
    )
    yield (
        "typo-in-toleration",
        broken(app, lambda d: _set(_tpl(d)["kubernetes"]["pods"]["tolerations"][0], "efect", "NoSchedule")),
        ("pods.tolerations[0]", "'efect' was unexpected"),
    )
    yield (
        "flink-configuration-integer-value",
        broken(app, lambda d: _set(_tpl(d)["flinkConfiguration"], "taskmanager.numberOfTaskSlots", 2)),
        ('flinkConfiguration["taskmanager.numberOfTaskSlots"]', "is not of type 'string'"),
    )
    yield (
        "flink-configuration-boolean-value",
        broken(app, lambda d: _set(_tpl(d)["flinkConfiguration"], "pipeline.object-reuse", True)),
        ('flinkConfiguration["pipeline.object-reuse"]', "is not of type 'string'"),
    )
    yield (
        "both-target-and-session-cluster",
        broken(app, lambda d: _set(d["spec"], "sessionClusterName", "shared-session")),
        ("spec", "'deploymentTargetName' and 'sessionClusterName' must not be set together"),
    )
    yield (
        "neither-target-nor-session-cluster",
        broken(app, lambda d: d["spec"].pop("deploymentTargetName")),
        (
            "spec",
            "'deploymentTargetName' is a required property",
            "'sessionClusterName' is a required property",
        ),
    )
    yield (
        "bad-state",
        broken(app, lambda d: _set(d["spec"], "state", "STARTED")),
        ("spec.state", "'STARTED' is not one of"),
    )
    yield (
        "cpu-below-minimum",
        broken(app, lambda d: _set(_tpl(d)["resources"]["jobmanager"], "cpu", 0.05)),
        ("spec.template.spec.resources.jobmanager.cpu", "less than the minimum of 0.1"),
    )
    yield (
        "memory-with-unknown-unit",
        broken(app, lambda d: _set(_tpl(d)["resources"]["taskmanager"], "memory", "2GB")),
        ("spec.template.spec.resources.taskmanager.memory", "does not match"),
    )
    yield (
        "flink-version-as-number",
        broken(app, lambda d: _set(_tpl(d)["artifact"], "flinkVersion", 1.2)),
        ("spec.template.spec.artifact.flinkVersion", "is not of type 'string'"),
    )
    yield (
        "jar-without-jar-uri",
        broken(app, lambda d: _tpl(d)["artifact"].pop("jarUri")),
        ("spec.template.spec.artifact", "'jarUri' is a required property"),
    )
    yield (
        "sqlscript-without-sql-script",
        broken(deployment_session_sql, lambda d: _tpl(d)["artifact"].pop("sqlScript")),
        ("spec.template.spec.artifact", "'sqlScript' is a required property"),
    )
    yield (
        "name-not-dns-label",
        broken(app, lambda d: _set(d["metadata"], "name", "Payments_Enricher")),
        ("metadata.name", "does not match"),
    )
    yield (
        "pods-and-pod-templates",
        broken(deployment_pod_templates, lambda d: _set(_tpl(d)["kubernetes"], "pods", _pods())),
        ("spec.template.spec.kubernetes", "not allowed", "'pods' together with"),
    )
    yield (
        "env-var-value-and-value-from",
        broken(
            app,
            lambda d: _set(
                _tpl(d)["kubernetes"]["pods"]["envVars"][0],
                "valueFrom",
                {"secretKeyRef": {"name": "s", "key": "k"}},
            ),
        ),
        ("pods.envVars[0]", "'value' and 'valueFrom' must not be set together"),
    )
    yield (
        "session-cluster-unknown-state",
        broken(session_cluster, lambda d: _set(d["spec"], "state", "SUSPENDED")),
        ("spec.state", "'SUSPENDED' is not one of"),
    )
    yield (
        "put-with-init-fields",
        broken(vvp_put, lambda d: _set(d["spec"], "initFields", vvp_patch()["spec"]["initFields"])),
        ("spec", "'initFields' must not be set here"),
    )
    yield (
        "put-missing-upgrade-strategy",
        broken(vvp_put, lambda d: d["spec"]["deployment"]["spec"].pop("upgradeStrategy")),
        ("spec.deployment.spec", "'upgradeStrategy' is a required property"),
    )
    yield (
        "put-missing-engine-version",
        broken(vvp_put, lambda d: _tpl(d["spec"]["deployment"])["artifact"].pop("engineVersionName")),
        ("spec.deployment.spec.template.spec.artifact", "'engineVersionName' is a required property"),
    )
    yield (
        "put-missing-flink-configuration",
        broken(vvp_put, lambda d: _tpl(d["spec"]["deployment"]).pop("flinkConfiguration")),
        ("spec.deployment.spec.template.spec", "'flinkConfiguration' is a required property"),
    )
    yield (
        "put-application-mode-missing-pod-settings",
        broken(vvp_put, lambda d: _tpl(d["spec"]["deployment"]).pop("kubernetes")),
        ("spec.deployment.spec.template.spec", "'kubernetes' is a required property"),
    )
    yield (
        "vvp2-engine-field-in-operator-deployment",
        broken(vvp_put, lambda d: _set(_tpl(d["spec"]["deployment"])["artifact"], "flinkVersion", "1.20")),
        ("spec.deployment.spec.template.spec.artifact", "'flinkVersion' was unexpected"),
    )
    yield (
        "vvp2-user-metadata",
        broken(vvp_patch, lambda d: _set(d["spec"]["deployment"], "userMetadata", d["spec"]["deployment"]["metadata"])),
        ("spec.deployment", "'userMetadata' was unexpected"),
    )
    yield (
        "patch-field-both-managed-and-creation-only",
        broken(
            vvp_patch,
            lambda d: _set(_tpl(d["spec"]["deployment"]), "resources", _tpl(d["spec"]["initFields"])["resources"]),
        ),
        ("spec.deployment.spec.template.spec", "'resources' must not be set here"),
    )
    yield (
        "missing-api-token-annotation",
        broken(vvp_patch, lambda d: d["metadata"]["annotations"].pop("apikeySecretName")),
        ("metadata.annotations", "'apikeySecretName' is a required property"),
    )
    yield (
        "negative-nonce",
        broken(vvp_patch, lambda d: _set(d["spec"], "restartNonce", -1)),
        ("spec.restartNonce", "less than the minimum of 0"),
    )
    yield (
        "deprecated-vvp-kubernetes-ha",
        broken(app, lambda d: _set(_tpl(d)["flinkConfiguration"], "high-availability.type", "vvp-kubernetes")),
        ('flinkConfiguration["high-availability.type"]', "not allowed", "deprecated"),
    )
    yield (
        "put-application-mode-missing-resources",
        broken(vvp_put, lambda d: _tpl(d["spec"]["deployment"]).pop("resources")),
        ("spec.deployment.spec.template.spec", "'resources' is a required property"),
    )
    yield (
        "missing-owner-label",
        broken(vvp_patch, lambda d: d["metadata"]["labels"].pop("ververica.platform/owner")),
        ("metadata.labels", "'ververica.platform/owner' is a required property"),
    )
    yield (
        "missing-syncing-mode",
        broken(vvp_patch, lambda d: d["spec"].pop("syncingMode")),
        ("spec", "'syncingMode' is a required property"),
    )


INVALID = list(_invalid_cases())


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_examples_fail_naming_the_field(make: Callable[[], Doc], expected: tuple[str, ...]) -> None:
    doc = make()
    messages = error_messages(load_vvp_validators()[doc["kind"]], doc)
    assert messages, "expected the document to be rejected"
    assert any(all(part in message for part in expected) for message in messages), "\n".join(messages)
