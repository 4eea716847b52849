"""The peer: the same estate as a Kapitan project (reclass inventory + Jinja2 templates).

Layers become reclass classes, merged by Kapitan's inventory exactly where gen merges them:
``baseline``, ``namespaces.<ns>``, ``profiles.<profile>`` (with what it ``extends``),
``environments.<env>``, then the deployment's own values in its target. gen's Jinja2 expressions in
values (``{{ env }}``, ``{{ platform.storage.baseUri }}``) become reclass references. One target per
deployment and environment renders the VVP Deployment with a Jinja2 template from the merged
inventory (pod templates included); one target per namespace and environment, and one per
environment, hold the namespace's and the environment's documents.

Every other document gen writes (network policies, RBAC, monitoring, kustomization, Helm values,
...) is given to Kapitan as inventory data and written by a Jinja2 template
(``{{ ... | yaml }}``): Kapitan writes as many documents as gen, but computes less than gen does
for them (no policy logic, no memory model, no validation at all). The ratio is therefore in
Kapitan's favour.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv-kapitan"
_LAYER_ONLY = ("description", "profile", "extends", "bounds", "waivers", "exceptions")
_EXPR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


@dataclass(frozen=True)
class Project:
    root: Path
    command: list[str]
    documents: int
    targets: int
    version: str


def kapitan() -> Path:
    """The kapitan executable of the benchmark's own virtual environment (made on first use)."""
    exe = VENV / "bin" / "kapitan"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "kapitan"], check=True)
    return exe


def _references(value: Any) -> Any:
    """gen's Jinja2 expressions in values as reclass references."""
    if isinstance(value, dict):  # reclass has no empty keys (log4jLoggers: {"": INFO})
        return {(k or "rootLogger"): _references(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_references(v) for v in value]
    if isinstance(value, str) and "{{" in value:
        return _EXPR.sub(_reference, value)
    return value


def _no_empty_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {(k or "rootLogger"): _no_empty_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_empty_keys(v) for v in value]
    return value


def _reference(match: re.Match[str]) -> str:
    """``{{ env }}`` -> ``${env}`` (a target parameter); ``{{ platform.a.b }}`` -> ``${gen:platform:a:b}``."""
    name = match.group(1)
    return "${" + ("gen:" if "." in name else "") + name.replace(".", ":") + "}"


def _layer(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values, layer-only keys) of one gen layer file."""
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    meta = {k: data.pop(k) for k in _LAYER_ONLY if k in data}
    return _references(data), meta


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=1 << 16), "utf-8")


_DEPLOYMENT_TEMPLATE = """\
{%- set p = inventory.parameters -%}
{%- set g = p.gen -%}
{%- set spec = g.spec -%}
{%- set t = spec.template.spec -%}
{%- set pods = t.kubernetes.pods if t.kubernetes is defined and t.kubernetes.pods is defined else {} -%}
{%- set conf = t.flinkConfiguration -%}
{%- macro pod(component, container) -%}
{%- set labels = dict(pods.labels if pods.labels is defined else {}) -%}
{%- set _ = labels.update({"app.kubernetes.io/name": "flink", "app.kubernetes.io/instance": p.name,
      "app.kubernetes.io/managed-by": "gen", "flink-deployment": p.name, "component": component}) -%}
{%- set podspec = {"serviceAccountName": "flink-" ~ component,
      "automountServiceAccountToken": conf["high-availability.type"] | default("NONE") | lower == "kubernetes",
      "containers": [{"name": container, "ports": [{"name": "metrics",
        "containerPort": (conf["metrics.reporter.prom.port"] | default(9249) | string).split("-")[0] | int,
        "protocol": "TCP"}], "securityContext": {"allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}}]} -%}
{%- for key in ["securityContext", "nodeSelector", "tolerations", "affinity", "imagePullSecrets"] -%}
{%- if pods[key] is defined and pods[key] -%}{%- set _ = podspec.update({key: pods[key]}) -%}{%- endif -%}
{%- endfor -%}
{{ {"metadata": {"labels": labels}, "spec": podspec} | tojson }}
{%- endmacro -%}
apiVersion: v1
kind: Deployment
metadata:
  name: {{ p.name | tojson }}
  namespace: {{ p.namespace | tojson }}
{% if g.metadata.displayName is defined %}
  displayName: {{ g.metadata.displayName | tojson }}
{% endif %}
  labels: {{ g.metadata.labels | default({}) | tojson }}
spec:
  state: {{ spec.state | tojson }}
  deploymentTargetName: {{ spec.deploymentTargetName | tojson }}
  upgradeStrategy: {{ spec.upgradeStrategy | tojson }}
  restoreStrategy: {{ spec.restoreStrategy | tojson }}
{% for key in ["maxSavepointCreationAttempts", "maxJobCreationAttempts"] if spec[key] is defined %}
  {{ key }}: {{ spec[key] | tojson }}
{% endfor %}
  template:
    metadata:
      annotations: {{ spec.template.metadata.annotations | default({}) | tojson }}
    spec:
      artifact: {{ t.artifact | tojson }}
      parallelism: {{ t.parallelism | tojson }}
      numberOfTaskManagers: {{ t.numberOfTaskManagers | tojson }}
      resources: {{ t.resources | tojson }}
      flinkConfiguration:
{% for key in conf | sort %}
        {{ key }}: {{ conf[key] | string | tojson }}
{% endfor %}
      logging: {{ t.logging | tojson }}
      kubernetes:
        jobManagerPodTemplate: {{ pod("jobmanager", "flink-jobmanager") }}
        taskManagerPodTemplate: {{ pod("taskmanager", "flink-taskmanager") }}
"""


def build(config: Path, out: Path, root: Path) -> Project:
    """A Kapitan project for the gen configuration ``config`` whose rendered output is ``out``."""
    exe = kapitan()
    shutil.rmtree(root, ignore_errors=True)
    classes, targets, templates = root / "inventory" / "classes", root / "inventory" / "targets", root / "templates"
    templates.mkdir(parents=True)
    (templates / "vvp-deployment.yaml.j2").write_text(_DEPLOYMENT_TEMPLATE, "utf-8")

    values, _ = _layer(config / "baseline.yaml")
    _write(classes / "baseline.yml", {"parameters": {"gen": values}})
    for kind in ("namespaces", "environments", "profiles"):
        for path in sorted((config / kind).glob("*.yaml")):
            values, meta = _layer(path)
            parents = [f"profiles.{meta['extends']}"] if meta.get("extends") else []
            _write(classes / kind / f"{path.stem}.yml", {"classes": parents, "parameters": {"gen": values}})

    index: dict[str, dict[str, Any]] = json.loads((out / "gen-index.json").read_text("utf-8"))["files"]
    owned: dict[tuple[str, str, str], dict[str, Any]] = {}  # (env, namespace, deployment) -> file -> document
    for path, entry in sorted(index.items()):
        owner = entry["owner"]
        key = (owner["env"], owner.get("namespace", ""), owner.get("deployment", ""))
        owned.setdefault(key, {})[path] = yaml.load((out / path).read_text("utf-8"), Loader=yaml.CSafeLoader)

    written: set[str] = set()
    documents = 0

    def file_templates(files: dict[str, Any], strip: int) -> list[str]:
        names = []
        for path in files:
            name = path.split("/", strip)[-1].replace("/", "__")
            if name not in written:
                (templates / "files" / name).parent.mkdir(parents=True, exist_ok=True)
                (templates / "files" / name).write_text(
                    "{{ inventory.parameters.docs[" + json.dumps(name) + "] | yaml }}", "utf-8"
                )
                written.add(name)
            names.append(name)
        return names

    profiles = {}
    for ns_dir in sorted(p for p in (config / "deployments").iterdir() if p.is_dir()):
        for path in sorted(ns_dir.glob("*.yaml")):
            values, meta = _layer(path)
            profiles[(ns_dir.name, path.stem)] = (str(meta["profile"]), values)

    count = 0
    for (env, namespace, deployment), files in sorted(owned.items()):
        compile_items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"env": env, "namespace": namespace}
        if deployment:
            profile, values = profiles[(namespace, deployment)]
            name = f"{env}-{namespace}-{deployment}"
            target_classes = ["baseline", f"namespaces.{namespace}", f"profiles.{profile}", f"environments.{env}"]
            params.update({"name": deployment, "gen": values})
            main = [p for p in files if p.endswith(f"/vvp/deployment-{deployment}.yaml")]
            files = {p: d for p, d in files.items() if p not in main}
            if main:
                compile_items.append(
                    {
                        "input_type": "jinja2",
                        "input_paths": ["templates/vvp-deployment.yaml.j2"],
                        "output_path": ".",
                        "suffix_remove": True,
                    }
                )
                documents += 1
        elif namespace:
            name = f"{env}-{namespace}"
            target_classes = ["baseline", f"namespaces.{namespace}", f"environments.{env}"]
        else:
            name = env
            target_classes = [f"environments.{env}"]
        names = file_templates(files, 2 if namespace else 1)
        if names:
            params["docs"] = dict(zip(names, (_no_empty_keys(d) for d in files.values()), strict=True))
            compile_items.append(
                {
                    "input_type": "jinja2",
                    "input_paths": [f"templates/files/{n}" for n in names],
                    "output_path": ".",
                    "suffix_remove": False,
                }
            )
            documents += len(names)
        params["kapitan"] = {"vars": {"target": name}, "compile": compile_items}
        _write(targets / f"{name}.yml", {"classes": target_classes, "parameters": params})
        count += 1
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return Project(root, [str(exe), "compile", "--quiet"], documents, count, version)


def main(argv: list[str] | None = None) -> None:
    """python -m benchmarks.kapitan_peer CONFIG OUT PROJECT: build the project and compile it once."""
    args = sys.argv[1:] if argv is None else argv
    project = build(Path(args[0]), Path(args[1]), Path(args[2]))
    subprocess.run(project.command, cwd=project.root, check=True)
    print(f"{project.targets} targets, {project.documents} documents in {project.root / 'compiled'}")


if __name__ == "__main__":
    main()
