"""The progress line says when the run is paused by an outage, and stops saying it after."""

from __future__ import annotations

import io

from checkout_customers.migration import ProgressDisplay


def test_the_progress_line_shows_a_pause_and_its_cause_until_the_run_resumes() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, total=10, live=False)
    display.set_paused("API unreachable (answers 503)")
    assert "paused: API unreachable (answers 503), probing" in stream.getvalue()
    assert "paused" in display.line()
    display.set_paused(None)
    assert "paused" not in display.line()
