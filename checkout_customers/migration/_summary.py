"""The end of a migration on screen: the table of statuses, notes, and the first problem rows.

    problems = ProblemRows()              # fed every RowResult (ProgressDisplay does it)
    print_summary(report, problems=problems, source="customers.csv", report_path="r.jsonl")

On a terminal taking escape codes, with rich installed (the `cli` extra), the tables are drawn
by rich and fit the terminal's width; elsewhere (a pipe, a file, `TERM=dumb`) the same content
is plain text, one row per line, easy to grep. `format_summary` returns that plain text.

A *problem row* is one the user has to look at: `failed`, `invalid`, `duplicate`, and a
finished row that changed since an earlier run migrated it. The first ten by line are listed
(line, email, status, reason), then "... and N more: see PATH" (or a hint to pass `--report`).
Rows an interrupted run never started are counted, not listed: the next run takes them.
"""

from __future__ import annotations

import heapq
import itertools
import sys
from collections.abc import Iterator
from typing import IO

import attrs

from ._report import MigrationReport, RowResult, RowStatus
from ._terminal import capable_terminal, printable, rich_installed

__all__ = [
    "PROBLEM_STATUSES",
    "ProblemRows",
    "format_duration",
    "format_summary",
    "print_summary",
]

#: The statuses of rows that did not become a customer and will not by rerunning as they are.
PROBLEM_STATUSES = frozenset({"failed", "invalid", "duplicate"})
#: How many problem rows are printed at the end.
PROBLEMS_SHOWN = 10
# The statuses always in the table (a later status, such as `updated`, when it occurs).
_ALWAYS_LISTED = frozenset({"created", "existing", "failed", "invalid", "duplicate"})
ALL_DONE_BEFORE = "every row was done by an earlier run"
ALL_VALID_DONE_BEFORE = "every valid row was done by an earlier run"


def format_duration(seconds: float) -> str:
    """`0:42`, `12:05`, `3:02:17`."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def is_problem(result: RowResult) -> bool:
    """Whether the user has to look at the row (see the module docstring)."""
    if result.status is RowStatus.NOT_STARTED:
        return False
    return result.status.value in PROBLEM_STATUSES or result.changed


class ProblemRows:
    """The first `limit` problem rows by line, how many there were, and the rows not started.

    Memory stays at `limit` rows whatever the size of the input: rows finish out of order, so
    the kept rows are a heap of the lowest lines seen.
    """

    def __init__(self, limit: int = PROBLEMS_SHOWN) -> None:
        self.limit = limit
        #: Problem rows seen.
        self.count = 0
        #: Rows an interrupted run never started (not problems: the next run takes them).
        self.not_started = 0
        self._lowest: list[tuple[int, int, RowResult]] = []  # (-line, arrival, row)
        self._arrival = itertools.count()

    def add(self, result: RowResult) -> None:
        """Look at one finished row; keep it if it is one of the first problems."""
        if result.status is RowStatus.NOT_STARTED:
            self.not_started += 1
            return
        if not is_problem(result):
            return
        self.count += 1
        entry = (-result.line, next(self._arrival), result)
        if len(self._lowest) < self.limit:
            heapq.heappush(self._lowest, entry)
        elif result.line < -self._lowest[0][0]:
            heapq.heapreplace(self._lowest, entry)

    def first(self) -> list[RowResult]:
        """The kept problem rows, by line."""
        return [row for _, _, row in sorted(self._lowest, key=lambda e: (-e[0], e[1]))]

    @property
    def more(self) -> int:
        """Problem rows seen but not kept."""
        return self.count - len(self._lowest)


@attrs.frozen
class _Summary:
    """What the end of a run shows, before it is drawn as text or by rich."""

    headline: str
    table: list[tuple[str, int]]
    total: int
    notes: list[tuple[str, bool]]  # (text, is a warning)
    details: list[str]
    problems_heading: str | None
    problems: list[tuple[str, str, str, str]]  # line, email, status, reason
    problems_more: str | None


def _problem_cells(row: RowResult) -> tuple[str, str, str, str]:
    status = row.status.value + (" (changed)" if row.changed else "")
    email = printable(row.email) if row.email is not None else "-"
    reason = printable(" ".join((row.error or "").split())) or "-"
    return str(row.line), email, status, reason


def _count(report: MigrationReport, status: RowStatus) -> int:
    try:
        return report.count(status)
    except AttributeError:  # a status newer than the report's fields: none of them here
        return 0


def _summarise(
    report: MigrationReport,
    *,
    problems: ProblemRows | None,
    source: str | None,
    report_path: str | None,
    journal_label: str | None,
) -> _Summary:
    counts = {status.value: _count(report, status) for status in RowStatus}
    not_started = report.not_started
    table = [(s, n) for s, n in counts.items() if n or s in _ALWAYS_LISTED]

    title = ("Dry run" if report.dry_run else "Migration") + (
        f" of {printable(source)}" if source else ""
    )
    elapsed = format_duration(report.elapsed_seconds)
    # The rate counts the rows this run worked: rows an earlier run finished cost nothing.
    worked = report.rows - report.already_done - not_started
    unsent = report.invalid + report.duplicate
    if not report.interrupted and (report.rows == 0 or (report.already_done and worked <= unsent)):
        why = "the input has no rows" if report.rows == 0 else ALL_DONE_BEFORE
        if report.rows and unsent:
            why = ALL_VALID_DONE_BEFORE
        headline = f"{title} finished in {elapsed}: nothing to do, {why}"
    else:
        verdict = "interrupted after" if report.interrupted else "finished in"
        rate = worked / report.elapsed_seconds if report.elapsed_seconds > 0 else 0.0
        headline = f"{title} {verdict} {elapsed} ({rate:.1f} rows/s)"

    notes: list[tuple[str, bool]] = []
    if report.dry_run:
        notes.append(
            (
                "dry run: only look-ups were sent; nothing was created or updated and the "
                "journal was not changed (`would_create` / `would_update`: what a real run "
                "would do).",
                False,
            )
        )
    if report.already_done:
        notes.append(
            (
                f"{report.already_done} rows were already done by an earlier run (nothing sent).",
                False,
            )
        )
    if not_started:
        notes.append(
            (
                f"{not_started} rows were not started (the run was interrupted); "
                "the next run takes them.",
                True,
            )
        )
    if report.changed:
        notes.append(
            (
                f"warning: {report.changed} rows changed since an earlier run migrated them; "
                "their customers were not updated (see the report's `error`).",
                True,
            )
        )
    updates = f"{report.updates_sent} updates, " if report.updates_sent else ""
    details = [
        f"requests: {report.lookups_sent} lookups, {report.creates_sent} creates, {updates}"
        f"{report.rate_limited} answered 429"
    ]
    if journal_label or report.journal:
        details.append(f"journal: {printable(str(journal_label or report.journal))}")
    if report_path:
        details.append(f"report: {printable(report_path)}")

    heading = more = None
    rows: list[tuple[str, str, str, str]] = []
    if problems is not None and problems.count:
        rows = [_problem_cells(row) for row in problems.first()]
        plural = "row" if problems.count == 1 else "rows"
        heading = f"{problems.count} problem {plural}" + (
            f", the first {len(rows)} by line:" if problems.more else ":"
        )
        if problems.more:
            where = (
                f"see the report {printable(report_path)}"
                if report_path
                else "rerun with --report PATH to get every row with its reason"
            )
            more = f"... and {problems.more} more: {where}"
    return _Summary(
        headline=headline,
        table=table,
        total=report.rows,
        notes=notes,
        details=details,
        problems_heading=heading,
        problems=rows,
        problems_more=more,
    )


def format_summary(
    report: MigrationReport,
    *,
    source: str | None = None,
    report_path: str | None = None,
    journal_label: str | None = None,
    problems: ProblemRows | None = None,
) -> str:
    """The end-of-run summary as plain text, as `checkout-customers migrate` prints it to a
    pipe or a file.

    `journal_label` replaces the journal's path (for a temporary journal); `problems` adds the
    list of the first problem rows.
    """
    summary = _summarise(
        report,
        problems=problems,
        source=source,
        report_path=report_path,
        journal_label=journal_label,
    )
    return "\n".join(_plain_lines(summary))


def _plain_lines(summary: _Summary) -> Iterator[str]:
    yield summary.headline
    yield ""
    yield f"  {'status':<12}{'rows':>9}"
    yield f"  {'-' * 12}{'-' * 9}"
    for status, count in summary.table:
        yield f"  {status:<12}{count:>9}"
    yield f"  {'-' * 12}{'-' * 9}"
    yield f"  {'total':<12}{summary.total:>9}"
    yield ""
    for note, _ in summary.notes:
        yield note
    yield from summary.details
    if summary.problems_heading is None:
        return
    yield ""
    yield summary.problems_heading
    header = ("line", "email", "status", "reason")
    widths = [max(len(cells[i]) for cells in (header, *summary.problems)) for i in range(3)]
    for cells in (header, *summary.problems):
        line, email, status, reason = cells
        yield f"  {line:>{widths[0]}}  {email:<{widths[1]}}  {status:<{widths[2]}}  {reason}"
    if summary.problems_more:
        yield summary.problems_more


def print_summary(
    report: MigrationReport,
    *,
    file: IO[str] | None = None,
    source: str | None = None,
    report_path: str | None = None,
    journal_label: str | None = None,
    problems: ProblemRows | None = None,
    width: int | None = None,
    rich: bool | None = None,
) -> None:
    """Print the end-of-run summary to `file` (default stdout): with rich on a terminal taking
    escape codes (`rich` decides otherwise; `width` is for tests), else as `format_summary`.
    """
    file = sys.stdout if file is None else file
    summary = _summarise(
        report,
        problems=problems,
        source=source,
        report_path=report_path,
        journal_label=journal_label,
    )
    use_rich = rich_installed() and (capable_terminal(file) if rich is None else rich)
    if not use_rich:
        file.write("\n".join(_plain_lines(summary)) + "\n")
        file.flush()
        return
    _print_rich(summary, file, width=width, terminal=rich is None or capable_terminal(file))


def _print_rich(summary: _Summary, file: IO[str], *, width: int | None, terminal: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Every cell is a Text, never markup: a `[` in an email or a reason is only a bracket.
    console = Console(file=file, width=width, highlight=False, force_terminal=terminal or None)
    console.print(Text(summary.headline, style="bold"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, show_footer=True, pad_edge=False)
    table.add_column("status", footer="total", no_wrap=True)
    table.add_column("rows", footer=Text(str(summary.total)), justify="right", no_wrap=True)
    for status, count in summary.table:
        style = "red" if status in PROBLEM_STATUSES and count else ""
        table.add_row(Text(status, style=style), Text(str(count), style=style))
    console.print(table)
    console.print()
    for note, warning in summary.notes:
        console.print(Text(note, style="yellow" if warning else ""))
    for detail in summary.details:
        console.print(Text(detail))
    if summary.problems_heading is None:
        return
    console.print()
    console.print(Text(summary.problems_heading, style="bold"))
    problems = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # Line numbers and statuses are never wrapped; an email or a reason too long for the
    # terminal folds onto more lines, so nothing is cut off.
    problems.add_column("line", justify="right", no_wrap=True)
    problems.add_column("email", overflow="fold")
    problems.add_column("status", no_wrap=True)
    problems.add_column("reason", overflow="fold")
    for line, email, status, reason in summary.problems:
        problems.add_row(Text(line), Text(email), Text(status, style="red"), Text(reason))
    console.print(problems)
    if summary.problems_more:
        console.print(Text(summary.problems_more))
