"""Real job shapes (tests/real_jobs/<shape>/): each is rendered for every target that supports it,
checked field by field against what the platform needs, and snapshotted; a target that cannot run
the shape refuses it with a located error.

Each shape is a deployment file (and what it needs) added to the example configuration; see
docs/real-jobs.md for the shapes and their input."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.data import copy_example
from generator.errors import InputError
from generator.render.plan import Selection, render

SHAPES = Path(__file__).parent.parent / "real_jobs"
TARGETS = ("vvp", "vvp-operator", "flink-operator")
ENV = "prod"
NAMES = {
    "sql-script": "orders-enrichment",
    "python-job": "churn-features",
    "custom-image": "geo-enricher",
    "session-job": "alerts-router",
}
#: Shapes a target cannot run: the line the refusal is located at, and a fragment of its message.
REFUSED = {
    ("python-job", "vvp"): ("kind: PYTHON", "runs JAR and SQLSCRIPT artifacts only"),
    ("custom-image", "vvp-operator"): ("flinkImageRepository:", "cannot run on VVP 3"),
}


def config_with(shape: str, root: Path) -> Path:
    config = root / "config"
    copy_example(config)
    shutil.copytree(SHAPES / shape, config, dirs_exist_ok=True)
    return config


def rendered(config: Path, target: str, name: str) -> dict[str, dict[str, Any]]:
    """The shape's own documents (and, in session mode, its cluster and the platform values), by path."""
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env=ENV, target=target))
    own = (
        f"-{name}.yaml",
        f"-{name}-sql.yaml",
        "sessioncluster-",
        "flinkdeployment-shared",
        "flink-kubernetes-operator-values",
    )
    return {f.path: yaml.safe_load(f.content) for f in files if any(part in f.path for part in own)}


def source(shape: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SHAPES / shape / f"deployments/analytics/{NAMES[shape]}.yaml").read_text())
    return loaded


def one(docs: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs.values() if d.get("kind") == kind]
    assert len(found) == 1, (kind, sorted(docs))
    return found[0]


def artifact_of(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]["deployment"]["spec"] if doc["kind"] == "VvpDeployment" else doc["spec"]
    artifact: dict[str, Any] = spec["template"]["spec"]["artifact"]
    return artifact


CASES = [(shape, target) for shape in NAMES for target in TARGETS if (shape, target) not in REFUSED]


@pytest.mark.parametrize(("shape", "target"), CASES)
def test_shape_renders(shape: str, target: str, tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    docs = rendered(config_with(shape, tmp_path), target, NAMES[shape])
    CHECKS[shape](target, docs, source(shape))
    assert {path: docs[path] for path in sorted(docs)} == snapshot


@pytest.mark.parametrize(("shape", "target"), sorted(REFUSED))
def test_shape_refused(shape: str, target: str, tmp_path: Path) -> None:
    config = config_with(shape, tmp_path)
    with pytest.raises(InputError) as raised:
        rendered(config, target, NAMES[shape])
    [problem] = raised.value.problems
    path = config / f"deployments/analytics/{NAMES[shape]}.yaml"
    assert problem.file == str(path)
    line, message = REFUSED[shape, target]
    assert line in path.read_text().splitlines()[problem.line - 1]
    assert message in problem.message


# -- what each platform needs, field by field --------------------------------------------------------
def check_sql(target: str, docs: dict[str, dict[str, Any]], src: dict[str, Any]) -> None:
    script = src["spec"]["template"]["spec"]["artifact"]["sqlScript"]
    if target != "flink-operator":
        artifact = artifact_of(one(docs, "VvpDeployment" if target == "vvp-operator" else "Deployment"))
        assert artifact["kind"] == "SQLSCRIPT" and artifact["sqlScript"] == script
        assert "jarUri" not in artifact
        return
    deployment, config_map = one(docs, "FlinkDeployment"), one(docs, "ConfigMap")
    assert config_map["data"] == {"script.sql": script}
    assert config_map["metadata"]["namespace"] == deployment["metadata"]["namespace"]
    job = deployment["spec"]["job"]
    runner = src["platform"]["flinkOperator"]["sql"]["runnerJarUri"]
    assert job["jarURI"] == runner and job["args"] == ["/opt/flink/sql/script.sql"]
    jm = deployment["spec"]["jobManager"]["podTemplate"]["spec"]
    [volume] = [v for v in jm["volumes"] if v.get("configMap")]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    [mount] = [m for m in jm["containers"][0]["volumeMounts"] if m["name"] == volume["name"]]
    assert mount == {"name": volume["name"], "mountPath": "/opt/flink/sql", "readOnly": True}
    tm = deployment["spec"]["taskManager"]["podTemplate"]["spec"]
    assert not [v for v in tm.get("volumes", []) if v.get("configMap")]  # only the JobManager runs main()


def check_python(target: str, docs: dict[str, dict[str, Any]], src: dict[str, Any]) -> None:
    written = src["spec"]["template"]["spec"]["artifact"]
    if target == "vvp-operator":
        artifact = artifact_of(one(docs, "VvpDeployment"))
        for key in (
            "kind",
            "pythonArtifactUri",
            "entryModule",
            "additionalPythonLibraries",
            "additionalPythonArchives",
        ):
            assert artifact[key] == written[key], key
        assert "jarUri" not in artifact and artifact["engineVersionName"].endswith("-flink-1.20")
        return
    deployment = one(docs, "FlinkDeployment")
    job = deployment["spec"]["job"]
    release = deployment["spec"]["image"].rsplit(":", 1)[1].split("-")[0]  # the official image's tag: 1.20.1
    assert job["jarURI"] == f"local:///opt/flink/opt/flink-python-{release}.jar"
    assert job["entryClass"] == "org.apache.flink.client.python.PythonDriver"
    args = job["args"]
    # the driver's options first, the job's own arguments last (the driver stops parsing at the first unknown)
    assert args[args.index("-pym") + 1] == written["entryModule"]
    assert args[args.index("-pym") + 2 :] == written["mainArgs"].split()
    assert args[args.index("-pyclientexec") + 1] == src["platform"]["flinkOperator"]["python"]["clientExecutable"]
    path_files = args[args.index("-pyfs") + 1].split(",")
    program = written["pythonArtifactUri"].removeprefix("file://")
    assert path_files == [program, *(p.removeprefix("file://") for p in written["additionalPythonLibraries"])]
    assert args[args.index("-pyarch") + 1] == written["additionalPythonArchives"][0].removeprefix("file://")


def check_custom_image(target: str, docs: dict[str, dict[str, Any]], src: dict[str, Any]) -> None:
    written = src["spec"]["template"]["spec"]["artifact"]
    if target == "flink-operator":
        spec = one(docs, "FlinkDeployment")["spec"]
        image = src["platform"]["flinkOperator"]["image"]
        assert spec["image"].endswith(f"/{image['repository']}:{image['tag']}")
        assert spec["flinkVersion"] == "v1_20"  # from flinkVersion, not from the application's tag
        assert spec["job"]["jarURI"] == written["jarUri"]
        return
    artifact = artifact_of(one(docs, "VvpDeployment" if target == "vvp-operator" else "Deployment"))
    if target == "vvp":
        assert (artifact["flinkImageRepository"], artifact["flinkImageTag"]) == (
            written["flinkImageRepository"],
            written["flinkImageTag"],
        )
        assert artifact["flinkVersion"] == "1.20"


def check_session(target: str, docs: dict[str, dict[str, Any]], src: dict[str, Any]) -> None:
    if target == "flink-operator":
        job, cluster = one(docs, "FlinkSessionJob"), one(docs, "FlinkDeployment")
        assert job["spec"]["deploymentName"] == cluster["metadata"]["name"] == "shared"
        assert "job" not in cluster["spec"]
        assert job["spec"]["job"]["parallelism"] <= cluster["spec"]["taskManager"]["replicas"] * int(
            cluster["spec"]["flinkConfiguration"].get("taskmanager.numberOfTaskSlots", "1")
        )
        # no cluster-level option in the job: it would have no effect on a shared cluster
        own = job["spec"].get("flinkConfiguration", {})
        assert not [k for k in own if k.startswith(("taskmanager.", "jobmanager.", "high-availability"))]
        values = next(d for p, d in docs.items() if p.endswith("flink-kubernetes-operator-values.yaml"))
        conf = values["defaultConfiguration"]["flink-conf.yaml"]
        assert "kubernetes.operator.user.artifacts.allowed-schemes: s3\n" in conf
        return
    deployment = one(docs, "VvpDeployment" if target == "vvp-operator" else "Deployment")
    spec = deployment["spec"]["deployment"]["spec"] if target == "vvp-operator" else deployment["spec"]
    assert spec["sessionClusterName"] == "shared" and "deploymentTargetName" not in spec
    template = spec["template"]["spec"]
    assert not {"numberOfTaskManagers", "resources", "kubernetes", "logging"} & set(template)
    if target == "vvp":
        cluster = one(docs, "SessionCluster")
        assert cluster["metadata"]["name"] == "shared"
        assert spec["template"]["spec"]["parallelism"] <= cluster["spec"]["numberOfTaskManagers"]


CHECKS = {
    "sql-script": check_sql,
    "python-job": check_python,
    "custom-image": check_custom_image,
    "session-job": check_session,
}
