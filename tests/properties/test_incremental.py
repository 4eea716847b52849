"""Incremental equals cold: after any sequence of edits to a configuration, a render that reuses the
cache writes exactly the bytes of a render without it, and fails exactly as it fails.

One configuration folder (at one path) and one cache live through all examples, so each example
starts from whatever the previous ones left in the cache: entries of other versions of the same
files, of other selections, of failed runs."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import estate
from tests.conftest import Result, run_cli, tree_digest


def _sub(pattern: str, replacement: str) -> Callable[[Path, int], None]:
    def apply(path: Path, n: int) -> None:
        text = path.read_text()
        path.write_text(re.sub(pattern, replacement.format(n=n), text, count=1, flags=re.M))

    return apply


_ACCOUNT = "platform: {{kubernetes: {{serviceAccounts: {{jobmanager: jm-{n}}}}}}}"  # braces doubled: format()

# (which files, what edit): some change output, some only text, some break the configuration
EDITS: list[tuple[str, Callable[[Path, int], None]]] = [
    ("deployments/*/*.yaml", _sub(r"--sink-topic \S+", "--sink-topic t{n}")),
    ("deployments/*/*.yaml", _sub(r"cost-center: \S+", "cost-center: cc-{n}")),
    ("deployments/*/*.yaml", _sub(r"^profile: \S+", "profile: small")),
    ("deployments/*/*.yaml", _sub(r"^spec:\n", "spec:\n  bogusKey: {n}\n")),
    ("deployments/*/*.yaml", _sub(r"\A", "# a comment {n}\n")),
    # in the deployment's view (what the environment renderers read): one JobManager account per environment
    ("deployments/*/*.yaml", _sub(r"^profile:", _ACCOUNT + "\nprofile:")),
    ("profiles/*.yaml", _sub(r"cpu: 0\.5$", "cpu: 1")),
    ("profiles/*.yaml", _sub(r"cpu: 1$", "cpu: 0.5")),
    ("environments/*.yaml", _sub(r"runbooks\.acme\.internal\S*", "runbooks.acme.internal/r{n}")),
    # where Prometheus runs: every deployment's NetworkPolicies admit its scrapes
    ("environments/*.yaml", _sub(r"^    namespace: monitoring\S*$", "    namespace: monitoring-{n}")),
    ("namespaces/*.yaml", _sub(r"ports: \[9093\]", "ports: [{n}]")),
    ("namespaces/*.yaml", _sub(r"kubernetesNamespace: \S+", "kubernetesNamespace: flink-shared")),
    ("baseline.yaml", _sub(r"\A", "# baseline {n}\n")),
]
ADD, REMOVE = "add a deployment", "remove a deployment"
_STEP = st.tuples(st.sampled_from([*range(len(EDITS)), ADD, REMOVE]), st.integers(0, 10_000))
SELECTIONS = ([], ["-e", "prod"], ["-p", "small"], ["-t", "flink-operator"])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("estate") / "config"
    estate.write(root, 3, 9)
    return root


def _apply(config: Path, step: object, n: int) -> None:
    if step == ADD:
        existing = sorted(config.glob("deployments/*/*.yaml"))  # fewer than 9 after a removal
        source = existing[n % len(existing)]
        copies = (source.with_name(f"added-{n}-{i}.yaml") for i in range(100))
        shutil.copy(source, next(path for path in copies if not path.exists()))  # a new file, even if n repeats
        return
    files = sorted(config.glob("deployments/*/*.yaml" if step == REMOVE else EDITS[int(str(step))][0]))
    if not files:
        return
    path = files[n % len(files)]
    if step == REMOVE:
        path.unlink()
    else:
        EDITS[int(str(step))][1](path, n)


def _render(config: Path, out: Path, selection: list[str], *extra: str) -> Result:
    return run_cli("render", "-c", str(config), "-o", str(out), "-j", "1", "--allow-delete", *selection, *extra)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEP, min_size=1, max_size=3), which=st.sampled_from(range(len(SELECTIONS))))
def test_incremental_render_is_the_cold_render(
    base: Path, tmp_path: Path, steps: list[tuple[object, int]], which: int
) -> None:
    config, warm_out, cold_out = tmp_path / "config", tmp_path / "warm", tmp_path / "cold"
    for folder in (config, warm_out, cold_out):
        if folder.exists():
            shutil.rmtree(folder)
    shutil.copytree(base, config)
    selection = SELECTIONS[which]
    _render(config, warm_out, selection)  # the state before the edits, in the cache
    for step, n in steps:
        _apply(config, step, n)
    warm = _render(config, warm_out, selection)
    cold = _render(config, cold_out, selection, "--no-cache")
    assert warm.code == cold.code
    if cold.code == 0:
        assert tree_digest(warm_out) == tree_digest(cold_out)
    else:
        assert warm.stderr.replace(str(warm_out), "OUT") == cold.stderr.replace(str(cold_out), "OUT")
