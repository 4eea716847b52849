"""The render cache never changes a byte: a render that reuses documents writes what a cold render
writes, a damaged, foreign or other version's entry is ignored, concurrent renders may share one
cache, and only what an edit reaches is rendered again. (The random-edit property test is in
tests/properties/test_incremental.py; benchmarks/ times the cache.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks import estate
from generator.config.layers import ConfigRepo
from generator.output import cache as cache_module
from generator.render import identity, parallel, steps
from tests.conftest import Result, edit, tree_digest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fleet_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet") / "config"
    estate.write(root, 3, 9)
    return root


@pytest.fixture
def fleet(fleet_source: Path, tmp_path: Path) -> Path:
    root = tmp_path / "config"
    shutil.copytree(fleet_source, root)
    return root


@pytest.fixture
def rendered_units(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (environment, namespace) units rendered (not reused) in this process."""
    calls: list[tuple[str, str]] = []
    real = parallel.render_one

    def spy(resolver: Any, selection: Any, env: str, namespace: str, *args: Any) -> Any:
        calls.append((env, namespace))
        return real(resolver, selection, env, namespace, *args)

    monkeypatch.setattr(parallel, "render_one", spy)
    return calls


@pytest.fixture
def rendered_deployments(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """The (environment, namespace, deployment) whose documents were rendered (not reused) in this process."""
    calls: list[tuple[str, str, str]] = []
    real = steps.deployment_documents

    def spy(selection: Any, eff: Any) -> Any:
        calls.append((eff.env, eff.namespace, eff.deployment))
        return real(selection, eff)

    monkeypatch.setattr(steps, "deployment_documents", spy)
    return calls


def _cold(cli: Callable[..., Result], config: Path, out: Path, *args: str) -> dict[str, str]:
    result = cli("render", "-c", str(config), "-o", str(out), "--no-cache", "-j", "1", *args)
    assert result.code == 0, result.stderr
    return tree_digest(out)


def _render(cli: Callable[..., Result], config: Path, out: Path, *args: str) -> dict[str, str]:
    result = cli("render", "-c", str(config), "-o", str(out), "-j", "1", *args)
    assert result.code == 0, result.stderr
    return tree_digest(out)


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.entry"))


def test_reused_documents_are_the_cold_render_byte_for_byte(
    fleet: Path,
    tmp_path: Path,
    cli: Callable[..., Result],
    render_cache: Path,
    rendered_units: list[tuple[str, str]],
    rendered_deployments: list[tuple[str, str, str]],
) -> None:
    out = tmp_path / "out"
    first = _render(cli, fleet, out)
    assert len(rendered_units) == 9  # 3 environments x 3 namespaces, all rendered
    assert first == _cold(cli, fleet, tmp_path / "cold0")
    rendered_units.clear()
    assert _render(cli, fleet, out) == first
    assert rendered_units == []  # nothing changed: every unit reused

    # one deployment file: its namespace in each environment, nothing else
    namespace = estate.namespace_names(3)[1]
    deployment = sorted((fleet / "deployments" / namespace).glob("*.yaml"))[0]
    edit(deployment, "--sink-topic out-", "--sink-topic changed-")
    rendered_units.clear()
    rendered_deployments.clear()
    after = _render(cli, fleet, out)
    assert sorted(rendered_units) == [(env, namespace) for env in ("dev", "prod", "staging")]
    # of those namespaces, only the edited deployment is resolved and rendered again
    assert sorted(rendered_deployments) == [(env, namespace, deployment.stem) for env in ("dev", "prod", "staging")]
    assert after == _cold(cli, fleet, tmp_path / "cold1") != first

    # one environment file: every namespace of that environment
    edit(fleet / "environments" / "prod.yaml", "runbooks.acme.internal", "runbooks.example.org")
    rendered_units.clear()
    assert _render(cli, fleet, out) == _cold(cli, fleet, tmp_path / "cold2")
    assert sorted(rendered_units) == [("prod", ns) for ns in sorted(estate.namespace_names(3))]

    # a profile: every unit with a deployment of that profile (here all of them)
    edit(fleet / "profiles" / "small.yaml", "cpu: 0.5", "cpu: 1")
    rendered_units.clear()
    rendered_deployments.clear()
    warm = _render(cli, fleet, out)
    assert len(rendered_units) == 9
    # of their deployments, those of that profile (the others did not read it)
    small = [p for p in fleet.glob("deployments/*/*.yaml") if "profile: small\n" in p.read_text()]
    assert small and len(small) < len(list(fleet.glob("deployments/*/*.yaml")))
    wanted = sorted((env, p.parent.name, p.stem) for env in ("dev", "prod", "staging") for p in small)
    assert sorted(rendered_deployments) == wanted
    assert warm == _cold(cli, fleet, tmp_path / "cold3")

    # a new deployment file and a removed one (the listing of layer files is part of every key)
    shutil.copy(deployment, deployment.with_name("copy-of-a-job.yaml"))
    other = sorted((fleet / "deployments" / estate.namespace_names(3)[2]).glob("*.yaml"))[0]
    other.unlink()
    assert _render(cli, fleet, out, "--allow-delete") == _cold(cli, fleet, tmp_path / "cold4")


def test_workers_are_forked_for_the_deployments_a_render_computes_not_those_it_reuses(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit whose deployments are mostly reused costs little to render, and every worker first loads
    the libraries and schemas: workers are forked when enough deployments are computed anew."""
    from generator.render import plan

    monkeypatch.setattr(plan, "PARALLEL_MIN_UNITS", 4)
    forked: list[int] = []
    real = parallel.render_units

    def spy(*args: Any, **kwargs: Any) -> Any:
        forked.append(len(args[2]))
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "render_units", spy)
    out = tmp_path / "out"

    def render() -> dict[str, str]:
        result = cli("render", "-c", str(fleet), "-o", str(out), "-j", "2")
        assert result.code == 0, result.stderr
        return tree_digest(out)

    render()
    assert forked == [9]  # an empty cache: 27 deployments to compute
    forked.clear()
    deployment = sorted((fleet / "deployments" / estate.namespace_names(3)[1]).glob("*.yaml"))[0]
    edit(deployment, "--sink-topic out-", "--sink-topic changed-")
    assert render() == _cold(cli, fleet, tmp_path / "cold1")
    assert forked == []  # three units to render again, but one deployment each: in this process
    edit(fleet / "profiles" / "small.yaml", "cpu: 0.5", "cpu: 1")
    assert render() == _cold(cli, fleet, tmp_path / "cold2")
    assert forked == [9]  # every deployment of that profile, in every unit


def _parts_entries(folder: Path) -> tuple[set[str], list[Any]]:
    """The keys of the base entries of units' parts in a cache folder, and every unit's parts entry
    (what changed since its base)."""
    from generator.render import incremental

    bases: set[str] = set()
    deltas: list[Any] = []
    for path in _entries(folder):
        key = path.name.removesuffix(".entry")
        if key.startswith("P"):
            bases.add(key)
        elif key.startswith("p"):
            value = cache_module._decode(path.read_bytes(), key)
            assert isinstance(value, incremental._Delta)
            deltas.append(value)
    return bases, deltas


def test_a_units_parts_are_stored_as_what_changed_since_they_were_stored_whole(
    tmp_path: Path,
    cli: Callable[..., Result],
    render_cache: Path,
    rendered_deployments: list[tuple[str, str, str]],
) -> None:
    """After one deployment changed, the parts of its units are stored as that deployment (and its
    shares) against the parts stored whole before, not whole again; when a quarter of a unit
    changed, whole again; parts whose whole entry is gone are computed anew."""
    fleet = tmp_path / "config"
    estate.write(fleet, 2, 16)  # 8 deployments per namespace
    out = tmp_path / "out"
    _render(cli, fleet, out)
    bases, deltas = _parts_entries(render_cache)
    assert len(bases) == 6 and len(deltas) == 6  # 3 environments x 2 namespaces, each stored whole
    assert all(d.base in bases and not d.deployments and not d.shares and not d.gone for d in deltas)

    namespace = estate.namespace_names(2)[0]
    files = sorted((fleet / "deployments" / namespace).glob("*.yaml"))
    edit(files[0], "--sink-topic out-", "--sink-topic changed-")
    assert _render(cli, fleet, out) == _cold(cli, fleet, tmp_path / "cold1")
    after, deltas = _parts_entries(render_cache)
    assert after == bases  # nothing stored whole again
    changed = sorted(sorted(d.deployments) for d in deltas if d.deployments)
    assert changed == [[files[0].stem]] * 3  # the deployment, in each environment
    assert all(set(d.shares) <= {files[0].stem} for d in deltas)

    # three more of the same namespace: half of its units changed since the base, stored whole again
    for path in files[1:4]:
        edit(path, "--sink-topic out-", "--sink-topic changed-")
    assert _render(cli, fleet, out) == _cold(cli, fleet, tmp_path / "cold2")
    again, deltas = _parts_entries(render_cache)
    assert len(again - after) == 3 and after <= again
    assert sum(1 for d in deltas if d.base in again - after and not d.deployments) == 3

    # the whole entries gone (pruned): the unit's deployments are computed anew, the output the cold one
    for key in again:
        (render_cache / key[:2] / f"{key}.entry").unlink()
    edit(files[4], "--sink-topic out-", "--sink-topic changed-")
    rendered_deployments.clear()
    warm = _render(cli, fleet, out)
    assert len(rendered_deployments) == 3 * 8  # every deployment of the namespace, in each environment
    assert warm == _cold(cli, fleet, tmp_path / "cold3")


def test_environment_documents_are_rendered_again_only_when_what_they_read_changes(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment renderers read each namespace's configuration and a view of each deployment
    (steps.deployment_view): a change to a deployment outside its view renders no environment again."""
    calls: list[str] = []
    real = steps.env_files

    def spy(selection: Any, env: str, *args: Any) -> Any:
        calls.append(env)
        return real(selection, env, *args)

    monkeypatch.setattr(steps, "env_files", spy)
    out = tmp_path / "out"
    _render(cli, fleet, out)
    files = sorted(fleet.glob("deployments/*/*.yaml"))
    deployment = next(p for p in files if "\nplatform:" not in p.read_text())  # one that sets no platform key

    edit(deployment, "--sink-topic out-", "--sink-topic changed-")  # its arguments: not in its view
    calls.clear()
    warm = _render(cli, fleet, out)
    assert calls == []
    assert warm == _cold(cli, fleet, tmp_path / "cold1")

    # its JobManager's account is in its view: every environment is rendered again, as a cold render does
    account = "platform:\n  kubernetes:\n    serviceAccounts:\n      jobmanager: jm-of-one-job\n"
    deployment.write_text(account + deployment.read_text())
    calls.clear()
    warm = _render(cli, fleet, out)
    assert sorted(calls) == ["dev", "prod", "staging"]
    assert warm == _cold(cli, fleet, tmp_path / "cold2")

    # the operator grants one job account per environment: the problem is at the line that sets it
    operator = ("-t", "flink-operator", "-o", str(tmp_path / "operator"), "-j", "1")
    warm_run = cli("render", "-c", str(fleet), *operator)
    cold_run = cli("render", "-c", str(fleet), *operator, "--no-cache")
    assert warm_run.code == cold_run.code == 2
    assert warm_run.stderr == cold_run.stderr
    assert f"{deployment}:4:" in warm_run.stderr
    differs = "platform.kubernetes.serviceAccounts.jobmanager: JobManager account 'jm-of-one-job' differs"
    assert differs in warm_run.stderr


def test_pod_templates_an_earlier_render_found_valid_are_not_checked_again(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking a first pod template loads every Kubernetes version's definitions: a deployment whose
    pods did not change is rendered again with the digests its last render found valid."""
    from generator.validate import kubernetes as k8s

    out = tmp_path / "out"
    _render(cli, fleet, out)
    checked: list[Any] = []
    real = k8s._pod_template_problems
    monkeypatch.setattr(k8s, "_pod_template_problems", lambda t: checked.append(t) or real(t))
    monkeypatch.setattr(k8s, "_VALID", set())  # as in a new process: only the cache knows them
    deployment = sorted((fleet / "deployments" / estate.namespace_names(3)[1]).glob("*.yaml"))[0]
    edit(deployment, "--sink-topic out-", "--sink-topic changed-")
    after = _render(cli, fleet, out)
    assert checked == []  # the deployment rendered again, its pod templates trusted
    monkeypatch.setattr(k8s, "_VALID", set())
    assert after == _cold(cli, fleet, tmp_path / "cold")
    assert checked  # a cold render checks them


def test_selections_and_set_are_part_of_the_key(fleet: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    for i, args in enumerate(
        (
            ["-e", "prod"],
            ["-p", "small"],
            ["-t", "flink-operator"],
            ["--set", "metadata.labels.cost-center=cc-x"],
            ["--set", "metadata.labels.cost-center=cc-y"],
            ["-n", estate.namespace_names(3)[0], "-e", "dev"],
            [],
        )
    ):
        cold = _cold(cli, fleet, tmp_path / f"cold{i}", *args)
        assert _render(cli, fleet, tmp_path / f"warm{i}", *args) == cold
        assert _render(cli, fleet, tmp_path / f"again{i}", *args) == cold


def test_a_damaged_or_foreign_entry_is_ignored(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], render_cache: Path
) -> None:
    cold = _cold(cli, fleet, tmp_path / "cold")
    _render(cli, fleet, tmp_path / "warm")
    entries = _entries(render_cache)
    assert len(entries) > 9
    for i, path in enumerate(entries):  # truncated, a flipped byte, empty, another entry's content
        blob = path.read_bytes()
        if i % 4 == 0:
            path.write_bytes(blob[: len(blob) // 2])
        elif i % 4 == 1:
            path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
        elif i % 4 == 2:
            path.write_bytes(b"")
        else:
            path.write_bytes(entries[(i + 1) % len(entries)].read_bytes())
    assert _render(cli, fleet, tmp_path / "after-damage") == cold
    for path in _entries(render_cache):  # garbage of another program under gen's names
        path.write_bytes(b"\x80\x04not an entry of gen")
    assert _render(cli, fleet, tmp_path / "after-garbage") == cold
    assert _render(cli, fleet, tmp_path / "repaired") == cold


class _Planted:
    """A payload that runs code when unpickled: what a job without the secret could plant."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_with_a_cache_key_only_entries_signed_with_it_are_read(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], render_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "c"
    signed, other, unsigned = (cache_module.Cache(folder, secret=s) for s in (b"ours", b"theirs", None))
    signed.put("a" * 64, {"v": 1})
    assert signed.get("a" * 64) == {"v": 1}
    assert other.get("a" * 64) is None and unsigned.get("a" * 64) is None
    # an entry planted by a job without the secret, with a correct SHA-256: never unpickled
    marker = tmp_path / "code-ran"
    unsigned.put("b" * 64, _Planted(marker))
    assert signed.get("b" * 64) is None and not marker.exists()

    # a render with the key: entries written without it are misses, the output is the cold one
    cold = _cold(cli, fleet, tmp_path / "cold")
    _render(cli, fleet, tmp_path / "unsigned")  # fills the cache without a key
    monkeypatch.setenv(cache_module.ENV_KEY, "a secret of the CI")
    before = {path: path.read_bytes() for path in _entries(render_cache)}
    assert _render(cli, fleet, tmp_path / "signed") == cold
    assert any(path.read_bytes() != blob for path, blob in before.items())  # stored again, signed
    assert _render(cli, fleet, tmp_path / "signed-again") == cold


def test_decode_refuses_what_it_did_not_store(tmp_path: Path) -> None:
    store = cache_module.Cache(tmp_path)
    store.put("ab" * 32, {"value": 1})
    assert store.get("ab" * 32) == {"value": 1}
    path = next(tmp_path.rglob("*.entry"))
    moved = tmp_path / "cd" / ("cd" * 32 + ".entry")
    moved.parent.mkdir()
    shutil.copy(path, moved)
    assert store.get("cd" * 32) is None  # stored under another key
    assert store.get("ef" * 32) is None  # never stored


def test_a_cache_of_another_gen_version_is_not_used(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries written by a gen whose code differs (here: one that writes a comment into every
    document) are never reused by this gen."""
    cold = _cold(cli, fleet, tmp_path / "cold")
    with monkeypatch.context() as other:
        real_dump = steps.dump_yaml
        other.setattr(steps, "dump_yaml", lambda data: "# another gen\n" + real_dump(data))
        other.setattr(identity, "code_identity", lambda: "another gen version")
        other_tree = _render(cli, fleet, tmp_path / "other")
    assert other_tree != cold
    assert _render(cli, fleet, tmp_path / "this") == cold
    # and the code identity changes with any file of the package
    assert len(identity.code_identity()) == 64


def test_no_cache_neither_reads_nor_writes(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], render_cache: Path
) -> None:
    _cold(cli, fleet, tmp_path / "cold")
    assert _entries(render_cache) == []
    elsewhere = tmp_path / "chosen-cache"
    result = cli("render", "-c", str(fleet), "-o", str(tmp_path / "o"), "--cache-dir", str(elsewhere), "-j", "1")
    assert result.code == 0, result.stderr
    assert _entries(elsewhere) and _entries(render_cache) == []


def test_check_with_nothing_changed_renders_nothing(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], rendered_units: list[tuple[str, str]]
) -> None:
    out = tmp_path / "out"
    _render(cli, fleet, out)
    rendered_units.clear()
    check = cli("render", "-c", str(fleet), "-o", str(out), "--check")
    assert check.code == 0, check.stderr
    assert rendered_units == []
    (out / "prod" / estate.namespace_names(3)[0] / "kustomization.yaml").write_text("edited by hand\n")
    check = cli("render", "-c", str(fleet), "-o", str(out), "--check")
    assert check.code == 1 and "stale:" in check.stdout
    assert rendered_units == []


def test_check_answers_from_the_run_summary_as_a_cold_check_does(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing changed since a render, ``--check`` answers from the run's summary (nothing is
    rendered, not even from the cache); whatever changed, in the inputs or in the folder, it says
    what a check without the cache says."""
    from generator.render import plan

    out = tmp_path / "out"
    _render(cli, fleet, out)
    namespace = estate.namespace_names(3)[0]

    def check(*args: str) -> tuple[int, str, str]:
        warm = cli("render", "-c", str(fleet), "-o", str(out), "-j", "1", "--check", *args)
        cold = cli("render", "-c", str(fleet), "-o", str(out), "-j", "1", "--check", "--no-cache", *args)
        assert (warm.code, warm.stdout, warm.stderr) == (cold.code, cold.stdout, cold.stderr)
        return warm.code, warm.stdout, warm.stderr

    with monkeypatch.context() as patched:  # the summary answers: nothing renders
        patched.setattr(plan, "render", lambda *a, **k: pytest.fail("rendered although nothing changed"))
        assert cli("render", "-c", str(fleet), "-o", str(out), "--check").code == 0
    assert check()[0] == 0
    assert check("-e", "prod", "-n", namespace)[0] == 0
    assert check("--format", "json")[0] == 0
    kustomization = out / "prod" / namespace / "kustomization.yaml"
    kept = kustomization.read_text()
    kustomization.write_text("edited by hand\n")
    assert check() == (1, f"stale: {kustomization}\n", f"{out} is out of date: run the same command without --check\n")
    kustomization.write_text(kept)
    (out / "prod" / namespace / "extra.yaml").write_text("a: 1\n")
    assert check("--format", "json")[0] == 1
    (out / "prod" / namespace / "extra.yaml").unlink()
    deployment = sorted((fleet / "deployments" / namespace).glob("*.yaml"))[0]
    edit(deployment, "--sink-topic out-", "--sink-topic changed-")
    code, stdout, _ = check()
    assert code == 1 and stdout.count("stale:") == 3  # the edited deployment's file in each environment
    (fleet / "profiles" / "unused.yaml").write_text("extends: small\n")  # a new input, read by no deployment
    assert check()[0] == 1
    (fleet / "profiles" / "typo.yml").write_text("extends: small\n")  # a file gen refuses to overlook
    code, _, stderr = check()
    assert code == 2 and "typo.yml" in stderr
    (fleet / "profiles" / "typo.yml").unlink()
    _render(cli, fleet, out)
    assert check()[0] == 0


def test_a_check_with_nothing_changed_imports_no_renderer(fleet: Path, tmp_path: Path) -> None:
    """The fast path of ``--check`` loads neither the renderers nor the libraries of templates,
    validation and credential scanning (a third of a second of every CI check)."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "GEN_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-m", "generator", "render", "-c", str(fleet), "-o", str(out)], env=env, check=True)
    script = (
        "import sys\n"
        "from generator import cli\n"
        f"sys.argv = ['gen', 'render', '-c', {str(fleet)!r}, '-o', {str(out)!r}, '--check']\n"
        "try:\n    cli.main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "heavy = ('jinja2', 'jsonschema', 'detect_secrets', 'generator.render.steps', 'generator.config.resolve')\n"
        "print(code, sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == "0 []\n", done.stderr
    assert "is up to date" in done.stderr


@pytest.mark.gen_bug
def test_a_bug_in_reuse_falls_back_to_a_cold_render_and_is_logged(
    fleet: Path,
    tmp_path: Path,
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failure of the reuse path that is no input problem still writes the cold render's bytes, and
    is logged (GEN_DEBUG=1 prints it; the autouse fixture fails every other test on it)."""
    out = tmp_path / "out"
    _render(cli, fleet, out)
    deployment = sorted((fleet / "deployments" / estate.namespace_names(3)[0]).glob("*.yaml"))[0]
    edit(deployment, "--sink-topic out-", "--sink-topic changed-")

    def broken(*args: Any) -> bool:
        raise RuntimeError("a bug in reusing parts")

    monkeypatch.setattr(ConfigRepo, "unchanged", broken)
    with caplog.at_level("DEBUG", logger="generator.render.parallel"):
        assert _render(cli, fleet, out) == _cold(cli, fleet, tmp_path / "cold")
    failures = [r for r in caplog.records if r.name == "generator.render.parallel"]
    assert failures and failures[0].exc_info is not None
    assert "a bug in reusing parts" in str(failures[0].exc_info[1])


def test_gen_debug_prints_why_a_faster_path_was_not_taken(fleet: Path, tmp_path: Path) -> None:
    """With GEN_DEBUG=1 the command line prints what gen's logger records: here a reuse that failed."""
    env = {**os.environ, "GEN_CACHE_DIR": str(tmp_path / "cache")}
    args = ["render", "-c", str(fleet), "-o", str(tmp_path / "out"), "-j", "1"]
    subprocess.run([sys.executable, "-m", "generator", *args], env=env, check=True, capture_output=True)
    edit(sorted((fleet / "deployments").glob("*/*.yaml"))[0], "--sink-topic out-", "--sink-topic changed-")
    script = (
        "import sys\n"
        "from generator import cli\n"
        "from generator.config.layers import ConfigRepo\n"
        "def broken(*args):\n    raise RuntimeError('a bug in reusing parts')\n"
        "ConfigRepo.unchanged = broken\n"
        f"sys.argv = ['gen', *{args!r}]\n"
        "cli.main()\n"
    )
    for debug, shown in (("1", True), ("", False)):
        done = subprocess.run(
            [sys.executable, "-c", script], env={**env, "GEN_DEBUG": debug}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert ("debug: generator.render.parallel:" in done.stderr) is shown
        assert ("RuntimeError: a bug in reusing parts" in done.stderr) is shown


def test_a_problem_is_reported_as_a_cold_render_reports_it(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    _render(cli, fleet, tmp_path / "warm")
    deployment = sorted((fleet / "deployments" / estate.namespace_names(3)[0]).glob("*.yaml"))[0]
    edit(deployment, "spec:\n", "spec:\n  bogusKey: 1\n")
    warm = cli("render", "-c", str(fleet), "-o", str(tmp_path / "w2"), "-j", "1")
    cold = cli("render", "-c", str(fleet), "-o", str(tmp_path / "w2"), "-j", "1", "--no-cache")
    assert warm.code == cold.code == 2
    assert warm.stderr == cold.stderr and "bogusKey" in warm.stderr


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    store = cache_module.Cache(tmp_path, limit=200_000)
    for i in range(40):
        store.put(f"{i:064x}", "x" * 20_000)
    store.prune()
    total = sum(p.stat().st_size for p in _entries(tmp_path))
    assert total <= 200_000
    assert store.get(f"{39:064x}") is not None  # the most recent entries stay
    assert not list(tmp_path.rglob(".tmp-*"))  # every write was renamed into place


def test_the_folder_is_measured_only_when_it_may_be_near_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prune measures the folder (a system call per entry) when no measurement is recorded, when
    the last one and what runs stored since come near the limit, or when it is an hour old; else it
    adds what this run stored to the record. Whatever the record says, the folder stays bounded."""
    scans: list[str] = []

    class CountingOs:  # the cache module's os, counting the listings of the folder
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def scandir(self, path: Any) -> Any:
            if Path(path) == tmp_path:
                scans.append("scan")
            return os.scandir(path)

    monkeypatch.setattr(cache_module, "os", CountingOs())
    record = tmp_path / cache_module.SIZE_FILE

    def run(entries: int, first: int, limit: int = 1_000_000) -> cache_module.Cache:
        store = cache_module.Cache(tmp_path, limit=limit)
        for i in range(first, first + entries):
            store.put(f"{i:064x}", "x" * 20_000)
        store.prune()
        return store

    run(5, 0)
    assert len(scans) == 1  # nothing recorded yet
    measured = sum(p.stat().st_size for p in _entries(tmp_path))
    assert record.read_text().split("\n")[1].split()[::2] == [str(measured), "0"]
    stored = run(5, 5)
    assert len(scans) == 1, "measured though far below the limit"
    assert record.read_text().split("\n")[1].split()[::2] == [str(measured), str(stored.stored_bytes)]
    run(40, 10)  # past 90 % of the limit with what was stored since: measured, and pruned
    assert len(scans) == 2
    assert sum(p.stat().st_size for p in _entries(tmp_path)) <= 1_000_000
    _, when, _ = record.read_text().split("\n")[1].split()
    hour_ago = int(when) - cache_module.SCAN_EVERY_NS
    record.write_text(record.read_text().replace(f" {when} ", f" {hour_ago} "))
    run(1, 50)
    assert len(scans) == 3  # an hour old
    for damaged in ("", "gen-render-cache-size 1\n-5 0 0\n", "other\n1 2 3\n", "gen-render-cache-size 1\nx\n"):
        record.write_text(damaged)
        run(1, 51)
    assert len(scans) == 7
    record.write_text(f"gen-render-cache-size 1\n0 {time.time_ns()} 0\n")  # a record that says empty
    run(60, 60, limit=300_000)
    assert sum(p.stat().st_size for p in _entries(tmp_path)) <= 300_000  # a run's own bytes count


def test_deferred_entries_are_kept_in_memory_until_flushed(tmp_path: Path) -> None:
    """Inside ``deferred()`` (a render, until the previous output tree is being removed) what is put
    is found by ``get`` at once and stored by ``flush`` or at the end of the block; a prune waits for
    those entries; a process forked inside the block stores its own entries at once."""
    store = cache_module.Cache(tmp_path, limit=150_000)
    first, second, forked = (f"{i:064x}" for i in range(3))
    with store.deferred():
        for i in range(10, 20):
            store.put(f"{i:064x}", "x" * 20_000)
        store.put(first, {"a": 1})  # the most recent: kept by the prune
        assert store.get(first) == {"a": 1} and _entries(tmp_path) == []
        store.prune()  # asked for before the entries are stored: done once they are
        assert _entries(tmp_path) == []
        pid = os.fork()
        if pid == 0:  # a worker of a parallel render
            store.put(forked, "from a worker")
            os._exit(0 if cache_module.Cache(tmp_path).get(forked) == "from a worker" else 1)
        assert os.waitpid(pid, 0)[1] == 0
        store.flush()
        assert cache_module.Cache(tmp_path).get(first) == {"a": 1}
        assert sum(p.stat().st_size for p in _entries(tmp_path)) <= 150_000  # pruned after the flush
        store.put(second, "after the flush")
        store.forget(first)
        assert store.get(first) is None and cache_module.Cache(tmp_path).get(second) is None
    assert cache_module.Cache(tmp_path).get(second) == "after the flush"  # stored at the end of the block
    store.put(first, "outside the block")  # stored at once
    assert cache_module.Cache(tmp_path).get(first) == "outside the block"


@pytest.fixture
def contents_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the contents entries (``t``) read in this process."""
    keys: list[str] = []
    real = cache_module.Cache.get

    def spy(self: cache_module.Cache, key: str) -> Any:
        if key.startswith("t"):
            keys.append(key)
        return real(self, key)

    monkeypatch.setattr(cache_module.Cache, "get", spy)
    return keys


def test_reused_files_are_read_from_the_cache_only_to_be_written(
    fleet: Path,
    tmp_path: Path,
    cli: Callable[..., Result],
    render_cache: Path,
    contents_read: list[str],
    rendered_units: list[tuple[str, str]],
) -> None:
    """A reused unit's entry gives its files' digests; their contents are an entry of their own, read
    only when a file must be written (not when the folder already holds it), and checked: contents the
    cache no longer holds, or not the ones the digests name, are rendered cold."""
    from generator.config.resolve import Resolver
    from generator.render import plan
    from generator.render.selection import Selection

    out = tmp_path / "out"
    _render(cli, fleet, out)
    edit(sorted((fleet / "deployments").glob("*/*.yaml"))[0], "--sink-topic out-", "--sink-topic changed-")
    contents_read.clear()
    assert _render(cli, fleet, out) == (cold := _cold(cli, fleet, tmp_path / "cold"))
    assert contents_read == []  # the folder held every reused file: linked, not read

    contents_read.clear()
    assert _render(cli, fleet, tmp_path / "empty") == cold  # every file written: the contents are read
    assert len(contents_read) == 9  # every unit reused, each unit's contents read once

    def contents_entries() -> list[Path]:
        return [p for p in _entries(render_cache) if p.parent.name.startswith("t")]

    assert len(contents_entries()) >= 9
    for path in contents_entries():
        path.unlink()
    rendered_units.clear()
    assert _render(cli, fleet, tmp_path / "gone") == cold  # found gone when needed: those units rendered again
    assert len(rendered_units) == 9
    rendered_units.clear()
    contents_read.clear()
    assert _render(cli, fleet, tmp_path / "again") == cold  # and stored whole again
    assert rendered_units == [] and len(contents_read) == 9

    store = cache_module.Cache(render_cache)
    for path in contents_entries():
        key = path.name.removesuffix(".entry")
        found = store.get(key)
        assert isinstance(found, tuple)
        store.put(key, tuple(text + "# not what was compared\n" for text in found))  # a whole entry, other bytes
    assert _render(cli, fleet, tmp_path / "other-bytes") == cold

    for path in contents_entries():
        path.unlink()
    repo = ConfigRepo(fleet)
    files = plan.render(repo, Resolver(repo), Selection(), cache=store)  # what gen diff renders with
    assert {f.path: f.content for f in files} == {
        f.path: f.content for f in plan.render(repo, Resolver(repo), Selection())
    }


def test_concurrent_renders_share_one_cache(fleet: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    cold = _cold(cli, fleet, tmp_path / "cold")
    shared = tmp_path / "shared-cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GEN_CACHE_DIR": str(shared)}

    def start(out: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "generator", "render", "-c", str(fleet), "-o", str(tmp_path / out), "-j", "2"]
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    for round_ in range(2):  # both start with an empty cache, then both reuse it
        runs = [start(f"r{round_}-{i}") for i in range(3)]
        for run in runs:
            _, err = run.communicate(timeout=300)
            assert run.returncode == 0, err.decode()
        for i in range(3):
            assert tree_digest(tmp_path / f"r{round_}-{i}") == cold
    assert not list(shared.rglob(".tmp-*"))


def test_unchanged_files_are_linked_never_a_symlink_put_in_their_place(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    out = tmp_path / "out"
    first = _render(cli, fleet, out)
    path = out / "prod" / estate.namespace_names(3)[0] / "kustomization.yaml"
    elsewhere = tmp_path / "elsewhere.yaml"
    shutil.copy(path, elsewhere)
    path.unlink()
    path.symlink_to(elsewhere)  # the same bytes, through a link
    edit(fleet / "environments" / "prod.yaml", "runbooks.acme.internal", "runbooks.example.org")
    second = _render(cli, fleet, out)
    assert second != first and second == _cold(cli, fleet, tmp_path / "cold")
    assert not path.is_symlink() and path.read_bytes() == elsewhere.read_bytes()


def test_changes_answers_whether_a_render_would_change_anything(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], render_cache: Path, rendered_units: list[tuple[str, str]]
) -> None:
    """The function ``gen diff`` and ``--check`` rely on: in memory, with the cache, writing nothing."""
    from generator.config.resolve import Resolver
    from generator.output.cache import Cache
    from generator.render import plan

    out = tmp_path / "out"
    written = _render(cli, fleet, out)
    rendered_units.clear()
    repo = ConfigRepo(fleet)
    files, result = plan.changes(repo, Resolver(repo), plan.Selection(), out, Cache(render_cache))
    assert not result.drift and rendered_units == []
    assert {f.path for f in files} | {"gen-index.json"} == set(written)
    namespace = estate.namespace_names(3)[0]
    deployment = sorted((fleet / "deployments" / namespace).glob("*.yaml"))[0]
    edit(deployment, "--sink-topic out-", "--sink-topic changed-")
    repo = ConfigRepo(fleet)
    files, result = plan.changes(repo, Resolver(repo), plan.Selection(), out, Cache(render_cache))
    assert result.drift and all(path.split("/")[1] == namespace for path in result.stale)
    assert sorted(rendered_units) == [(env, namespace) for env in ("dev", "prod", "staging")]
    assert tree_digest(out) == written  # nothing written


def test_a_cache_folder_that_cannot_be_written_only_stores_nothing(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    cold = _cold(cli, fleet, tmp_path / "cold")
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    result = cli("render", "-c", str(fleet), "-o", str(tmp_path / "o"), "--cache-dir", str(not_a_folder), "-j", "1")
    assert result.code == 0, result.stderr
    assert tree_digest(tmp_path / "o") == cold


def test_own_resources_are_inputs_of_the_cache_key(fleet: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    """The files of resources/ are read outside the layer files: an edit, an added or a removed one
    still renders what a cold render writes."""
    namespace = estate.namespace_names(3)[0]
    folder = fleet / "resources" / namespace
    folder.mkdir(parents=True)
    pdb = folder / "pdb.yaml"
    pdb.write_text(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: jobs\n"
        "spec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app: jobs\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    first = _render(cli, fleet, out)
    assert first == _cold(cli, fleet, tmp_path / "cold0")
    edit(pdb, "maxUnavailable: 1", "maxUnavailable: 2")
    second = _render(cli, fleet, out)
    assert second == _cold(cli, fleet, tmp_path / "cold1") != first
    (folder / "prod").mkdir()
    shutil.copy(pdb, folder / "prod" / "pdb.yaml")
    edit(folder / "prod" / "pdb.yaml", "maxUnavailable: 2", "maxUnavailable: 3")
    assert _render(cli, fleet, out) == _cold(cli, fleet, tmp_path / "cold2") != second
    shutil.rmtree(folder / "prod")
    assert _render(cli, fleet, out) == second


def _settle(folder: Path) -> None:
    """Every file of ``folder`` last modified a minute ago (as files rendered by an earlier run are)."""
    past = time.time() - 60
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def test_a_file_changed_by_hand_is_found_though_a_run_vouched_for_it(
    fleet: Path, tmp_path: Path, cli: Callable[..., Result], render_cache: Path
) -> None:
    """An earlier run's stamps spare reading unchanged files; any change of a file changes its stamp."""
    from generator.output.cache import Cache

    out = tmp_path / "out"
    written = _render(cli, fleet, out)
    _settle(out)
    assert cli("render", "--check", "-c", str(fleet), "-o", str(out)).code == 0
    seen = Cache(render_cache).seen(out)
    assert set(seen) | {"gen-index.json"} == set(written)  # every file, each with the bytes it held

    target = out / "prod" / estate.namespace_names(3)[0] / "kustomization.yaml"
    text = target.read_text()
    target.write_text(text.replace("apiVersion", "apiversion", 1))  # in place: the same inode and size
    check = cli("render", "--check", "-c", str(fleet), "-o", str(out))
    assert check.code == 1 and f"stale: {target}" in check.stdout
    assert _render(cli, fleet, out) == written  # put back

    # a file replaced (another inode), even with the old time: read, not trusted
    _settle(out)
    assert cli("render", "--check", "-c", str(fleet), "-o", str(out)).code == 0
    replaced = tmp_path / "replaced.yaml"
    replaced.write_text(text.replace("apiVersion", "apiversion", 1))
    info = target.stat()
    os.utime(replaced, ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(replaced, target)
    check = cli("render", "--check", "-c", str(fleet), "-o", str(out))
    assert check.code == 1 and f"stale: {target}" in check.stdout


def test_stamps_vouch_only_for_settled_regular_files(tmp_path: Path) -> None:
    from generator.output import OutFile, Owner, Scope, plan
    from generator.output.index import SETTLED_NS, seen_files

    out = tmp_path / "out"
    out.mkdir()
    owner = Owner("dev", "ns")
    old, fresh = OutFile("dev/ns/old.yaml", "a: 1\n", owner), OutFile("dev/ns/fresh.yaml", "b: 1\n", owner)
    for f in (old, fresh):
        (out / f.path).parent.mkdir(parents=True, exist_ok=True)
        (out / f.path).write_text(f.content)
    now = time.time_ns()
    os.utime(out / old.path, ns=(now - 2 * SETTLED_NS, now - 2 * SETTLED_NS))
    seen = seen_files(plan(out, [old, fresh], Scope(), force=True), now)
    assert set(seen) == {old.path}  # modified within the clock's granularity of now: not vouched for
    (out / "dev/ns/link.yaml").symlink_to("old.yaml")  # the same bytes through a symlink: no stamp
    linked = OutFile("dev/ns/link.yaml", old.content, owner)
    assert plan(out, [linked], Scope(), force=True).unchanged == [linked.path]
    assert seen_files(plan(out, [linked], Scope(), force=True), now) == {}
    (out / "dev/ns/link.yaml").unlink()
    # a stamp vouches for the bytes it was taken with: other content to write is stale, not unchanged
    other = OutFile(old.path, "a: 2\n", owner)
    assert plan(out, [other], Scope(), force=True, seen=seen).stale == [old.path]
    assert plan(out, [old], Scope(), force=True, seen=seen).unchanged == [old.path]
    (out / old.path).write_text("a: 3\n")  # changed: another stamp, so the file is read
    assert plan(out, [old], Scope(), force=True, seen=seen).stale == [old.path]
