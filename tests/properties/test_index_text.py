"""Property: gen-index.json is written exactly as ``json.dumps(indent=1, sort_keys=True)`` writes it,
whatever the paths and owners, and whatever other entries an earlier index left for gen to keep."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.output.index import gen_version, index_text

pytestmark = pytest.mark.property

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_OWNER = st.fixed_dictionaries(
    {"env": _TEXT, "namespace": _TEXT},
    optional={"deployment": _TEXT, "profile": _TEXT},
)
_WRITTEN = st.fixed_dictionaries({"sha256": st.text("0123456789abcdef", min_size=64, max_size=64), "owner": _OWNER})
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
# an entry of an index written by hand or by another version, kept as it was (read_index checks
# only its path and owner)
_KEPT = st.fixed_dictionaries({"owner": _OWNER | _JSON}, optional={"sha256": _JSON, "note": _JSON})


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_TEXT, _WRITTEN | _KEPT, max_size=8))
def test_the_index_text_is_what_json_dumps_writes(entries: dict[str, dict[str, Any]]) -> None:
    data = {"version": 1, "gen_version": gen_version(), "files": entries}
    assert index_text(entries) == json.dumps(data, indent=1, sort_keys=True) + "\n"
