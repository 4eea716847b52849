"""Validated layers kept in the render cache (:meth:`ConfigRepo.keep_layers`), and what that spares an
incremental render: parsing and validating the layer files it read before, and with them jsonschema."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import estate
from generator.config import layers
from generator.config.layers import ConfigRepo, Layer
from generator.errors import InputError
from tests.conftest import edit


class _Store:
    """A render cache in memory that pickles what it keeps, as the real one does."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def get(self, key: str) -> Any | None:
        blob = self.entries.get(key)
        return None if blob is None else pickle.loads(blob)

    def put(self, key: str, value: Any) -> None:
        self.entries[key] = pickle.dumps(value)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files parsed (not taken from the store) in this test."""
    seen: list[str] = []
    real = layers.parse_text

    def spy(text: str, shown: str) -> Any:
        seen.append(shown.rsplit("/", 1)[-1])
        return real(text, shown)

    monkeypatch.setattr(layers, "parse_text", spy)
    return seen


def _kept_repo(config: Path, store: _Store, identity: str = "gen") -> ConfigRepo:
    repo = ConfigRepo(config)
    repo.keep_layers(store, identity)
    return repo


def _same(a: Layer, b: Layer) -> None:
    assert (a.kind, a.name, a.label, a.meta) == (b.kind, b.name, b.label, b.meta)
    assert (a.doc.file, a.doc.data, a.doc.marks) == (b.doc.file, b.doc.data, b.doc.marks)
    assert [(e, d.data, d.marks) for e, d in a.sections.items()] == [
        (e, d.data, d.marks) for e, d in b.sections.items()
    ]


def test_a_layer_read_again_is_taken_from_the_store_as_it_was_validated(config: Path, parses: list[str]) -> None:
    store = _Store()
    first = _kept_repo(config, store).layer("namespace", "analytics")
    assert parses == ["analytics.yaml"] and len(store.entries) == 1
    again = _kept_repo(config, store)
    with again.recording() as reads:
        second = again.layer("namespace", "analytics")
    assert parses == ["analytics.yaml"], "parsed again"
    _same(first, second)
    cold = ConfigRepo(config).layer("namespace", "analytics")
    _same(cold, second)
    assert reads == {("namespace", "/analytics"): again.current_digest("namespace", "/analytics")}


def test_what_the_layer_depends_on_is_in_its_key(config: Path, parses: list[str]) -> None:
    store = _Store()
    _kept_repo(config, store).layer("namespace", "analytics")
    edit(config / "namespaces" / "analytics.yaml", "description:", "# a comment\ndescription:")
    changed = _kept_repo(config, store).layer("namespace", "analytics")
    assert parses == ["analytics.yaml"] * 2
    assert changed.doc.mark(("description",)).line == 3  # not the stored layer's line 2
    _kept_repo(config, store, identity="another gen").layer("namespace", "analytics")
    assert len(parses) == 3
    # the environments a file's sections may name are those the configuration has
    shutil.copy(config / "environments" / "dev.yaml", config / "environments" / "qa.yaml")
    _kept_repo(config, store).layer("namespace", "analytics")
    assert len(parses) == 4


def test_a_layer_with_a_problem_is_not_kept(config: Path, parses: list[str]) -> None:
    store = _Store()
    edit(config / "namespaces" / "analytics.yaml", "description:", "descripton: typo\ndescription:")
    for _ in range(2):
        with pytest.raises(InputError) as raised:
            _kept_repo(config, store).layer("namespace", "analytics")
        assert "descripton" in str(raised.value.problems)
    assert store.entries == {} and len(parses) == 2


def test_an_entry_that_is_no_layer_of_that_file_is_ignored(config: Path, parses: list[str]) -> None:
    store = _Store()
    _kept_repo(config, store).layer("namespace", "analytics")
    (key,) = store.entries
    other = ConfigRepo(config).layer("environment", "dev")
    for value in ("not a layer", other):
        store.entries[key] = pickle.dumps(value)
        found = _kept_repo(config, store).layer("namespace", "analytics")
        assert (found.kind, found.name) == ("namespace", "analytics")
    assert parses.count("analytics.yaml") == 3


def test_an_incremental_render_imports_no_jsonschema(tmp_path: Path) -> None:
    """Every document of a render after one deployment changed passes the compiled checks, and the
    layers it read before come from the cache: jsonschema (and referencing) are never imported,
    though the namespace files hold templates, which only jsonschema's answer lets through."""
    config, out, cache = tmp_path / "config", tmp_path / "out", tmp_path / "cache"
    estate.write(config, 2, 6)
    env = {**os.environ, "GEN_CACHE_DIR": str(cache)}
    render = [sys.executable, "-m", "generator", "render", "-c", str(config), "-o", str(out)]
    subprocess.run(render, env=env, check=True, capture_output=True)
    deployment = sorted((config / "deployments").glob("*/*.yaml"))[0]
    text = deployment.read_text()
    assert "--sink-topic out-" in text
    deployment.write_text(text.replace("--sink-topic out-", "--sink-topic changed-"))
    script = (
        "import sys\n"
        "from generator import cli\n"
        f"sys.argv = ['gen', 'render', '-c', {str(config)!r}, '-o', {str(out)!r}]\n"
        "try:\n    cli.main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print(code, sorted(m for m in sys.modules if m.startswith(('jsonschema.', 'referencing', 'attr'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == "0 []\n", done.stderr
    assert "(3 changed, 0 removed," in done.stderr
