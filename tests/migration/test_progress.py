"""The progress display: honest rate and ETA, a live line that fits, plain lines elsewhere."""

from __future__ import annotations

import io
import re
import sys

import pytest
from rich.console import Console

from checkout_customers.migration import ProgressDisplay, RowResult, RowStatus

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BAR = re.compile(r"^(━*)(─*)$")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def visible_frames(output: str) -> list[str]:
    """The successive states of a live line, without escape codes."""
    text = ESCAPE.sub("", output)
    return [frame.rstrip("\n") for frame in text.split("\r") if frame.strip()]


def created(line: int, *, already_done: bool = False) -> RowResult:
    return RowResult(line, f"c{line}@example.com", RowStatus.CREATED, already_done=already_done)


def busy_display(width: int | None = None, stream: io.StringIO | None = None) -> ProgressDisplay:
    """A display 61% through 10,000 rows at 100 rows/s, with a few problem rows."""
    clock = Clock()
    display = ProgressDisplay(
        stream or io.StringIO(), total=10_000, live=True, width=width, clock=clock
    )
    for n in range(6_120):
        clock.now += 0.01
        status = RowStatus.EXISTING if n % 50 == 0 else RowStatus.CREATED
        if n in (5, 7):
            status = RowStatus.INVALID
        elif n == 9:
            status = RowStatus.DUPLICATE
        elif n % 1000 == 3:
            status = RowStatus.FAILED
        display.update(RowResult(n + 2, f"c{n}@example.com", status, error="x"))
    clock.now += 0.1
    display.tick()  # the last drawing shows the last row
    return display


def every_token(display: ProgressDisplay) -> set[str]:
    """Each text the line may show, in every form of every part, split where the line is."""
    return {
        token
        for part in display.parts()
        if not part.bar
        for text, _ in part.forms
        for token in text.split("  ")
    }


def render(display: ProgressDisplay, width: int) -> str:
    console = Console(
        file=io.StringIO(), width=width, force_terminal=True, color_system=None, record=True
    )
    console.print(display, end="")
    return console.export_text(styles=False)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_live_line_fits_the_terminal_and_shows_whole_parts(width: int) -> None:
    stream = io.StringIO()
    display = busy_display(width, stream)
    frames = visible_frames(stream.getvalue())
    assert len(frames) > 50  # redrawn in place as rows finished
    tokens = every_token(display)
    for frame in frames:
        assert len(frame) <= width - 1
    last = frames[-1]
    for token in last.split("  "):
        assert token in tokens or BAR.match(token), (token, last)
    assert "6,120/10,000" in last
    assert "61%" in last
    assert "elapsed 1:01" in last
    assert "ETA 0:39" in last  # 3,880 rows left at 100 rows/s
    if width >= 80:
        assert "99.0/s" in last
        assert BAR.match(last.split("  ")[0])
    else:
        assert "problems 10" in last  # the problem counts summed up, the bar gone
    if width >= 120:
        assert "failed 7  invalid 2  duplicate 1" in last
        assert "created 5,987" in last
    display.finish()
    final = visible_frames(stream.getvalue())[-1]
    assert len(final) <= width - 1
    assert "ETA" not in final  # done: the average rate, no estimate


def test_no_width_cuts_a_number_or_a_word() -> None:
    display = busy_display()
    display.paused("API unreachable, probing")
    tokens = every_token(display)
    full = display.line()
    for width in range(4, 140):
        text = render(display, width)
        assert len(text) <= max(0, width - 1), width
        for token in filter(None, text.split("  ")):
            assert token in tokens or BAR.match(token), (width, token)
        if width > len(full) + 25:
            assert text.endswith(full.split("  ", 1)[1]), width  # all of it, after the bar


def test_the_most_important_parts_stay_longest() -> None:
    display = busy_display()
    assert render(display, 20) == "6,120/10,000  61%"
    assert render(display, 30) == "6,120/10,000  61%  ETA 0:39"
    assert render(display, 50) == "6,120/10,000  61%  ETA 0:39  problems 10"


def test_a_resume_rates_only_the_rows_worked_by_this_run() -> None:
    # The resume: 8,000 rows done by an earlier run pass in a moment, then the run
    # works at 100 rows/s. Counted together they read ~500 rows/s and an ETA of 3 s.
    clock = Clock()
    display = ProgressDisplay(io.StringIO(), total=10_000, live=False, clock=clock)
    for line in range(8_000):
        display.update(created(line, already_done=True))
    clock.now += 0.2
    for line in range(8_000, 8_500):
        clock.now += 0.01
        display.update(created(line))
    assert display.rate() == pytest.approx(100, rel=0.05)
    # 1,500 rows at 100 rows/s (the 0.2 s before the first worked row count in the rate).
    assert display.eta() == pytest.approx(15, rel=0.05)
    line = display.line()
    assert "8,500/10,000 rows  85%  96.2 rows/s  elapsed 0:05  ETA 0:16" in line


def test_rows_done_by_an_earlier_run_alone_give_no_rate_and_say_nothing_to_do() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, total=300, live=False, clock=clock)
    for line in range(300):
        clock.now += 0.001
        display.update(created(line, already_done=True))
    clock.now += 5
    assert display.rate() is None
    assert display.eta() is None
    display.finish()
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("progress: 300/300 rows  100%  nothing to do: every row was done")
    assert "rows/s" not in last
    assert display.nothing_to_do


def test_an_empty_input_says_there_was_nothing_to_do() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, total=0, live=True, width=80, clock=Clock())
    display.finish()
    assert "0 rows  nothing to do: no rows" in visible_frames(stream.getvalue())[-1]


def test_a_run_with_rows_to_work_is_not_nothing_to_do() -> None:
    display = ProgressDisplay(io.StringIO(), total=2, live=False, clock=Clock())
    display.update(created(2, already_done=True))
    display.update(created(3))
    display.finish()
    assert not display.nothing_to_do
    assert "nothing to do" not in display.line()


def test_an_interrupted_run_stops_the_bar_where_the_run_stopped() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, total=1_000, live=True, width=120, clock=clock)
    for line in range(300):
        clock.now += 0.01
        display.update(created(line))
    for line in range(300, 1_000):  # what the engine reports for the rows it never started
        display.update(RowResult(line, f"n{line}@example.com", RowStatus.NOT_STARTED))
    display.finish()
    last = visible_frames(stream.getvalue())[-1]
    assert "300/1,000 rows  30%  stopped" in last
    assert "not started 700" in last
    assert "failed" not in last
    assert "ETA" not in last
    filled, empty = BAR.match(last.split("  ")[0]).groups()  # type: ignore[union-attr]
    assert len(filled) == int(0.3 * (len(filled) + len(empty)))
    assert display.problems.count == 0  # rows not started are counted, not listed
    assert display.problems.not_started == 700


def test_without_a_terminal_plain_lines_come_at_the_interval() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, total=None, interval=10.0, clock=clock)
    assert not display.live
    for _ in range(30):
        clock.now += 1.0
        display.update(RowResult(2, "a@x.io", RowStatus.EXISTING))
    display.finish()
    output = stream.getvalue()
    assert "\x1b" not in output
    assert "\r" not in output
    lines = output.splitlines()
    assert len(lines) == 4  # every 10 s, and the last state
    assert all(line.startswith("progress: ") for line in lines)
    assert lines[-1] == "progress: 30 rows  1.0 rows/s  elapsed 0:30  existing 30"


def test_a_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    stream, clock = Terminal(), Clock()
    display = ProgressDisplay(stream, total=100, clock=clock)
    assert not display.live
    for line in range(100):
        clock.now += 0.5
        display.update(created(line))
    display.finish()
    output = stream.getvalue()
    assert "\x1b" not in output
    assert "\r" not in output
    assert output.splitlines()[-1].startswith("progress: 100/100 rows  100%  2.0 rows/s")


def test_a_capable_terminal_gets_the_live_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    stream, clock = Terminal(), Clock()
    display = ProgressDisplay(stream, total=100, width=80, clock=clock)
    assert display.live
    for line in range(100):
        clock.now += 0.5
        display.update(created(line))
    display.finish()
    output = stream.getvalue()
    assert output.startswith("\x1b[?25l")  # the cursor hidden while drawing ...
    assert output.endswith("\n\x1b[?25h")  # ... and given back, below the last state
    assert "\r\x1b[2K" in output  # each state drawn over the last
    last = visible_frames(output)[-1]
    assert last == "━" * 20 + "  100/100 rows  100%  2.0 rows/s  elapsed 0:50  created 100"


def test_without_rich_a_terminal_gets_plain_lines_and_a_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setitem(sys.modules, "rich", None)  # as if the `cli` extra were not installed
    stream, clock = Terminal(), Clock()
    display = ProgressDisplay(stream, total=10, clock=clock)
    assert not display.live
    for line in range(10):
        clock.now += 1
        display.update(created(line))
    display.finish()
    lines = stream.getvalue().splitlines()
    assert "pip install 'checkout-customers[cli]'" in lines[0]
    assert lines[-1].startswith("progress: 10/10 rows  100%")
    assert "\x1b" not in stream.getvalue()


def test_a_pause_shows_why_instead_of_rate_and_eta_and_the_rate_restarts() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, total=1_000, live=True, width=100, clock=clock)
    for line in range(200):
        clock.now += 0.01
        display.update(created(line))
    display.paused("API unreachable,\n probing")
    paused = visible_frames(stream.getvalue())[-1]
    assert "200/1,000 rows  20%  paused: API unreachable, probing  elapsed 0:02" in paused
    assert "/s" not in paused
    assert "ETA" not in paused
    clock.now += 60
    display.tick()
    assert "elapsed 1:02" in visible_frames(stream.getvalue())[-1]
    display.paused(None)
    for line in range(200, 400):
        clock.now += 0.02
        display.update(created(line))
    # 50 rows/s since the pause ended; the minute without rows is not counted against it.
    assert display.rate() == pytest.approx(50, rel=0.05)
    assert "ETA 0:12" in visible_frames(stream.getvalue())[-1]


def test_a_pause_is_logged_when_it_begins_and_ends_without_a_terminal() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, total=10, live=False, clock=clock)
    display.paused("API unreachable, probing")
    display.paused("API unreachable, probing")  # no news: no line
    clock.now += 42
    display.paused(None)
    assert stream.getvalue().splitlines() == [
        "progress: paused: API unreachable, probing",
        "progress: resumed after 0:42",
    ]


def test_finish_twice_draws_the_last_state_once() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, total=1, live=False, clock=Clock())
    display.update(created(2))
    display.finish()
    display.finish()
    assert len(stream.getvalue().splitlines()) == 1


def test_close_after_a_failure_gives_the_terminal_back_without_a_verdict() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, total=10, live=True, width=80, clock=clock)
    clock.now += 1
    display.update(created(2))
    display.close()  # the run raised, or a second Ctrl-C abandoned it
    display.close()
    display.finish()  # too late: nothing more is drawn
    output = stream.getvalue()
    assert output.endswith("\n\x1b[?25h")
    assert "nothing to do" not in output
    last = visible_frames(output)[-1]
    assert (
        last == "━" + "─" * 15 + "  1/10 rows  10%  1.0 rows/s  elapsed 0:01  ETA 0:09  created 1"
    )


def test_a_run_that_failed_before_any_row_shows_no_progress_line() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, live=False, clock=Clock())
    display.close()
    assert stream.getvalue() == ""


def test_a_file_of_invalid_rows_is_not_nothing_to_do_but_says_what_went_wrong() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, total=2, live=False, clock=Clock())
    display.update(RowResult(2, "x", RowStatus.INVALID, error="email: not an email"))
    display.update(RowResult(3, "y", RowStatus.INVALID, error="email: not an email"))
    display.finish()
    assert not display.nothing_to_do
    assert stream.getvalue() == "progress: 2/2 rows  100%  elapsed 0:00  invalid 2\n"
    assert display.problems.count == 2


def test_without_rich_a_run_refused_before_any_row_prints_no_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setitem(sys.modules, "rich", None)
    stream = Terminal()
    ProgressDisplay(stream, total=10, clock=Clock()).close()
    assert stream.getvalue() == ""
