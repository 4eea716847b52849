"""`gen diff`: the unified diff per resource of what a render would change, the input line behind
each changed line, `--base REF` against a git revision, `--format json`, and the exit codes."""

from __future__ import annotations

import difflib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.diff.causes import parse_line
from tests.conftest import edit, run_cli, tree_digest

PROFILE = "profiles/stateful-heavy.yaml"
OLD, NEW = "        jobmanager:\n          cpu: 1\n", "        jobmanager:\n          cpu: 2\n"


def _cpu_line(config: Path) -> int:
    """The line of the stateful-heavy profile that sets the JobManager's CPU."""
    lines = (config / PROFILE).read_text().splitlines()
    return next(i + 2 for i, line in enumerate(lines) if line == "        jobmanager:")


def _changed_files(before: Path, after: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Every file that differs between two rendered folders: its removed and added lines."""
    old, new = tree_digest(before), tree_digest(after)
    found = {}
    for path in sorted(set(old) | set(new)):
        if path == "gen-index.json" or old.get(path) == new.get(path):
            continue
        a = (before / path).read_text().splitlines() if path in old else []
        b = (after / path).read_text().splitlines() if path in new else []
        delta = list(difflib.ndiff(a, b))
        found[path] = ([d[2:] for d in delta if d.startswith("- ")], [d[2:] for d in delta if d.startswith("+ ")])
    return found


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=dev@example.com", "-c", "user.name=dev", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_a_profile_value_shows_every_affected_file_and_names_the_profile_line(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(config)  # input files are named as gen finds them: relative to here
    out = tmp_path / "out"
    assert run_cli("render", "-c", str(config), "-o", str(out)).code == 0
    edit(config / PROFILE, OLD, NEW)
    line = _cpu_line(config)
    truth = tmp_path / "truth"
    assert run_cli("render", "-c", str(config), "-o", str(truth)).code == 0
    expected = _changed_files(out, truth)
    assert len(expected) >= 6  # the job's Deployment, the profile's template and the quota, per environment
    before = tree_digest(out)

    result = run_cli("diff", "-o", str(out), "--no-color")

    assert result.code == 1
    assert tree_digest(out) == before  # diff writes nothing
    reported = {ln.rsplit("(", 1)[1].rstrip(")") for ln in result.stdout.splitlines() if ln.startswith("changed ")}
    assert reported == set(expected)
    report = result.stdout.splitlines()
    for path, (removed, added) in expected.items():
        start = report.index(f"--- a/{path}")
        section = report[start : report.index("", start)]
        assert [ln[1:] for ln in section if ln.startswith("-") and not ln.startswith("---")] == removed
        assert [ln[1:] for ln in section if ln.startswith("+") and not ln.startswith("+++")] == added
        if "/vvp/" in path:  # the job's and the template's `cpu: 2` are traced to the profile's line
            assert f"`cpu: 2`: set by {PROFILE}:{line} (spec.template.spec.resources.jobmanager.cpu)" in "\n".join(
                section
            )
    assert f"0 added, {len(expected)} changed, 0 removed" in result.stdout
    assert "\x1b[" not in result.stdout

    assert run_cli("render", "-c", str(config), "-o", str(out)).code == 0
    again = run_cli("diff", "-c", str(config), "-o", str(out))
    assert again.code == 0
    assert again.stdout.splitlines()[0] == "0 added, 0 changed, 0 removed"


def test_diff_against_the_previous_commit_names_the_line_that_changed(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(config)
    _git(config, "init", "-q", ".")
    _git(config, "add", "-A")
    _git(config, "commit", "-qm", "example")
    edit(config / PROFILE, OLD, NEW)
    _git(config, "commit", "-qam", "more CPU for stateful JobManagers")
    line = _cpu_line(config)

    result = run_cli("diff", "--base", "HEAD~1", "-e", "prod", "--no-color")

    assert result.code == 1, result.stderr
    because = f"changed because {PROFILE}:{line} changed (spec.template.spec.resources.jobmanager.cpu: 1 -> 2)"
    assert f"`cpu: 2`: {because}" in result.stdout
    assert "changed Deployment analytics/fraud-scoring (prod/analytics/vvp/deployment-fraud-scoring.yaml)" in (
        result.stdout
    )
    # the quota's totals are derived, not written anywhere: the file names the input that changed
    quota = result.stdout.split("(prod/analytics/resourcequota-flink.yaml)", 1)[1].split("\n\n", 1)[0]
    assert f"# {because}" in quota
    assert not (config / "out").exists()
    assert "compared with the configuration at HEAD~1" in result.stderr

    data = json.loads(run_cli("diff", "-c", str(config), "--base", "HEAD~1", "-e", "prod", "-f", "json").stdout)
    assert data["base"] == "HEAD~1" and data["changes"] is True
    assert data["summary"] == {"added": 0, "changed": 3, "removed": 0, "unchanged": data["summary"]["unchanged"]}
    deployment = next(f for f in data["files"] if f["kind"] == "Deployment")
    assert deployment["status"] == "changed" and "+          cpu: 2\n" in deployment["diff"]
    (cause,) = deployment["lines"][0]["causes"]
    assert cause == {
        "key": "spec.template.spec.resources.jobmanager.cpu",
        "file": PROFILE,
        "line": line,
        "column": 11,
        "value": 2,
        "old": 1,
        "changed": True,
    }

    same = run_cli("diff", "-c", str(config), "--base", "HEAD", "-f", "json")
    assert same.code == 0 and json.loads(same.stdout)["changes"] is False


def test_added_and_removed_deployments_are_added_and_removed_resources(config: Path) -> None:
    _git(config, "init", "-q", ".")
    _git(config, "add", "-A")
    _git(config, "commit", "-qm", "example")
    jobs = config / "deployments" / "analytics"
    (jobs / "fraud-replay.yaml").write_text((jobs / "fraud-scoring.yaml").read_text())
    (jobs / "events-ingest.yaml").unlink()

    data = json.loads(run_cli("diff", "-c", str(config), "--base", "HEAD", "-e", "dev", "-f", "json").stdout)

    added = {f["path"] for f in data["files"] if f["status"] == "added"}
    removed = {f["path"] for f in data["files"] if f["status"] == "removed"}
    assert "dev/analytics/vvp/deployment-fraud-replay.yaml" in added
    assert "dev/analytics/vvp/deployment-events-ingest.yaml" in removed
    assert data["summary"]["added"] == len(added) and data["summary"]["removed"] == len(removed)
    gone = next(f for f in data["files"] if f["path"] == "dev/analytics/vvp/deployment-events-ingest.yaml")
    assert gone["kind"] == "Deployment" and gone["diff"].count("\n-") > 10


def test_colour_on_request(config: Path, tmp_path: Path) -> None:
    result = run_cli("diff", "-c", str(config), "-o", str(tmp_path / "none"), "-e", "dev", "--color")
    assert result.code == 1  # nothing rendered yet: every file is added
    assert "\x1b[32m+" in result.stdout


def test_bad_revisions_and_folders_outside_git_are_usage_errors(config: Path) -> None:
    outside = run_cli("diff", "-c", str(config), "--base", "HEAD")
    assert outside.code == 2 and "is not in one" in outside.stderr
    _git(config, "init", "-q", ".")
    _git(config, "add", "-A")
    _git(config, "commit", "-qm", "example")
    unknown = run_cli("diff", "-c", str(config), "--base", "no-such-branch", "-f", "json")
    assert unknown.code == 2
    assert json.loads(unknown.stdout)["error"] == "unknown git revision 'no-such-branch'"


def test_a_problem_at_the_base_revision_names_the_file_as_git_does(config: Path) -> None:
    _git(config, "init", "-q", ".")
    edit(config / PROFILE, OLD, "        jobmanager:\n          cpu: lots\n")
    _git(config, "add", "-A")
    _git(config, "commit", "-qm", "broken")
    edit(config / PROFILE, "cpu: lots", "cpu: 1")
    result = run_cli("diff", "-c", str(config), "--base", "HEAD", "-e", "dev")
    assert result.code == 2
    assert f"HEAD:{PROFILE}:{_cpu_line(config)}:" in result.stderr


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("      parallelism: 4", ("parallelism", "4")),
        ("        taskmanager.numberOfTaskSlots: '1'", ("taskmanager.numberOfTaskSlots", "1")),
        ("  - name: feature-store", ("name", "feature-store")),
        ("    - 10.50.3.0/24", (None, "10.50.3.0/24")),
        ("      enabled: true", ("enabled", "true")),
        ("  spec:", None),
        ("  # a comment", None),
        ("      script: |", None),
    ],
)
def test_parse_line(text: str, parsed: tuple[str | None, str] | None) -> None:
    assert parse_line(text) == parsed


def test_a_value_rendered_under_another_key_is_traced_only_when_both_values_match(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(config)
    _git(config, "init", "-q", ".")
    _git(config, "add", "-A")
    _git(config, "commit", "-qm", "example")
    job = config / "deployments/analytics/clickstream-sessions.yaml"  # profile small: 2 slots per TaskManager
    job.write_text(job.read_text() + "      parallelism: 4\n      numberOfTaskManagers: 2\n")
    line = len(job.read_text().splitlines())

    result = run_cli("diff", "--base", "HEAD", "-e", "prod", "-t", "flink-operator", "--no-color")

    assert result.code == 1
    sections = {s.split("\n", 1)[0]: s for s in result.stdout.split("\n\n")}
    job_section = sections[
        "changed FlinkDeployment flink-analytics/clickstream-sessions "
        "(prod/analytics/flinkdeployment-clickstream-sessions.yaml)"
    ]
    # the operator's taskManager.replicas is the input's numberOfTaskManagers: 1 -> 2 on both sides
    # (parallelism went 2 -> 4: its new value matches, its old one does not)
    only = (
        f"`replicas: 2`: changed because deployments/analytics/clickstream-sessions.yaml:{line} changed "
        "(spec.template.spec.numberOfTaskManagers: 1 -> 2)"
    )
    assert any(ln.endswith(only) for ln in job_section.splitlines())
    # the quota's totals change too, but no input went from their old value to their new one
    quota = sections["changed ResourceQuota flink-analytics/flink (prod/analytics/resourcequota-flink.yaml)"]
    assert "# line" not in quota
    assert "# changed because deployments/analytics/clickstream-sessions.yaml:" in quota


def test_with_nothing_changed_diff_answers_from_the_cache_and_renders_nothing(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, render_cache: Path
) -> None:
    from generator import diff as diff_package
    from generator.render import steps

    rendered: list[str] = []
    real_documents, real_revision = steps.deployment_documents, diff_package.render_revision

    def documents(selection: Any, eff: Any) -> Any:
        rendered.append(f"{eff.env}/{eff.namespace}/{eff.deployment}")
        return real_documents(selection, eff)

    def revision(*args: Any, **kwargs: Any) -> Any:
        rendered.append("the base revision")
        return real_revision(*args, **kwargs)

    monkeypatch.setattr(steps, "deployment_documents", documents)
    monkeypatch.setattr(diff_package, "render_revision", revision)
    from generator.render import plan as plan_module

    units_read: list[int] = []  # calls of the path that reads every unit's entry
    real_cached = plan_module.cached
    monkeypatch.setattr(plan_module, "cached", lambda *args: units_read.append(1) or real_cached(*args))
    monkeypatch.chdir(config)
    out = tmp_path / "out"
    assert run_cli("render", "-c", str(config), "-o", str(out)).code == 0

    def both(*args: str) -> tuple[Any, Any]:
        """The diff with the cache (what renders it needed) and without it."""
        rendered.clear()
        warm = run_cli("diff", "--no-color", *args)
        done = list(rendered)
        cold = run_cli("diff", "--no-color", "--no-cache", *args)
        assert (warm.code, warm.stdout, warm.stderr) == (cold.code, cold.stdout, cold.stderr)
        return warm, done

    result, done = both("-o", str(out))
    assert result.code == 0 and "0 added, 0 changed, 0 removed" in result.stderr
    assert done == []  # answered from the inputs' digests, the cache and the folder
    assert units_read == []  # by the run's summary alone
    # a hand edit in the folder: reported as without the cache, still from the cache (the files and
    # the effective configurations the explanations read)
    (out / "prod/analytics/kustomization.yaml").write_text("# edited by hand\n")
    result, done = both("-o", str(out))
    assert result.code == 1 and done == [] and "changed " in result.stdout
    # an input edit: only the deployments it reaches are rendered again
    edit(config / PROFILE, OLD, NEW)
    result, done = both("-o", str(out))
    assert result.code == 1 and "set by " in result.stdout
    stateful = {
        f"{e}/{p.parent.name}/{p.stem}"
        for e in ("dev", "staging", "prod")
        for p in config.glob("deployments/*/*.yaml")
        if "stateful-heavy" in p.read_text()
    }
    assert stateful and set(done) == stateful
    edit(config / PROFILE, NEW, OLD)

    _git(config, "init", "-q", ".")
    _git(config, "add", "-A")
    _git(config, "commit", "-qm", "example")
    result, done = both("--base", "HEAD")
    assert result.code == 0 and "the base revision" not in done  # the same inputs: one render
    edit(config / PROFILE, OLD, NEW)
    result, done = both("--base", "HEAD")
    assert result.code == 1 and "the base revision" in done
    # again: the base is exported into the same folder, so it renders from the cache as well
    again, done = both("--base", "HEAD")
    assert (again.code, again.stdout, again.stderr) == (result.code, result.stdout, result.stderr)
    assert done == ["the base revision"]  # no deployment rendered on either side
    assert list((render_cache / "revisions").iterdir()) == []  # the export is removed after each run
    edit(config / PROFILE, NEW, OLD + "# only a comment\n")
    result, done = both("--base", "HEAD")  # other text, the same output: both rendered, nothing changes
    assert result.code == 0 and "the base revision" in done
