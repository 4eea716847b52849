"""SQL and Python jobs on every target: what renders, and the located refusals (one artifact rule
on every target; each target's own limits with their reason)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Result, assert_located, edit, line_of, run_cli

TARGETS = ("vvp", "vvp-operator", "flink-operator")
DEPLOYMENT = "deployments/analytics/events-ingest.yaml"
JAR_ARTIFACT = (
    "        jarUri: s3://acme-artifacts/events-ingest/events-ingest-2.0.3.jar\n"
    "        entryClass: com.acme.events.IngestJob\n"
    "        mainArgs: --source-topic raw-events --sink-topic events\n"
)


def render(config: Path, target: str, env: str = "prod") -> Result:
    return run_cli("render", "--config", str(config), "--target", target, "--env", env, "--out", str(config / target))


def artifact(config: Path, lines: str, platform: str = "") -> Path:
    """Replace events-ingest's jar artifact with ``lines`` (below ``artifact:``)."""
    path = config / DEPLOYMENT
    edit(path, JAR_ARTIFACT, "".join(f"        {line}\n" for line in lines.splitlines()))
    if platform:
        edit(
            path,
            "metadata:\n",
            "platform:\n" + "".join(f"  {line}\n" for line in platform.splitlines()) + "metadata:\n",
        )
    return path


def job(config: Path) -> dict[str, Any]:
    doc = yaml.safe_load(next((config / "flink-operator").rglob("flinkdeployment-events-ingest.yaml")).read_text())
    found: dict[str, Any] = doc["spec"]["job"]
    return found


PYTHON = "kind: PYTHON\npythonArtifactUri: file:///opt/flink/usrlib/ingest.py"


# -- the artifact rule, on every target -----------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
def test_python_with_a_jar_uri_is_refused_everywhere(config: Path, target: str) -> None:
    path = artifact(config, PYTHON + "\njarUri: s3://acme-artifacts/ingest.jar")
    assert_located(render(config, target), path, line_of(path, "jarUri"), "kind PYTHON runs pythonArtifactUri")


@pytest.mark.parametrize("target", TARGETS)
def test_python_fields_on_a_jar_artifact_are_refused_everywhere(config: Path, target: str) -> None:
    path = artifact(config, "jarUri: s3://acme-artifacts/ingest.jar\nentryModule: ingest.main")
    assert_located(render(config, target), path, line_of(path, "entryModule"), "belongs to artifacts of kind PYTHON")


@pytest.mark.parametrize("target", TARGETS)
def test_python_without_its_file_is_refused_everywhere(config: Path, target: str) -> None:
    path = artifact(config, "kind: PYTHON\nentryModule: ingest.main")
    result = render(config, target)
    assert result.code == 2 and "pythonArtifactUri" in result.stderr
    assert f"{path}:" in result.stderr


# -- VVP --------------------------------------------------------------------------------------------
def test_vvp_2_refuses_python_with_the_reason(config: Path) -> None:
    path = artifact(config, PYTHON)
    assert_located(render(config, "vvp"), path, line_of(path, "kind: PYTHON"), "JAR and SQLSCRIPT artifacts only")


def test_vvp_3_renders_the_python_artifact(config: Path) -> None:
    artifact(config, PYTHON + "\nentryModule: ingest")
    assert render(config, "vvp-operator").code == 0
    doc = yaml.safe_load(next((config / "vvp-operator").rglob("vvpdeployment-events-ingest.yaml")).read_text())
    rendered = doc["spec"]["deployment"]["spec"]["template"]["spec"]["artifact"]
    assert rendered == {
        "kind": "PYTHON",
        "pythonArtifactUri": "file:///opt/flink/usrlib/ingest.py",
        "entryModule": "ingest",
        "engineVersionName": "vera-4.1-flink-1.20",
    }


# -- the Flink operator ----------------------------------------------------------------------------
def test_a_python_file_runs_with_py(config: Path) -> None:
    artifact(config, PYTHON + "\nmainArgs: --topic raw")
    assert render(config, "flink-operator").code == 0
    found = job(config)
    assert found["entryClass"] == "org.apache.flink.client.python.PythonDriver"
    assert found["jarURI"] == "local:///opt/flink/opt/flink-python-1.20.1.jar"
    assert found["args"] == ["-py", "/opt/flink/usrlib/ingest.py", "--topic", "raw"]


def test_the_driver_jar_of_an_application_image_must_be_named(config: Path) -> None:
    platform = "flinkOperator:\n  image:\n    repository: acme/ingest\n    tag: 3.0.0"
    path = artifact(config, PYTHON, platform)
    assert_located(render(config, "flink-operator"), path, line_of(path, "kind: PYTHON"), "driver's jar is unknown")
    edit(
        path,
        "      tag: 3.0.0\n",
        "      tag: 3.0.0\n    python:\n      driverJarUri: local:///opt/flink/opt/flink-python-1.20.0.jar\n",
    )
    assert render(config, "flink-operator").code == 0
    assert job(config)["jarURI"] == "local:///opt/flink/opt/flink-python-1.20.0.jar"


@pytest.mark.parametrize("uri", ["s3://acme-artifacts/ingest.py", "https://repo.acme.io/ingest.py"])
def test_python_files_outside_the_image_are_refused_on_the_operator(config: Path, uri: str) -> None:
    path = artifact(config, f"kind: PYTHON\npythonArtifactUri: {uri}")
    result = render(config, "flink-operator")
    assert_located(result, path, line_of(path, "pythonArtifactUri"), "is not a file in the image")


def test_sql_needs_a_runner_jar_on_the_operator(config: Path) -> None:
    path = artifact(config, "kind: SQLSCRIPT\nsqlScript: SELECT 1;")
    assert_located(render(config, "flink-operator"), path, line_of(path, "kind: SQLSCRIPT"), "SQL runner jar")
    for target in ("vvp", "vvp-operator"):
        assert render(config, target).code == 0


def test_sql_runner_arguments_follow_the_script(config: Path) -> None:
    platform = (
        "flinkOperator:\n  sql:\n    runnerJarUri: local:///opt/flink/usrlib/runner.jar\n"
        "    entryClass: com.acme.SqlRunner\n    mountPath: /sql"
    )
    artifact(config, "kind: SQLSCRIPT\nsqlScript: SELECT 1;\nmainArgs: --dry-run", platform)
    result = render(config, "flink-operator")
    assert result.code == 0, result.stderr
    found = job(config)
    assert found["jarURI"] == "local:///opt/flink/usrlib/runner.jar" and found["entryClass"] == "com.acme.SqlRunner"
    assert found["args"] == ["/sql/script.sql", "--dry-run"]
    config_map = yaml.safe_load(next((config / "flink-operator").rglob("configmap-events-ingest-sql.yaml")).read_text())
    assert config_map["data"] == {"script.sql": "SELECT 1;"}


@pytest.mark.parametrize(
    ("lines", "kind"), [("kind: SQLSCRIPT\nsqlScript: SELECT 1;", "SQLSCRIPT"), (PYTHON, "PYTHON")]
)
def test_sql_and_python_session_jobs_are_refused_on_the_operator(config: Path, lines: str, kind: str) -> None:
    platform = "flinkOperator:\n  sql:\n    runnerJarUri: local:///opt/flink/usrlib/runner.jar"
    path = artifact(config, lines, platform)
    edit(path, "spec:\n", "spec:\n  deploymentTargetName: null\n  sessionClusterName: shared\n")
    edit(path, "      parallelism: 8\n      numberOfTaskManagers: 4\n", "      parallelism: 1\n")
    result = render(config, "flink-operator")
    assert_located(result, path, line_of(path, f"kind: {kind}"), "application mode")


def test_a_script_larger_than_a_config_map_is_refused(config: Path) -> None:
    platform = "flinkOperator:\n  sql:\n    runnerJarUri: local:///opt/flink/usrlib/runner.jar"
    statement = "INSERT INTO sink SELECT * FROM source; -- " + "x" * 200
    script = "\n".join(f"  {statement}" for _ in range(5000))  # about 1.2 MB
    path = artifact(config, f"kind: SQLSCRIPT\nsqlScript: |\n{script}", platform)
    result = render(config, "flink-operator")
    assert_located(result, path, line_of(path, "sqlScript"), "larger than a ConfigMap can hold")
    assert render(config, "vvp").code == 0  # VVP takes the script in the Deployment itself


@pytest.mark.parametrize("target", TARGETS)
def test_an_entry_class_on_a_python_artifact_is_refused_everywhere(config: Path, target: str) -> None:
    path = artifact(config, PYTHON + "\nentryClass: com.acme.Main")
    assert_located(render(config, target), path, line_of(path, "entryClass"), "belongs to artifacts of kind JAR")
