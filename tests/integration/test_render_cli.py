"""`gen render` end to end on the shipped example: output, determinism, --check, the writer."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import yaml

from tests.conftest import edit, run_cli, tree_digest

MAIN = ["render", "--profile", "stateful-heavy", "--env", "prod"]


def test_main_command_writes_one_vvp_deployment_per_stateful_heavy_deployment(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(*MAIN, "--out", str(out))
    assert result.code == 0, result.stderr
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml"))
    deployments = [f for f in files if f.startswith("prod/analytics/vvp/deployment-") and f.count("/") == 3]
    assert deployments == ["prod/analytics/vvp/deployment-fraud-scoring.yaml"]  # namespace files: test_vvp_render
    doc = yaml.safe_load((out / deployments[0]).read_text())
    assert (doc["apiVersion"], doc["kind"]) == ("v1", "Deployment")
    assert doc["metadata"] == {
        "name": "fraud-scoring",
        "namespace": "analytics",
        "displayName": "Fraud scoring",
        "labels": {"app.kubernetes.io/managed-by": "gen", "criticality": "high", "team": "analytics"},
    }
    template = doc["spec"]["template"]["spec"]
    assert template["resources"]["taskmanager"] == {"cpu": 4, "memory": "16g"}
    assert template["flinkConfiguration"]["high-availability.type"] == "kubernetes"
    assert template["flinkConfiguration"]["execution.checkpointing.dir"] == "s3://acme-flink-prod/analytics/checkpoints"
    assert all(isinstance(v, str) for v in template["flinkConfiguration"].values())
    assert template["artifact"]["flinkImageRegistry"].startswith("registry.acme.internal/")
    assert (out / "gen-index.json").is_file()


def test_render_twice_is_byte_identical_and_check_passes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", "--out", str(out)).code == 0
    first = tree_digest(out)
    assert run_cli("render", "--out", str(out)).code == 0
    assert tree_digest(out) == first
    check = run_cli("render", "--out", str(out), "--check")
    assert check.code == 0, check.stdout + check.stderr
    assert "up to date" in check.stderr


def test_check_names_the_stale_file_after_an_input_edit(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert run_cli(*MAIN, "--config", str(config), "--out", str(out)).code == 0
    before = tree_digest(out)
    edit(config / "profiles" / "stateful-heavy.yaml", "memory: 16g", "memory: 24g")
    result = run_cli(*MAIN, "--config", str(config), "--out", str(out), "--check")
    assert result.code == 1
    assert f"stale: {out / 'prod/analytics/vvp/deployment-fraud-scoring.yaml'}" in result.stdout
    assert tree_digest(out) == before  # --check writes nothing


def test_check_lists_missing_and_extra_files(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", "--config", str(config), "--env", "dev", "--out", str(out)).code == 0
    (config / "deployments/analytics/events-ingest.yaml").rename(config / "deployments/analytics/events-v2.yaml")
    result = run_cli("render", "--config", str(config), "--env", "dev", "--out", str(out), "--check")
    assert result.code == 1
    assert "missing: " in result.stdout and "deployment-events-v2.yaml" in result.stdout
    assert "extra: " in result.stdout and "deployment-events-ingest.yaml" in result.stdout


def test_files_of_a_removed_deployment_are_removed_and_others_kept(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", "--config", str(config), "--out", str(out)).code == 0
    gone = out / "prod/analytics/vvp/deployment-events-ingest.yaml"
    assert gone.exists()
    (config / "deployments/analytics/events-ingest.yaml").unlink()
    small = ["render", "--config", str(config), "--env", "prod", "--profile", "small", "--out", str(out)]
    refused = run_cli(*small)  # a stateful job: its removal must be asked for
    assert refused.code == 2 and "--allow-delete" in refused.stderr and gone.exists()
    # a render of another profile in prod still removes the deleted deployment's file, and says so
    removed = run_cli(*small, "--allow-delete")
    assert removed.code == 0, removed.stderr
    assert f"removed: {gone} (a stateful job: VVP Deployment 'events-ingest'" in removed.stderr
    assert not gone.exists()
    assert (out / "prod/analytics/vvp/deployment-fraud-scoring.yaml").exists()
    assert (out / "dev/analytics/vvp/deployment-events-ingest.yaml").exists()  # dev was not rendered


def test_profile_render_keeps_other_profiles_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", "--env", "prod", "--out", str(out)).code == 0
    before = tree_digest(out)
    assert run_cli(*MAIN, "--out", str(out)).code == 0
    assert tree_digest(out) == before


def test_refuses_an_out_folder_with_files_gen_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run_cli(*MAIN, "--out", str(out))
    assert result.code == 2
    assert "notes.txt" in result.stderr and "--force" in result.stderr
    assert (out / "notes.txt").read_text() == "mine"
    assert run_cli(*MAIN, "--out", str(out), "--force").code == 0
    assert not (out / "notes.txt").exists()


def test_a_failure_before_the_swap_leaves_previous_output_intact(tmp_path: Path, config: Path, monkeypatch) -> None:
    from generator import output

    out = tmp_path / "out"
    assert run_cli("render", "--config", str(config), "--out", str(out)).code == 0
    before = tree_digest(out)
    edit(config / "profiles" / "small.yaml", "memory: 2g", "memory: 3g")
    real_write = output.write

    def failing_write(target: Path, plan: output.Plan, **kwargs: object) -> None:
        def boom(tmp: Path) -> None:
            assert any(tmp.rglob("*.yaml"))  # the new tree was complete
            raise RuntimeError("power cut")

        real_write(target, plan, before_swap=boom)

    monkeypatch.setattr(output, "write", failing_write)
    result = run_cli("render", "--config", str(config), "--out", str(out))
    assert result.code == 3
    assert tree_digest(out) == before
    assert not list(tmp_path.glob(".out.gen-*"))  # no temporary tree left behind


def test_the_installed_package_renders_without_a_checkout(tmp_path: Path) -> None:
    """Build the wheel, install it into a private folder, run it from an empty directory."""
    root = Path(__file__).resolve().parents[2]
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(root)],
        check=True,
        capture_output=True,
    )
    site = tmp_path / "site"
    (wheel,) = wheels.glob("generator-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "empty"
    work.mkdir()
    # -S: no site hooks, so the development checkout (an editable install) cannot be imported;
    # the dependencies come from the environment's site-packages, gen itself from the wheel.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sorted(deps)])}
    env.pop("GEN_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-S", "-m", "generator", *MAIN], cwd=work, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (work / "out/prod/analytics/vvp/deployment-fraud-scoring.yaml").is_file()
    assert (
        str(site)
        in subprocess.run(
            [sys.executable, "-S", "-c", "import generator; print(generator.__file__)"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    )


def test_list_explain_validate_init_schema(tmp_path: Path) -> None:
    listed = run_cli("list", "deployments")
    assert listed.code == 0
    assert "analytics/fraud-scoring  (profile stateful-heavy)" in listed.stdout
    assert run_cli("list", "--format", "json").code == 0
    assert run_cli("validate").code == 0
    repo = tmp_path / "repo"
    assert run_cli("init", str(repo)).code == 0
    assert (repo / "baseline.yaml").is_file() and (repo / "schemas" / "deployment.json").is_file()
    assert run_cli("init", str(repo)).code == 2  # not empty
    assert run_cli("render", "--config", str(repo), "--env", "dev", "--out", str(tmp_path / "o")).code == 0
    assert run_cli("schema", str(tmp_path / "s")).code == 0
    assert (tmp_path / "s" / "effective.json").is_file()
