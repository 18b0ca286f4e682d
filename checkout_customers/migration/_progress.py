"""Showing a migration as it runs: a live bar on a terminal, periodic log lines otherwise.

display = ProgressDisplay(sys.stderr, total=5000)
report = await migrate(cko, rows, journal=..., progress=display.update)
display.finish()
print(format_summary(report))
"""

from __future__ import annotations

import collections
import shutil
import time
from collections.abc import Callable
from typing import IO

from ._report import MigrationReport, RowResult, RowStatus

__all__ = ["ProgressDisplay", "format_duration", "format_summary"]

LIVE_INTERVAL_SECONDS = 0.1
LOG_INTERVAL_SECONDS = 10.0
_RATE_WINDOW_SECONDS = 10.0
_BAR_WIDTH = 24


def format_duration(seconds: float) -> str:
    """`0:42`, `12:05`, `3:02:17`."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


class ProgressDisplay:
    """Counts finished rows by status and shows them on `stream`.

    `live` (default: whether `stream` is a terminal) redraws one line in place at most every
    0.1 s; otherwise a plain log line is written every `interval` seconds. Call `update` with
    each finished row, `tick` now and then (so a stalled run still shows), `finish` at the end.
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
        self.live = stream.isatty() if live is None else live
        self.interval = interval or (LIVE_INTERVAL_SECONDS if self.live else LOG_INTERVAL_SECONDS)
        self.width = width
        self.counts = dict.fromkeys(RowStatus, 0)
        self.done = 0
        self._clock = clock
        self._started = clock()
        self._last_render = self._started
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._samples.append((self._started, 0))
        self._drawn = False
        #: Why the run is paused (e.g. "API unreachable (connection refused)"), or None.
        self.paused: str | None = None

    def set_paused(self, cause: str | None) -> None:
        """Show that the run is paused for `cause` (None: it runs again), at once."""
        self.paused = cause
        self._render(self._clock())

    def update(self, result: RowResult) -> None:
        self.done += 1
        self.counts[result.status] += 1
        self.tick()

    def tick(self) -> None:
        """Render if the interval has passed since the last render."""
        now = self._clock()
        if now - self._last_render >= self.interval:
            self._render(now)

    def rate(self, now: float | None = None) -> float:
        """Rows per second over the last ten seconds."""
        now = self._clock() if now is None else now
        samples = self._samples
        samples.append((now, self.done))
        while len(samples) > 2 and now - samples[1][0] >= _RATE_WINDOW_SECONDS:
            samples.popleft()
        first_time, first_done = samples[0]
        elapsed = now - first_time
        return (self.done - first_done) / elapsed if elapsed > 0 else 0.0

    def line(self, now: float | None = None, *, bar: bool = True) -> str:
        """The progress as one line of text."""
        now = self._clock() if now is None else now
        rate = self.rate(now)
        parts = []
        if self.total:
            share = min(1.0, self.done / self.total)
            if self.live and bar:
                filled = int(share * _BAR_WIDTH)
                parts.append("[" + "#" * filled + "-" * (_BAR_WIDTH - filled) + "]")
            parts.append(f"{self.done}/{self.total} rows {share:.1%}")
        else:
            parts.append(f"{self.done} rows")
        parts.append(f"{rate:.1f} rows/s")
        if self.total and rate > 0:
            parts.append("ETA " + format_duration(max(0, self.total - self.done) / rate))
        else:
            parts.append("elapsed " + format_duration(now - self._started))
        counts = [
            f"{status.value} {count}"
            for status, count in self.counts.items()
            if count or status is RowStatus.CREATED
        ]
        text = "  ".join(parts) + "  " + ", ".join(counts)
        if self.paused is not None:
            text += f"  paused: {self.paused}, probing"
        return text

    def _render(self, now: float) -> None:
        self._last_render = now
        text = self.line(now)
        if self.live:
            width = self.width or shutil.get_terminal_size((100, 20)).columns
            if len(text) >= width:
                text = self.line(now, bar=False)  # the counts matter more than the bar
            self.stream.write("\r" + text[: max(10, width - 1)] + "\x1b[K")
            self._drawn = True
        else:
            self.stream.write("progress: " + text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Draw the last state, then leave the line (a terminal keeps the final bar)."""
        self._render(self._clock())
        if self.live and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def format_summary(
    report: MigrationReport,
    *,
    source: str | None = None,
    report_path: str | None = None,
    journal_label: str | None = None,
) -> str:
    """The end-of-run summary table, as printed by `checkout-customers migrate`.

    `journal_label` replaces the journal's path in the last lines (for a temporary journal).
    """
    title = "Migration" + (f" of {source}" if source else "")
    verdict = "interrupted" if report.interrupted else "finished"
    lines = [
        f"{title} {verdict} in {format_duration(report.elapsed_seconds)} "
        f"({report.rows_per_second:.1f} rows/s)",
        "",
        f"  {'status':<12}{'rows':>9}",
        f"  {'-' * 12}{'-' * 9}",
    ]
    for status in RowStatus:
        lines.append(f"  {status.value:<12}{report.count(status):>9}")
    lines.append(f"  {'-' * 12}{'-' * 9}")
    lines.append(f"  {'total':<12}{report.rows:>9}")
    lines.append("")
    if report.already_done:
        lines.append(
            f"{report.already_done} rows were already done by an earlier run (nothing sent)."
        )
    if report.changed:
        lines.append(
            f"warning: {report.changed} rows changed since an earlier run migrated them; "
            "their customers were not updated (see the report's `error`)."
        )
    lines.append(
        f"requests: {report.lookups_sent} lookups, {report.creates_sent} creates, "
        f"{report.rate_limited} answered 429"
    )
    if journal_label or report.journal:
        lines.append(f"journal: {journal_label or report.journal}")
    if report_path:
        lines.append(f"report: {report_path}")
    return "\n".join(lines)
