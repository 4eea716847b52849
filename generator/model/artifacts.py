"""The one rule every target applies to a job's artifact before rendering it: each kind takes its
own fields (VVP's artifact kinds, https://docs.ververica.com/vvp/user-guide/application-operations/deployments/artifacts).

``JAR`` runs ``jarUri`` (and ``entryClass``); ``SQLSCRIPT`` runs ``sqlScript``; ``PYTHON`` runs ``pythonArtifactUri``
(with ``entryModule``, ``additionalPythonLibraries`` and ``additionalPythonArchives``). A Python
artifact with a ``jarUri`` is a shape no VVP version documents, and Python fields on another kind
would be ignored: both are refused where they were written.
"""

from __future__ import annotations

from generator.errors import Problem
from generator.model import Deployment, keys

PYTHON_FIELDS = ("pythonArtifactUri", "entryModule", "additionalPythonLibraries", "additionalPythonArchives")
#: The field each kind runs.
KIND_FIELDS = {"JAR": "jarUri", "SQLSCRIPT": "sqlScript", "PYTHON": "pythonArtifactUri"}


def artifact_problems(m: Deployment) -> list[Problem]:
    """Fields of one kind set on an artifact of another, located where they were written."""
    kind = m.artifact.kind or "JAR"
    raw = m.artifact.raw
    found: list[Problem] = []
    for other, field in KIND_FIELDS.items():
        if other != kind and field in raw:
            message = f"{field} belongs to artifacts of kind {other}, this one is kind {kind}"
            hint = f"remove it (null it in this file if a shared layer sets it), or set kind: {other}"
            if kind == "PYTHON" and field == "jarUri":
                message = (
                    "kind PYTHON runs pythonArtifactUri, not a jarUri: a Python artifact with a jar URI is a shape "
                    "no VVP version documents"
                )
                hint = "set pythonArtifactUri (and entryModule) instead, or kind: JAR for a jar"
            found.append(m.problem((*keys.ARTIFACT, field), message, hint))
    if kind != "JAR" and "entryClass" in raw:
        found.append(
            m.problem(
                (*keys.ARTIFACT, "entryClass"),
                f"entryClass belongs to artifacts of kind JAR, this one is kind {kind}"
                + (" (it runs entryModule)" if kind == "PYTHON" else ""),
                "remove it (null it in this file if a shared layer sets it)",
            )
        )
    if kind != "PYTHON":
        for field in PYTHON_FIELDS[1:]:
            if field in raw:
                found.append(
                    m.problem(
                        (*keys.ARTIFACT, field),
                        f"{field} belongs to artifacts of kind PYTHON, this one is kind {kind}",
                        "remove it, or set kind: PYTHON",
                    )
                )
    return found
