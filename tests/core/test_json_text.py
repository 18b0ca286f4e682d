"""Request bodies are spelt as `json.dumps(body, sort_keys=True, separators=(",", ":"))`."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from checkout_customers._transport import json_text

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
BODIES = st.dictionaries(
    st.text(),
    st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    ),
    max_size=8,
)


@given(BODIES)
def test_a_body_is_spelt_as_json_dumps_spells_it(body: dict[str, Any]) -> None:
    assert json_text(body) == json.dumps(body, sort_keys=True, separators=(",", ":"))
