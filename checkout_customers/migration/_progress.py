"""Showing a migration as it runs: one live line on a terminal (rich), plain log lines elsewhere.

    display = ProgressDisplay(sys.stderr)      # `display.total = n` once the rows are counted
    try:
        report = await migrate(cko, rows, journal=..., progress=display.update)
        display.finish()                        # the last state
    finally:
        display.close()                         # after a failure: stop, give the cursor back
    print_summary(report, problems=display.problems)  # the table and the first problem rows

The engine wires `display.paused` to its pause callback (`migrate(..., on_pause=display.paused)`
once the engine has one), and it may be called from the event loop like `update`.

What the line says is what this run did:

- the bar and `done/total` count every finished row, including rows an earlier run finished;
  rows an interrupted run never started (`not_started`) are not counted, so after Ctrl-C the
  bar stays where the run stopped;
- the rate (over the last 10 seconds) and the ETA count only rows worked by this run: rows an
  earlier run finished pass in a moment and would make a resume look far faster than it is;
- a run that had nothing to do (every row done by an earlier run, or no rows) says so at the end.

**Pausing (for the engine).** `display.paused("API unreachable, probing")` tells the display
that no row moves for now and why; `display.paused(None)` that the run goes on. While paused the
line shows `paused: <reason>` instead of the rate and the ETA, a plain log gets a line at each
change, and the rate is measured afresh once the run goes on.

**Live or plain.** The line is drawn live with rich (the `cli` extra) when `stream` is a
terminal that takes escape codes; otherwise (`TERM=dumb`, a pipe, a file, rich not installed) a
plain `progress: ...` line is written every `interval` seconds, with no escape code at all.

**Width.** The live line is made of parts ranked by how much they matter (see the ranks
below); when the terminal is narrower than the whole line, the least important give way first:
the word "rows", the counts of rows that went well, the problem counts by status (then shown as
one sum), the bar, the rate, the elapsed time, the sum of problems, the ETA. A part is shown
whole or not at all, so a number is never cut.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING

import attrs

from ._report import RowResult, RowStatus
from ._summary import (
    ALL_DONE_BEFORE,
    ALL_VALID_DONE_BEFORE,
    PROBLEM_STATUSES,
    ProblemRows,
    format_duration,
    format_summary,
)
from ._terminal import capable_terminal, printable, rich_installed

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live
    from rich.text import Text

# `format_summary` lives in `_summary`; the package imports it from here with the display.
__all__ = ["ProgressDisplay", "fit", "format_summary"]

LIVE_INTERVAL_SECONDS = 0.1
LOG_INTERVAL_SECONDS = 10.0
_RATE_WINDOW_SECONDS = 10.0
# A rate measured over less time than this is noise (the first rows of a run come in a burst).
_RATE_MIN_SPAN_SECONDS = 1.0
_BAR_MIN, _BAR_MAX = 10, 40
_GAP = "  "
# The ranks of the parts of the line: the higher, the sooner a part gives way on a narrow
# terminal (to a shorter form of it, or altogether).
_PERCENT = 0
_COUNT = _STATE_SHORT = 10
_STATE = 20  # paused: why / nothing to do: why
_ETA = _NOT_STARTED_COUNT = 30
_PROBLEMS = 35  # "problems 12"
_ELAPSED = 40
_RATE = 50
_BAR = 55
_PROBLEMS_EACH = 60  # "failed 2  invalid 9  duplicate 1"
_OTHER_COUNTS = 70  # created, existing, ...
_UNITS = 80  # the words "rows" in "6,120/10,000 rows" and "98.3 rows/s"
_INSTALL_HINT = (
    "progress: for a live progress bar, install the command line extra: "
    "pip install 'checkout-customers[cli]'\n"
)


@attrs.frozen
class Part:
    """One part of the progress line, in its forms from the longest; each form has a rank.

    The lower a form's rank, the longer it stays when the line is too wide: the form of highest
    rank (the rightmost among equals) gives way first, to the part's next form or, if none, the
    part goes. `bar` parts are drawn as a bar at least `_BAR_MIN` cells wide.
    """

    forms: tuple[tuple[str, int], ...]
    style: str = ""
    bar: bool = False


def fit(
    parts: Sequence[Part], width: int, measure: Callable[[str], int] = len
) -> list[tuple[Part, str]]:
    """The parts (each in one of its forms) that fit in `width` cells, in their order."""
    kept = list(parts)
    forms = [0] * len(kept)

    def length() -> int:
        cells = sum(
            _BAR_MIN if part.bar else measure(part.forms[form][0])
            for part, form in zip(kept, forms, strict=True)
        )
        return cells + len(_GAP) * max(0, len(kept) - 1)

    while kept and length() > width:
        # The form of highest rank gives way; among equals, the rightmost.
        index = max(range(len(kept)), key=lambda i: (kept[i].forms[forms[i]][1], i))
        if forms[index] + 1 < len(kept[index].forms):
            forms[index] += 1
        else:
            del kept[index], forms[index]
    return [(part, part.forms[form][0]) for part, form in zip(kept, forms, strict=True)]


def _number(value: int) -> str:
    return f"{value:,}"


def _rate_text(rate: float) -> str:
    return f"{rate:.1f}" if rate < 100 else f"{rate:,.0f}"


class ProgressDisplay:
    """Counts finished rows by status and shows them on `stream` (see the module docstring).

    `update` takes each finished `RowResult` (it is the `progress` callback of `migrate`),
    `tick` redraws when `interval` has passed (call it now and then, so that a stalled run still
    shows its elapsed time), `paused` says why no row moves, `finish` draws the last state.
    `live` (default: whether `stream` is a terminal taking escape codes and rich is installed)
    and `width` (default: the terminal's) are for tests and embedding.
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        total: int | None = None,
        live: bool | None = None,
        interval: float | None = None,
        width: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.total = total
        terminal = capable_terminal(stream)
        self.live = rich_installed() and (terminal if live is None else live)
        self.interval = interval or (LIVE_INTERVAL_SECONDS if self.live else LOG_INTERVAL_SECONDS)
        self.width = width
        # Finished rows by status (`not_started` included), including rows finished by an
        # earlier run. Keyed by the enum member: its `.value` costs too much once per row.
        self._by_status: collections.Counter[RowStatus | str] = collections.Counter()
        #: Finished rows (the bar's position): every row but those never started.
        self.done = 0
        #: Rows finished by this run (not by an earlier one): what the rate counts.
        self.worked = 0
        self.already_done = 0
        self.not_started = 0
        #: The problem rows, for the end-of-run list.
        self.problems = ProblemRows()
        self.pause_reason: str | None = None
        self.finished = False
        self._closed = False
        self._clock = clock
        self._started = clock()
        self._ended: float | None = None
        self._last_render = self._started
        self._paused_at = self._started
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._samples.append((self._started, 0))
        self._live: Live | None = None
        # Said once, with the first line: a run refused before any row prints nothing.
        self._hint = _INSTALL_HINT if live is None and terminal and not self.live else ""

    # -- what the engine and the command line call ------------------------------------------

    def update(self, result: RowResult) -> None:
        """Count one finished row (the `progress` callback of `migrate`)."""
        status = result.status
        if status not in _WENT_WELL or result.changed:
            self.problems.add(result)
            if status is RowStatus.NOT_STARTED:
                self.not_started += 1
                self._by_status[status] += 1
                self.tick()
                return
        self.done += 1
        self._by_status[status] += 1
        if result.already_done:
            self.already_done += 1
        else:
            self.worked += 1
        self.tick()

    def tick(self) -> None:
        """Redraw if `interval` has passed since the last drawing."""
        now = self._clock()
        if not self.finished and now - self._last_render >= self.interval:
            self._render(now)

    def paused(self, reason: str | None) -> None:
        """No row moves for now, because of `reason`; `None`: the run goes on."""
        reason = printable(" ".join(reason.split())) if reason is not None else None
        if reason == self.pause_reason:
            return
        now = self._clock()
        was_paused, self.pause_reason = self.pause_reason is not None, reason
        if reason is not None and not was_paused:
            self._paused_at = now
        if reason is None:
            # The rate is measured afresh: the paused time says nothing about the pace ahead.
            self._samples.clear()
            self._samples.append((now, self.worked))
        if self.finished:
            return
        if self.live:
            self._render(now)
        elif reason is not None:
            self._write_plain(f"paused: {reason}")
        else:
            self._write_plain(f"resumed after {format_duration(now - self._paused_at)}")

    def finish(self) -> None:
        """Draw the last state and leave the line (a terminal keeps it). Safe to call twice."""
        if self.finished or self._closed:
            return
        self.finished = True
        self._ended = now = self._clock()
        if self._live is not None:
            self._live.stop()  # draws the last state
        else:
            self._render(now)
            if self._live is not None:
                self._live.stop()

    def close(self) -> None:
        """Stop drawing without a last state (the run failed or was aborted): a live line stays
        as last drawn, and the cursor is given back. Nothing to do after `finish`."""
        if self._closed:
            return
        self._closed = True
        if self._live is not None and not self.finished:
            self._live.stop()  # the last drawing of the running line, then a new line

    @property
    def counts(self) -> dict[str, int]:
        """Finished rows by status (`"not_started"` included), rows of earlier runs included."""
        return {_value(status): count for status, count in self._by_status.items() if count}

    # -- measuring -----------------------------------------------------------------------------

    def rate(self, now: float | None = None) -> float | None:
        """Rows per second worked by this run over the last ten seconds (None: not known yet).

        After `finish`, the average over the whole run.
        """
        now = self._clock() if now is None else now
        if self.finished:
            elapsed = (self._ended or now) - self._started
            return self.worked / elapsed if self.worked and elapsed > 0 else None
        if self.pause_reason is not None:
            return None
        samples = self._samples
        samples.append((now, self.worked))
        while len(samples) > 2 and now - samples[1][0] >= _RATE_WINDOW_SECONDS:
            samples.popleft()
        first_time, first_worked = samples[0]
        span = now - first_time
        if span < _RATE_MIN_SPAN_SECONDS or not self.worked:
            return None
        return (self.worked - first_worked) / span

    def eta(self, now: float | None = None) -> float | None:
        """Seconds until every row is done at the current rate (None: not known)."""
        if self.finished or not self.total or self.not_started:
            return None
        rate = self.rate(now)
        remaining = self.total - self.done
        if not rate or remaining <= 0:
            return None
        return remaining / rate

    @property
    def nothing_to_do(self) -> bool:
        """The run finished with no row to work: no rows, or all done by an earlier run."""
        if not self.finished or self.not_started:
            return False
        return self.done == 0 or (self.already_done > 0 and self.worked == self._unsent())

    def _unsent(self) -> int:
        # Rows of this run that never need the API.
        return self._by_status[RowStatus.INVALID] + self._by_status[RowStatus.DUPLICATE]

    # -- the line ------------------------------------------------------------------------------

    def parts(self, now: float | None = None) -> list[Part]:
        """The parts of the progress line, in their order on screen."""
        now = self._clock() if now is None else now
        parts: list[Part] = []
        total = self.total
        if total:
            share = min(1.0, self.done / total)
            parts.append(Part((("", _BAR),), bar=True))
            done = f"{_number(self.done)}/{_number(total)}"
            parts.append(Part(((f"{done} rows", _UNITS), (done, _COUNT)), style="bold"))
            # Rounded down: 99.6% is not done.
            parts.append(Part(((f"{int(share * 100)}%", _PERCENT),)))
        else:
            parts.append(Part(((f"{_number(self.done)} rows", _COUNT),), style="bold"))
        parts.extend(self._state_parts(now))
        counts = self._ordered_counts()
        for status, count in counts:
            if status not in PROBLEM_STATUSES:
                rank = (
                    _NOT_STARTED_COUNT if status == RowStatus.NOT_STARTED.value else _OTHER_COUNTS
                )
                text = f"{status.replace('_', ' ')} {_number(count)}"
                parts.append(Part(((text, rank),), style=_STYLES.get(status, "")))
        problems = [(status, count) for status, count in counts if status in PROBLEM_STATUSES]
        if problems:
            # One part: by status while there is room, else their sum.
            each = _GAP.join(f"{status} {_number(count)}" for status, count in problems)
            summed = f"problems {_number(sum(count for _, count in problems))}"
            parts.append(Part(((each, _PROBLEMS_EACH), (summed, _PROBLEMS)), "red"))
        return parts

    def _state_parts(self, now: float) -> Iterator[Part]:
        if self.pause_reason is not None:
            yield Part(
                ((f"paused: {self.pause_reason}", _STATE), ("paused", _STATE_SHORT)),
                style="bold yellow",
            )
        elif self.nothing_to_do:
            why = "no rows" if self.done == 0 else ALL_DONE_BEFORE
            if self.done and self._unsent():
                why = ALL_VALID_DONE_BEFORE
            yield Part(
                ((f"nothing to do: {why}", _STATE), ("nothing to do", _STATE_SHORT)), style="bold"
            )
        elif self.finished and self.not_started:
            yield Part((("stopped", _STATE_SHORT),), style="bold yellow")
        rate = self.rate(now)
        if rate is not None:
            text = _rate_text(rate)
            yield Part(((f"{text} rows/s", _UNITS), (f"{text}/s", _RATE)))
        elapsed = format_duration((self._ended or now) - self._started)
        yield Part(((f"elapsed {elapsed}", _ELAPSED),))
        eta = self.eta(now)
        if eta is not None:
            yield Part(((f"ETA {format_duration(eta)}", _ETA),), style="cyan")

    def _ordered_counts(self) -> list[tuple[str, int]]:
        order = {status.value: index for index, status in enumerate(RowStatus)}
        counts = self.counts
        statuses = sorted(counts, key=lambda status: (order.get(status, len(order)), status))
        if not statuses:
            return [(RowStatus.CREATED.value, 0)]
        return [(status, counts[status]) for status in statuses]

    def line(self, now: float | None = None, *, width: int | None = None) -> str:
        """The progress as plain text: the whole line, or what fits in `width` (no bar)."""
        parts = [part for part in self.parts(now) if not part.bar]
        if width is None:
            return _GAP.join(part.forms[0][0] for part in parts)
        return _GAP.join(text for _, text in fit(parts, width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.cells import cell_len
        from rich.text import Text

        # The last column is left free: some terminals wrap as soon as it is written.
        width = max(1, options.max_width - 1)
        chosen = fit(self.parts(), width, cell_len)
        used = sum(cell_len(text) for part, text in chosen if not part.bar)
        used += len(_GAP) * max(0, len(chosen) - 1)
        line = Text(no_wrap=True, overflow="crop", end="")
        for index, (part, text) in enumerate(chosen):
            if index:
                line.append(_GAP)
            if part.bar:
                line.append_text(self._bar(min(_BAR_MAX, width - used)))
            else:
                line.append(text, style=part.style)
        yield line

    def _bar(self, width: int) -> Text:
        from rich.text import Text

        share = min(1.0, self.done / self.total) if self.total else 0.0
        filled = int(share * width)
        bar = Text("━" * filled, style="green")
        bar.append("─" * (width - filled), style="bar.back")
        return bar

    # -- drawing -------------------------------------------------------------------------------

    def _render(self, now: float) -> None:
        self._last_render = now
        if not self.live:
            self._write_plain(self.line(now))
            return
        if self._live is None:
            self._live = self._start_live()
        else:
            self._live.refresh()

    def _start_live(self) -> Live:
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self.stream, force_terminal=True, width=self.width, highlight=False)
        # No refresh thread (`tick` redraws) and no redirection of sys.stdout / sys.stderr:
        # the line is redrawn with a carriage return, so a message written to the stream on
        # a line of its own (the command's "stopping: ...") stays above it.
        live = Live(
            self,
            console=console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        live.start(refresh=True)
        return live

    def _write_plain(self, text: str) -> None:
        self.stream.write(f"{self._hint}progress: {text}\n")
        self._hint = ""
        self.stream.flush()


# Rows that went as they should: nothing to list or look into (unless they changed).
_WENT_WELL = frozenset(
    {
        RowStatus.CREATED,
        RowStatus.EXISTING,
        RowStatus.UPDATED,
        RowStatus.WOULD_CREATE,
        RowStatus.WOULD_UPDATE,
    }
)


def _value(status: RowStatus | str) -> str:
    return status.value if isinstance(status, RowStatus) else status


_STYLES = {
    "failed": "red",
    "invalid": "yellow",
    "duplicate": "yellow",
    RowStatus.NOT_STARTED.value: "yellow",
    "updated": "green",
}
