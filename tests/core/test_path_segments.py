"""Identifiers become exactly one percent-encoded path segment, whatever they hold."""

from __future__ import annotations

from urllib.parse import quote, unquote

from hypothesis import given
from hypothesis import strategies as st

from checkout_customers._customers import _segment


@given(st.text() | st.text(alphabet=st.characters(max_codepoint=127)))
def test_a_segment_is_encoded_as_quote_does_with_nothing_safe(identifier: str) -> None:
    encoded = _segment(identifier)
    assert encoded == quote(identifier, safe="")
    assert not set(encoded) & set("/?#@+ ")
    assert unquote(encoded) == identifier
