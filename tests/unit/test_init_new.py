"""`gen init` in a fresh clone (a folder holding only .git is empty enough) with its .gitignore,
pre-commit configuration and CI workflow; `gen new namespace` and `gen new deployment`; and the
first error a new namespace gets, naming the key its file must set."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _clone(tmp_path: Path) -> Path:
    """A freshly cloned, empty repository: a folder holding only .git."""
    repo = tmp_path / "flink-config"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_init_in_a_fresh_clone_writes_the_repository_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _clone(tmp_path)
    monkeypatch.chdir(repo)
    result = run_cli("init")
    assert result.code == 0, result.stderr
    assert (repo / "baseline.yaml").is_file() and (repo / "schemas" / "namespace.json").is_file()
    ignore = (repo / ".gitignore").read_text()
    assert ".*.gen-tmp-*/" in ignore.splitlines() and ".*.gen-old/" in ignore.splitlines()
    # the swap's sibling trees are what the .gitignore names
    ignored = subprocess.run(
        ["git", "check-ignore", ".out.gen-tmp-123/x", ".out.gen-old/x", "out/dev/x.yaml"],
        cwd=repo,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ignored == [".out.gen-tmp-123/x", ".out.gen-old/x"]
    hooks = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    published = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    keys = ("id", "name", "entry", "args", "pass_filenames", "files")
    assert [{k: h.get(k) for k in keys} for h in hooks] == [{k: h.get(k) for k in keys} for h in published]
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "gen.yaml").read_text())
    runs = [step["run"] for step in workflow["jobs"]["gen"]["steps"] if "run" in step]
    assert "gen validate" in runs and "gen render --check" in runs
    # the repository renders as it is
    assert run_cli("render", "-e", "dev").code == 0
    assert (repo / "out" / "dev").is_dir()


def test_init_refuses_a_folder_with_files_and_names_them(tmp_path: Path) -> None:
    repo = _clone(tmp_path)
    (repo / "values.yaml").write_text("ours: 1\n")
    result = run_cli("init", str(repo))
    assert result.code == 2
    assert "is not empty (it holds values.yaml)" in result.stderr
    assert not (repo / "baseline.yaml").exists()
    forced = run_cli("init", str(repo), "--force")
    assert forced.code == 0 and (repo / "values.yaml").read_text() == "ours: 1\n"


def test_init_accepts_what_a_git_host_creates_with_a_repository(tmp_path: Path) -> None:
    repo = _clone(tmp_path)
    for name, text in (("README.md", "# flink-config\n"), ("LICENSE", "terms\n"), (".gitignore", "secrets/\n")):
        (repo / name).write_text(text)
    assert run_cli("init", str(repo)).code == 0
    assert (repo / "baseline.yaml").is_file()
    assert (repo / "README.md").read_text() == "# flink-config\n" and (repo / ".gitignore").read_text() == "secrets/\n"


def _schema_valid(repo: Path, file: Path, schema: str) -> None:
    first = file.read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={schema}"
    target = (file.parent / schema).resolve()
    assert target == (repo / "schemas" / target.name).resolve() and target.is_file()
    schemas = [json.loads(p.read_text()) for p in (repo / "schemas").glob("*.json")]
    registry: Registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    (schema_doc,) = (s for s in schemas if s["$id"].endswith("/" + target.name))
    validator = jsonschema.Draft202012Validator(schema_doc, registry=registry)
    assert list(validator.iter_errors(yaml.safe_load(file.read_text()))) == []


def test_new_namespace_and_deployment_render_and_match_their_editor_schemas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _clone(tmp_path)
    monkeypatch.chdir(repo)
    assert run_cli("init").code == 0
    assert run_cli("new", "namespace", "payments", "--storage", "s3://pay-{{ env }}/flink").code == 0
    made = run_cli("new", "deployment", "payments/settlement", "-p", "small", "--jar", "s3://jobs/settle.jar")
    assert made.code == 0, made.stderr
    namespace, deployment = repo / "namespaces" / "payments.yaml", repo / "deployments/payments/settlement.yaml"
    _schema_valid(repo, namespace, "../schemas/namespace.json")
    _schema_valid(repo, deployment, "../../schemas/deployment.json")
    explained = run_cli("explain", "spec.template.spec.artifact.jarUri", "-e", "prod", "-d", "settlement")
    assert explained.code == 0 and "deployments/payments/settlement.yaml:9:9" in explained.stdout
    assert run_cli("render", "-e", "prod", "-n", "payments").code == 0
    rendered = (repo / "out/prod/payments/vvp/deployment-settlement.yaml").read_text()
    assert "s3://jobs/settle.jar" in rendered and "s3://pay-prod/flink/checkpoints" in rendered

    again = run_cli("new", "namespace", "payments")
    assert again.code == 2 and "exists" in again.stderr
    assert run_cli("new", "deployment", "nowhere/job", "-p", "small").code == 2
    bad_profile = run_cli("new", "deployment", "payments/job", "-p", "huge")
    assert bad_profile.code == 2 and "huge" in bad_profile.stderr
    assert run_cli("new", "namespace", "Payments_Team").code == 2


def test_a_deployment_without_its_jar_says_where_to_set_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _clone(tmp_path)
    monkeypatch.chdir(repo)
    assert run_cli("init").code == 0
    assert run_cli("new", "namespace", "payments").code == 0
    assert run_cli("new", "deployment", "payments/settlement", "-p", "small").code == 0
    result = run_cli("validate", "-e", "dev")
    assert result.code == 2
    assert "deployments/payments/settlement.yaml:1:1: spec.template.spec.artifact: missing required key: 'jarUri'" in (
        result.stderr
    )


def test_a_new_namespace_without_storage_is_told_which_key_its_file_must_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _clone(tmp_path)
    monkeypatch.chdir(repo)
    assert run_cli("init").code == 0
    (repo / "namespaces" / "payments.yaml").write_text("platform:\n  kubernetesNamespace: payments\n")
    (repo / "deployments" / "payments").mkdir()
    (repo / "deployments/payments/settle.yaml").write_text(
        "profile: small\nspec:\n  template:\n    spec:\n      artifact:\n        jarUri: s3://jobs/settle.jar\n"
    )
    result = run_cli("render", "-e", "dev")
    assert result.code == 2
    assert "'dict object'" not in result.stderr
    line = next(
        i + 1
        for i, text in enumerate((repo / "baseline.yaml").read_text().splitlines())
        if "high-availability.storageDir" in text
    )
    assert (
        f"baseline.yaml:{line}:9: spec.template.spec.flinkConfiguration.high-availability.storageDir: the template "
        "reads platform.storage.baseUri, which no layer sets"
    ) in result.stderr
    assert "(hint: set platform.storage.baseUri in namespaces/payments.yaml" in result.stderr
    assert not (repo / "out").exists()


def test_the_ci_page_shows_the_workflow_init_writes(tmp_path: Path) -> None:
    repo = _clone(tmp_path)
    assert run_cli("init", str(repo)).code == 0
    written = yaml.safe_load((repo / ".github" / "workflows" / "gen.yaml").read_text())
    page = (ROOT / "docs" / "ci.md").read_text()
    blocks = [b.split("```")[0] for b in page.split("```yaml\n")[1:]]
    (documented,) = [yaml.safe_load(b) for b in blocks if "jobs:" in b]
    assert documented["jobs"] == written["jobs"]
    assert documented[True] == written[True]  # `on:` (YAML 1.1 reads the key as true)
