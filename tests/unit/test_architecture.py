"""The structure the architecture promises (docs/architecture.md): no import cycles, modules of one
job each, no target-name branches outside the targets, and extensions that touch few places."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grimp
import pytest
import yaml

from generator import kinds
from generator.config.resolve import Effective
from generator.render import target as targets
from generator.render.context import Doc, EnvContext, NamespaceContext, Peer
from generator.targets.vvp import Vvp
from tests.conftest import run_cli

PACKAGE = Path(__file__).resolve().parents[2] / "generator"
MAX_LINES = 500
DATA_TABLES: frozenset[str] = frozenset()  # modules that are data tables, allowed to be longer


def _cycles() -> list[list[str]]:
    graph = grimp.build_graph("generator")  # type-checking imports count too
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        stack.append(module)
        for other in edges[module]:
            if state.get(other) == 1:
                found.append([*stack[stack.index(other) :], other])
            elif other not in state:
                visit(other, stack)
        stack.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    return found


def test_no_import_cycles_even_through_imports_inside_functions() -> None:
    assert _cycles() == []


def test_no_module_above_500_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(p.relative_to(PACKAGE)) not in DATA_TABLES
    }
    assert long == {}


def _target_comparisons() -> Iterator[str]:
    names = "|".join(re.escape(n) for n in ("vvp", "vvp-operator", "flink-operator"))
    pattern = re.compile(rf"target\w*\s*(==|!=|in|not in)\s*[(\[{{]?\s*\"({names})\"")
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "targets":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                yield f"{rel}:{number}: {line.strip()}"


def test_no_target_name_branches_outside_the_targets() -> None:
    assert list(_target_comparisons()) == []


# -- extending gen: a throw-away output kind and a throw-away target -----------------------------------
NOTE_KIND = "example.com/v1 DeploymentNote"


def check_note(content: object) -> list[str]:
    """The throw-away kind's validator: a note must say something."""
    spec = content.get("spec", {}) if isinstance(content, dict) else {}
    return [] if spec.get("text") else ["spec.text: a note must say something"]


@dataclass(frozen=True)
class NoteTarget(Vvp):
    """A platform that runs jobs like VVP and also wants a note per deployment."""

    name: str = "notes"
    platform: str = "notes"
    text: str = "rendered by a throw-away target"

    def deployment_docs(self, eff: Effective) -> list[Doc]:
        note = {
            "apiVersion": "example.com/v1",
            "kind": "DeploymentNote",
            "metadata": {"name": eff.deployment, "namespace": eff.kubernetes_namespace},
            "spec": {"text": self.text},
        }
        return [*super().deployment_docs(eff), Doc(note)]

    def namespace_docs(self, ctx: NamespaceContext) -> list[Doc]:
        return super().namespace_docs(ctx)

    def environment_docs(self, ctx: EnvContext) -> list[Doc]:
        return []

    def api_components(self, eff: Effective) -> frozenset[str]:
        return frozenset()

    def rest_clients(self, eff: Effective) -> tuple[Peer, ...]:
        return ()


@pytest.fixture
def extended() -> Iterator[None]:
    """One register call for the kind, one for the target: everything an extension touches."""
    kinds.object_kind("example.com/v1", "DeploymentNote", f"{__name__}:check_note", kinds.Owner.DEPLOYMENT)
    targets.register("notes", NoteTarget())
    yield
    targets.unregister("notes")
    kinds.unregister(NOTE_KIND)


def test_a_new_target_and_a_new_kind_render_through_the_registries(extended: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("render", "-e", "prod", "--target", "notes", "-o", str(out))
    assert result.code == 0, result.stderr
    note = yaml.safe_load((out / "prod/analytics/deploymentnote-fraud-scoring.yaml").read_text())
    assert note["spec"]["text"] == "rendered by a throw-away target"
    listed = yaml.safe_load((out / "prod/analytics/kustomization.yaml").read_text())["resources"]
    assert "deploymentnote-fraud-scoring.yaml" in listed  # the kind says the kustomization lists it
    assert (out / "prod/analytics/vvp/deployment-fraud-scoring.yaml").is_file()  # what it inherits


def test_a_document_that_fails_its_kinds_validator_is_refused(extended: None, tmp_path: Path) -> None:
    targets.register("notes", NoteTarget(text=""))
    result = run_cli("render", "-e", "prod", "--target", "notes", "-o", str(tmp_path / "out"))
    assert result.code == 2, result.stderr
    refused = r"rendered DeploymentNote [\w-]+ \(prod/analytics/[\w-]+\) failed validation: spec.text: a note"
    assert re.search(refused, result.stderr)
    assert not (tmp_path / "out").exists()


def test_an_unregistered_kind_is_a_clear_error_not_a_key_error(tmp_path: Path) -> None:
    targets.register("notes", NoteTarget())
    try:
        result = run_cli("render", "-e", "prod", "--target", "notes", "-o", str(tmp_path / "out"))
    finally:
        targets.unregister("notes")
    assert result.code != 0
    assert "no output kind is registered for 'example.com/v1 DeploymentNote'" in result.stderr
    assert "KeyError" not in result.stderr
