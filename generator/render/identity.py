"""Which gen is running, as a digest: part of every render cache key (:mod:`generator.render.incremental`,
:mod:`generator.render.summary`), so a cache written by another gen, or with other libraries, is never used.

A module of its own, importing nothing of the renderers: ``gen render --check`` computes it before it
knows whether it needs them.
"""

from __future__ import annotations

import hashlib
import os
import sys
from functools import cache as memoize
from pathlib import Path

FORMAT = "incremental 1"
# the distributions whose behaviour shapes rendered bytes or which documents pass validation
_LIBRARIES = ("pyyaml", "jinja2", "jsonschema", "jsonschema-rs", "kubernetes-validate", "detect-secrets", "referencing")


@memoize
def code_identity() -> str:
    """A digest of the gen that is running: every file of the package (modules, templates, schemas),
    the Python version and the versions of the libraries it renders and validates with."""
    from generator import data, installed

    digest = hashlib.sha256(FORMAT.encode())
    digest.update(sys.version.encode())
    for name in _LIBRARIES:
        digest.update(f"{name}={installed.version(name) or 'none'};".encode())
    package = Path(__file__).resolve().parent.parent
    roots = [(package, False), (data.data_dir() / "schemas", True), (data.data_dir() / "templates", True)]
    for root, follow in roots:
        for folder, dirs, files in os.walk(root, followlinks=follow):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not (d == "_data" and not follow))
            for name in sorted(files):
                if not follow and name.endswith((".pyc", ".pyo")):
                    continue  # the package's own files: modules and data (the Flink option catalogue)
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    content = handle.read()
                digest.update(os.path.relpath(path, root).encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


__all__ = ["FORMAT", "code_identity"]
