"""A selected render (-d, -p, -n) leaves every namespace folder it touches consistent: the
kustomization lists exactly the Kubernetes objects the folder holds, ``--check`` sees what the
selection would change, and ``--set`` reaches only the selected deployments, naming them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from generator import kinds
from tests.conftest import edit, run_cli, tree_digest
from tests.unit.located import assert_problem, problem_lines, rendered

PROD = "prod/analytics"
FLINK_PROD = ("-t", "flink-operator", "-e", "prod")


def assert_consistent(out: Path) -> None:
    """Every namespace folder: its kustomization lists exactly the files directly in it (but itself)."""
    folders = [k.parent for k in out.glob("*/*/kustomization.yaml")]
    assert folders
    for folder in folders:
        listed = set(yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"])
        present = {p.name for p in folder.iterdir() if p.is_file() and p.name != "kustomization.yaml"}
        assert listed == present, (folder, sorted(listed - present), sorted(present - listed))


def add_deployment(config: Path, name: str, like: str = "events-ingest") -> None:
    shutil.copy(config / f"deployments/analytics/{like}.yaml", config / f"deployments/analytics/{name}.yaml")


def flink_deployment(out: Path, name: str, env: str = "prod") -> dict[str, object]:
    doc: dict[str, object] = yaml.safe_load((out / f"{env}/analytics/flinkdeployment-{name}.yaml").read_text())
    return doc


@pytest.mark.parametrize(
    ("target", "selection", "listed_file"),
    [
        ("flink-operator", ["-d", "fraud-scoring"], "flinkdeployment-nightly-batch.yaml"),
        ("flink-operator", ["-p", "stateful-heavy"], "flinkdeployment-nightly-batch.yaml"),
        ("vvp-operator", ["-d", "fraud-scoring", "-e", "prod"], "vvpdeployment-nightly-batch.yaml"),
        ("vvp-operator", ["-p", "small"], "vvpdeployment-nightly-batch.yaml"),
    ],
)
def test_a_deployment_added_since_the_last_render_is_written_by_any_selection(
    config: Path, tmp_path: Path, target: str, selection: list[str], listed_file: str
) -> None:
    out = tmp_path / "out"
    rendered(config, out, "-t", target)
    add_deployment(config, "nightly-batch")  # profile high-throughput: outside every selection above
    check = run_cli("render", "--check", "-c", str(config), "-o", str(out), "-t", target, *selection)
    assert check.code == 1, check.stderr
    assert f"missing: {out / PROD / listed_file}" in check.stdout
    assert f"stale: {out / PROD / 'kustomization.yaml'}" in check.stdout
    rendered(config, out, "-t", target, *selection)
    assert (out / PROD / listed_file).is_file()
    assert_consistent(out)
    again = run_cli("render", "--check", "-c", str(config), "-o", str(out), "-t", target, *selection)
    assert again.code == 0, again.stdout


def test_changing_the_target_of_a_selected_render_writes_every_listed_file(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rendered(config, out)  # vvp: the VVP resources are not listed, the jobs' objects live in vvp/
    # the switch removes fraud-scoring's stateful VVP Deployment: only when asked
    before = tree_digest(out)
    switch = ("-t", "flink-operator", "-d", "fraud-scoring", "-e", "prod")
    refused = run_cli("render", "-c", str(config), "-o", str(out), *switch)
    assert refused.code == 2 and "--allow-delete" in refused.stderr
    assert tree_digest(out) == before
    rendered(config, out, "-t", "flink-operator", "-d", "fraud-scoring", "-e", "prod", "--allow-delete")
    assert_consistent(out)
    names = sorted(p.name for p in (out / PROD).glob("flinkdeployment-*.yaml"))
    assert names == [f"flinkdeployment-{n}.yaml" for n in ("clickstream-sessions", "events-ingest", "fraud-scoring")]


def test_other_deployments_listed_files_are_rendered_from_their_own_configuration(config: Path, tmp_path: Path) -> None:
    full, selected = tmp_path / "full", tmp_path / "selected"
    rendered(config, full, "-t", "flink-operator", "-e", "prod")
    rendered(config, selected, "-t", "flink-operator", "-e", "prod")
    args = ["-t", "flink-operator", "-e", "prod", "-d", "fraud-scoring", "--set", "spec.template.spec.parallelism=3"]
    rendered(config, selected, *args)
    assert (
        tree_digest(selected / PROD)["flinkdeployment-events-ingest.yaml"]
        == tree_digest(full / PROD)["flinkdeployment-events-ingest.yaml"]
    )
    assert flink_deployment(selected, "fraud-scoring")["spec"]["job"]["parallelism"] == 3  # type: ignore[index]
    assert flink_deployment(selected, "clickstream-sessions") == flink_deployment(full, "clickstream-sessions")
    assert_consistent(selected)


def test_a_set_with_a_deployment_reaches_only_that_deployment_and_names_it(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rendered(config, out, "-t", "flink-operator")
    before = tree_digest(out)
    # 8 slots: more than fraud-scoring's 4 TaskManagers x 1 slot, and than clickstream-sessions' 1 x 2
    args = ["--set", "spec.template.spec.parallelism=8", "-t", "flink-operator", "-e", "prod"]
    result = run_cli("render", "-c", str(config), "-o", str(out), "-d", "fraud-scoring", *args)
    key, message = "spec.template.spec.parallelism", "parallelism 8 needs 8 slots, but 4 TaskManagers"
    found = assert_problem(result, "<command line>", 1, 1, key, message)
    assert "(for deployment analytics/fraud-scoring)" in found
    assert len(problem_lines(result.stderr)) == 1
    assert tree_digest(out) == before
    everywhere = run_cli("render", "-c", str(config), "-o", str(out), *args)
    assert "(for deployment analytics/fraud-scoring)" in everywhere.stderr
    assert "(for deployment analytics/clickstream-sessions)" in everywhere.stderr
    assert len(problem_lines(everywhere.stderr)) == 2
    assert tree_digest(out) == before


def test_a_set_with_a_profile_reaches_only_that_profiles_deployments(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rendered(config, out, "-t", "flink-operator", "-e", "prod")
    rendered(config, out, *FLINK_PROD, "-p", "small", "--set", "spec.template.spec.parallelism=2")
    assert flink_deployment(out, "clickstream-sessions")["spec"]["job"]["parallelism"] == 2  # type: ignore[index]
    assert flink_deployment(out, "fraud-scoring")["spec"]["job"]["parallelism"] == 4  # type: ignore[index]
    assert flink_deployment(out, "events-ingest")["spec"]["job"]["parallelism"] != 2  # type: ignore[index]


def test_a_set_of_a_namespace_wide_key_with_a_deployment_is_refused(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rendered(config, out, "-e", "prod")
    before = tree_digest(out)
    key = "platform.kubernetes.quota.headroom"
    args = ["render", "-c", str(config), "-o", str(out), "-e", "prod", "--set", f"{key}=1"]
    result = run_cli(*args, "-d", "fraud-scoring")
    found = assert_problem(result, "<command line>", 1, 1, key, "--set with --deployment reaches the selected")
    assert "(hint: leave out --deployment to set it for whole namespaces" in found
    assert len(problem_lines(result.stderr)) == 1
    assert_problem(run_cli(*args, "-p", "small"), "<command line>", 1, 1, key, "--set with --profile")
    assert tree_digest(out) == before
    assert run_cli(*args, "-n", "analytics").code == 0  # the whole namespace: fine


def test_explain_and_check_apply_a_set_to_the_selected_deployment(config: Path) -> None:
    args = ["-c", str(config), "-e", "prod", "-d", "fraud-scoring", "--set", "spec.template.spec.parallelism=3"]
    explained = run_cli("explain", "spec.template.spec.parallelism", *args)
    assert explained.code == 0 and "= 3" in explained.stdout
    checked = run_cli("check", *args, "--format", "json")
    assert checked.code in (0, 1), checked.stderr
    bad = run_cli("check", *args[:-1], "spec.template.spec.parallelism=8")
    assert bad.code == 2
    assert "(for deployment analytics/fraud-scoring)" in bad.stderr and "clickstream" not in bad.stderr


def test_a_namespace_selection_renders_its_whole_folder(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rendered(config, out, "-t", "flink-operator", "-e", "dev")
    add_deployment(config, "nightly-batch")
    edit(config / "deployments/analytics/nightly-batch.yaml", "profile: high-throughput", "profile: small")
    rendered(config, out, "-t", "flink-operator", "-n", "analytics")
    assert_consistent(out)


def test_the_files_a_kustomization_lists_are_the_ones_directly_in_the_namespace_folder() -> None:
    """What a selected render writes of the deployments it leaves out (the listed files) is exactly
    what lies directly in a namespace folder: a rule on file paths can tell them apart."""
    for kind in kinds.registered().values():
        if kind.owner is kinds.Owner.ENVIRONMENT:
            continue
        top_level = "/" not in kind.folder + (kind.file or "")
        # your own objects (resources/) are listed from a subfolder: the namespace owns them, so a run
        # answers for them by their owner, never by their path
        own = kind.folder == "resources/" and kind.owner is kinds.Owner.NAMESPACE
        assert kind.listed == top_level or kind.file == "kustomization.yaml" or (kind.listed and own), kind.key


def test_a_listed_file_another_deployment_no_longer_renders_is_removed(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rendered(config, out, "-t", "flink-operator", "-e", "prod")
    edit(
        config / "deployments/analytics/events-ingest.yaml",
        "spec:\n  template:\n",
        "spec:\n  deploymentTargetName: null\n  sessionClusterName: shared\n  template:\n",
    )
    # a session job sizes nothing and fits the shared cluster (1 TaskManager x 1 slot)
    edit(
        config / "deployments/analytics/events-ingest.yaml",
        "      parallelism: 8\n      numberOfTaskManagers: 4\n",
        "      parallelism: 1\n",
    )
    # events-ingest leaves its FlinkDeployment (last-state) for a session job: a removal only when asked
    rendered(config, out, "-t", "flink-operator", "-e", "prod", "-d", "fraud-scoring", "--allow-delete")
    assert (out / PROD / "flinksessionjob-events-ingest.yaml").is_file()
    assert not (out / PROD / "flinkdeployment-events-ingest.yaml").exists()
    assert_consistent(out)
