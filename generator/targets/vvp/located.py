"""Problems of the Ververica Platform targets, located with the one blame rule (the nearest origin)."""

from __future__ import annotations

from generator.config.merge import nearest_origin
from generator.config.resolve import Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem


def problem(eff: Effective, path: Path_, message: str, hint: str = "") -> Problem:
    origin = nearest_origin(eff.provenance, path)
    if origin is None:
        return Problem("<configuration>", 1, 1, dotted(path), message, hint)
    return Problem(origin.file, origin.line, origin.col, dotted(path), message, hint)
