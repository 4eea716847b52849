"""Product text cites only what users can open: public documentation pages or the project's docs.

Every file shipped to users (the package, templates, schemas, docs, the README and the example
configuration, and the tests and scripts that come with it) is free of references to documents
outside the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PRODUCT = (
    "generator", "templates", "schemas", "docs", "profiles", "environments", "namespaces", "deployments",
    "tests", "benchmarks", "scripts",
)  # fmt: skip
SELF = Path(__file__).resolve()
# third-party files kept byte for byte as their authors published them (with their LICENSE and NOTICE)
VENDORED = (ROOT / "tests" / "fixtures" / "ververica-platform",)
SUFFIXES = {".py", ".yaml", ".yml", ".json", ".j2", ".md", ".txt"}
FORBIDDEN = ("seed 0", "seeds/", "reference/", "targets.md")


def product_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "baseline.yaml"]
    for top in PRODUCT:
        files += [p for p in sorted((ROOT / top).rglob("*")) if p.is_file() and p.suffix in SUFFIXES]
    # the benchmarks' git-ignored scratch folders (Kapitan's virtual environment, estates) are not ours
    scratch = {"__pycache__", ".venv-kapitan", ".work"}
    return [
        p
        for p in files
        if not scratch.intersection(p.parts) and p.resolve() != SELF and not any(p.is_relative_to(v) for v in VENDORED)
    ]


def test_the_product_files_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in product_files()}
    assert {"README.md", "baseline.yaml", "docs/readiness.md", "docs/check.md"} <= names
    assert any(name.startswith("templates/") for name in names)
    assert any(name.startswith("schemas/") for name in names)


@pytest.mark.parametrize("path", product_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_reference_to_documents_users_cannot_open(path: Path) -> None:
    text = path.read_text(encoding="utf-8").lower()
    found = [word for word in FORBIDDEN if word in text]
    assert not found, f"{path.relative_to(ROOT)} mentions {found}"


def test_license_is_the_apache_license() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
