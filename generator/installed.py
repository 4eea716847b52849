"""The versions of installed distributions (gen's own, and the libraries in its cache keys).

``importlib.metadata`` answers by parsing each distribution's ``METADATA`` with the ``email``
package, and importing it costs about 0.03 s: a tenth of ``gen render --check``, which needs the
versions for its cache key and nothing else of it. An installed wheel's metadata folder is named
``{name}-{version}.dist-info`` (https://packaging.python.org/en/latest/specifications/recording-installed-packages/),
so the version is read from that name, on the import path, in its order (as ``importlib.metadata``
looks). A distribution found otherwise (an egg, a zip on the path) is left to ``importlib.metadata``.
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache

_SUFFIX = ".dist-info"


def _normal(name: str) -> str:
    """A distribution name as the specification compares names (PEP 503 normalisation)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _folders(entry: str) -> tuple[str, ...]:
    try:
        return tuple(sorted(n for n in os.listdir(entry or ".") if n.endswith(_SUFFIX)))
    except OSError:  # not a folder (a zip file), or gone
        return ()


@cache
def version(name: str) -> str | None:
    """The installed version of distribution ``name``; ``None`` when it is not installed."""
    wanted = _normal(name)
    for entry in sys.path:
        for folder in _folders(entry):
            dist, _, found = folder[: -len(_SUFFIX)].partition("-")
            if found and _normal(dist) == wanted:
                return found
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as lookup

    try:
        return lookup(name)
    except PackageNotFoundError:
        return None


__all__ = ["version"]
