"""The job of a FlinkDeployment for each artifact kind, on the operator's documented routes.

- ``JAR``: ``jarURI``, ``entryClass`` and ``args`` as written.
- ``PYTHON``: Flink's Python driver, as the operator's Python example does
  (https://github.com/apache/flink-kubernetes-operator/tree/main/examples/flink-python-example):
  ``jarURI`` is the flink-python jar of the image (``local:///opt/flink/opt/flink-python-<release>.jar``),
  ``entryClass`` ``org.apache.flink.client.python.PythonDriver`` and ``args`` the driver's options
  first (``-pyclientexec``, ``-pyfs``, ``-pyarch``, then ``-py`` or ``-pym``), the job's own
  arguments last (https://nightlies.apache.org/flink/flink-docs-stable/docs/deployment/cli/#submitting-pyflink-jobs).
  The files are in the image (``local://``): the operator fetches nothing for an application cluster.
- ``SQLSCRIPT``: the operator runs jars only; its SQL example
  (https://github.com/apache/flink-kubernetes-operator/tree/main/examples/flink-sql-runner-example)
  runs a runner jar that reads the script path from its arguments. gen writes the script into a
  ConfigMap, mounts it read-only into the JobManager (where ``main()`` runs) and passes its path to
  the runner jar the user names (``platform.flinkOperator.sql.runnerJarUri``).
"""

from __future__ import annotations

import shlex
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.errors import Problem
from generator.model import keys
from generator.model.images import flink_release, is_official_flink
from generator.render import pods
from generator.render.engine import render_template
from generator.targets.flink_operator.settings import problem_at

PYTHON_DRIVER = "org.apache.flink.client.python.PythonDriver"
PYTHON_DRIVER_JAR = "local:///opt/flink/opt/flink-python-{release}.jar"
SQL_VOLUME = "sql-script"
SQL_FILE = "script.sql"
DEFAULT_SQL_MOUNT = "/opt/flink/sql"
#: A ConfigMap holds at most 1 MiB (https://kubernetes.io/docs/concepts/configuration/configmap/);
#: this leaves room for its metadata.
MAX_SCRIPT_BYTES = 1_000_000
#: URIs of files in the image: Flink's local:// and the file:// VVP uses for bundled artifacts
LOCAL_SCHEMES = ("local://", "file://")


def _local_path(uri: str) -> str | None:
    """The path in the image of a ``local://`` or ``file://`` URI (None for any other URI)."""
    for scheme in LOCAL_SCHEMES:
        if uri.startswith(scheme + "/"):
            return uri[len(scheme) :]
    return None


def python_driver_jar(eff: Effective) -> str | None:
    """``platform.flinkOperator.python.driverJarUri``, else the flink-python jar of an official
    Flink image whose tag names the patch release; None when neither says which jar it is."""
    m = model.of(eff)
    named = m.operator.python.get("driverJarUri")
    if named:
        return str(named)
    repository, tag = m.operator.image.get("repository"), m.operator.image.get("tag")
    if not repository or not tag or not is_official_flink(str(repository)):
        return None
    release = flink_release(str(tag))
    if release is None or release[1] is None:
        return None
    return PYTHON_DRIVER_JAR.format(release=f"{release[0]}.{release[1]}")


def sql_mount_path(eff: Effective) -> str:
    return str(model.of(eff).operator.sql.get("mountPath") or DEFAULT_SQL_MOUNT)


def sql_config_map_name(eff: Effective) -> str:
    return f"{eff.deployment}-sql"


def artifact_problems(eff: Effective, *, session: bool) -> list[Problem]:
    """What the operator cannot run of this artifact, located where it was written."""
    m = model.of(eff)
    artifact = m.artifact
    kind = artifact.kind or "JAR"
    kind_path = (*keys.ARTIFACT, "kind")
    found: list[Problem] = []
    if artifact.additional_dependencies:
        found.append(
            problem_at(
                eff,
                (*keys.ARTIFACT, "additionalDependencies"),
                "the operator's job spec has a single jar URI: additional dependencies cannot be passed",
                "bundle them into the job jar or the image",
            )
        )
    try:
        shlex.split(artifact.main_args or "")
    except ValueError as exc:
        found.append(
            problem_at(eff, (*keys.ARTIFACT, "mainArgs"), f"cannot split into arguments: {exc}", "balance the quotes")
        )
    if kind == "PYTHON":
        found.extend(_python_problems(eff, session))
    elif kind == "SQLSCRIPT":
        if session:
            found.append(
                problem_at(
                    eff,
                    kind_path,
                    "a session job's SQL script cannot be delivered: the operator runs jars, and a script mounted "
                    "into the shared session cluster's JobManager would belong to every job",
                    "run the SQL job in application mode (deploymentTargetName) on this target",
                )
            )
        elif len((artifact.sql_script or "").encode()) > MAX_SCRIPT_BYTES:
            found.append(
                problem_at(
                    eff,
                    (*keys.ARTIFACT, "sqlScript"),
                    f"the script is larger than a ConfigMap can hold ({MAX_SCRIPT_BYTES} bytes of its 1 MiB)",
                    "build the script into the image and pass its path to the runner jar as a JAR job",
                )
            )
        if not session and not m.operator.sql.get("runnerJarUri"):
            found.append(
                problem_at(
                    eff,
                    kind_path,
                    "the operator runs jars: a SQLSCRIPT job needs the SQL runner jar that executes the script",
                    "set platform.flinkOperator.sql.runnerJarUri (e.g. local:///opt/flink/usrlib/sql-runner.jar, "
                    "docs/flink-operator.md 'SQL jobs')",
                )
            )
    return found


def _python_problems(eff: Effective, session: bool) -> list[Problem]:
    m = model.of(eff)
    artifact = m.artifact
    found: list[Problem] = []
    if session:
        return [
            problem_at(
                eff,
                (*keys.ARTIFACT, "kind"),
                "a Python job runs through Flink's Python driver in its own JobManager: the operator documents "
                "Python jobs for application clusters only",
                "run the Python job in application mode (deploymentTargetName) on this target",
            )
        ]
    files = [("pythonArtifactUri", artifact.python_artifact_uri)]
    files += [(f"additionalPythonLibraries[{i}]", str(v)) for i, v in enumerate(artifact.additional_python_libraries)]
    files += [(f"additionalPythonArchives[{i}]", str(v)) for i, v in enumerate(artifact.additional_python_archives)]
    for field, uri in files:
        if uri is not None and _local_path(uri.split("#", 1)[0]) is None:
            found.append(
                problem_at(
                    eff,
                    (*keys.ARTIFACT, field.split("[")[0]),
                    f"'{uri}' is not a file in the image: the operator fetches nothing for an application cluster, "
                    "and Flink's Python driver reads local paths",
                    "build the Python files into the image and name them file:///opt/flink/usrlib/... (or local://)",
                )
            )
    if python_driver_jar(eff) is None:
        found.append(
            problem_at(
                eff,
                (*keys.ARTIFACT, "kind"),
                "the Python driver's jar is unknown: the image is not an official Flink image whose tag names a "
                "patch release",
                "set platform.flinkOperator.python.driverJarUri (e.g. local:///opt/flink/opt/flink-python-1.20.1.jar)",
            )
        )
    return found


def job_fields(eff: Effective) -> dict[str, Any]:
    """``jarURI``, ``entryClass`` (when there is one) and ``args`` of the job, per artifact kind."""
    m = model.of(eff)
    artifact = m.artifact
    main_args = shlex.split(artifact.main_args or "")
    kind = artifact.kind or "JAR"
    if kind == "PYTHON":
        return {"jarURI": python_driver_jar(eff), "entryClass": PYTHON_DRIVER, "args": python_args(eff) + main_args}
    if kind == "SQLSCRIPT":
        sql = m.operator.sql
        fields: dict[str, Any] = {"jarURI": str(sql["runnerJarUri"])}
        if sql.get("entryClass"):
            fields["entryClass"] = str(sql["entryClass"])
        fields["args"] = [f"{sql_mount_path(eff)}/{SQL_FILE}", *main_args]
        return fields
    fields = {"jarURI": artifact.jar_uri}
    if artifact.entry_class:
        fields["entryClass"] = artifact.entry_class
    fields["args"] = main_args
    return fields


def python_args(eff: Effective) -> list[str]:
    """The Python driver's options: interpreter, files on the PYTHONPATH, archives, then the program."""
    m = model.of(eff)
    artifact = m.artifact
    program = _local_path(artifact.python_artifact_uri or "") or ""
    libraries = [_local_path(str(v)) or str(v) for v in artifact.additional_python_libraries]
    archives = [
        f"{_local_path(u.split('#', 1)[0])}{'#' + u.split('#', 1)[1] if '#' in u else ''}"
        for u in map(str, artifact.additional_python_archives)
    ]
    args: list[str] = []
    executable = m.operator.python.get("clientExecutable")
    if executable:
        args += ["-pyclientexec", str(executable)]
    path_files = [program, *libraries] if artifact.entry_module else libraries
    if path_files:
        args += ["-pyfs", ",".join(path_files)]
    if archives:
        args += ["-pyarch", ",".join(archives)]
    args += ["-pym", artifact.entry_module] if artifact.entry_module else ["-py", program]
    return args


def sql_config_map(eff: Effective) -> dict[str, Any]:
    """The ConfigMap holding a SQLSCRIPT job's script."""
    m = model.of(eff)
    return render_template(
        "k8s/ConfigMap.yaml.j2",
        name=sql_config_map_name(eff),
        namespace=m.kubernetes_namespace,
        labels=pods.pod_labels(eff),
        data={SQL_FILE: m.artifact.sql_script or ""},
    )


def mount_sql_script(eff: Effective, pod: dict[str, Any]) -> dict[str, Any]:
    """The JobManager's pod template with the script's ConfigMap mounted read-only (the same way the
    TLS stores are added: a volume of the pod and a mount of the main container)."""
    spec = dict(pod["spec"])
    container = dict(spec["containers"][0])
    container["volumeMounts"] = [
        *container.get("volumeMounts", []),
        {"name": SQL_VOLUME, "mountPath": sql_mount_path(eff), "readOnly": True},
    ]
    spec["containers"] = [container, *spec["containers"][1:]]
    spec["volumes"] = [
        *spec.get("volumes", []),
        {
            "name": SQL_VOLUME,
            "configMap": {"name": sql_config_map_name(eff), "items": [{"key": SQL_FILE, "path": SQL_FILE}]},
        },
    ]
    return {**pod, "spec": spec}
