"""Digests of values, for the render cache's keys and memos."""

from __future__ import annotations

import hashlib
import io
import pickle
from typing import Any


def value_digest(value: Any) -> str | None:
    """The SHA-256 of ``value``'s pickle written without the pickler's memo: exact about every type
    and every value (maps in their order), and the same whether or not the value shares equal objects
    (a string read from the cache and the same string made anew are one object in one render and two
    in another; a pickle with its memo tells them apart). ``None`` for a value that cannot be pickled
    so: not plain data a pickle can hold, or a structure that contains itself."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(value)
    except Exception:
        return None
    return hashlib.sha256(buffer.getbuffer()).hexdigest()


__all__ = ["value_digest"]
