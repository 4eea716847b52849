"""The files gen ships besides its code: the example configuration, the JSON Schemas and the templates.

In a checkout they are the repository's top-level ``baseline.yaml``, ``profiles/``, ``namespaces/``,
``environments/``, ``deployments/``, ``schemas/`` and ``templates/``; the package reaches them through
``generator/_data/`` (links to those folders), and the wheel carries copies of them there, so an
installed ``gen`` finds the same files without a checkout.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

#: The parts of the example that form a configuration repository (what ``gen init`` copies).
LAYER_ENTRIES = ("baseline.yaml", "profiles", "namespaces", "environments", "deployments")


def data_dir() -> Path:
    return Path(str(resources.files("generator") / "_data"))


def example_config_dir() -> Path:
    """The configuration shipped inside the package (the embedded default): in a checkout the
    repository's root (what ``_data``'s links point to), in an installed wheel ``_data`` itself."""
    baseline = data_dir() / "baseline.yaml"
    return baseline.resolve().parent if baseline.is_symlink() else data_dir()


def schemas_dir() -> Path:
    return data_dir() / "schemas"


def templates_dir() -> Path:
    return data_dir() / "templates"


def example_files() -> list[Path]:
    """Every layer file of the example, relative to :func:`example_config_dir`, sorted."""
    root = example_config_dir()
    found: list[Path] = []
    for entry in LAYER_ENTRIES:
        path = root / entry
        if path.is_file():
            found.append(Path(entry))
        elif path.is_dir():
            found.extend(p.relative_to(root) for p in path.rglob("*.yaml"))
    return sorted(found)


def copy_example(dest: Path) -> list[Path]:
    """Copy the example's layer files (never the schemas or templates) into ``dest``."""
    root = example_config_dir()
    written: list[Path] = []
    for rel in example_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, target)
        written.append(target)
    return written
