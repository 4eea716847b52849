"""Problems of the Ververica Platform targets, located with the blame rule (:func:`paths.problem`)."""

from __future__ import annotations

from generator.config import paths
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem


def problem(eff: Effective, path: Path_, message: str, hint: str = "") -> Problem:
    return paths.problem(eff.provenance, path, message, hint)
