"""The progress display and the summary table."""

from __future__ import annotations

import io

from checkout_customers.migration import (
    MigrationReport,
    ProgressDisplay,
    RowResult,
    RowStatus,
    format_summary,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_gets_a_bar_redrawn_in_place_with_rate_eta_and_counts() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, total=200, live=True, width=200, clock=clock)
    for line in range(50):
        clock.now += 0.1
        display.update(RowResult(line, "a@x.io", RowStatus.CREATED))
    display.update(RowResult(99, None, RowStatus.INVALID, error="bad"))
    display.finish()
    frames = stream.getvalue().split("\r")
    last = frames[-1]
    assert last.startswith("[######")
    assert "51/200 rows 25.5%" in last
    assert "10.2 rows/s" in last
    assert "ETA 0:15" in last
    assert last.endswith("created 50, invalid 1\x1b[K\n")  # the statuses seen so far
    assert len(frames) > 20  # redrawn as rows finished


def test_a_narrow_terminal_drops_the_bar_before_the_counts() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, total=200, live=True, width=70, clock=Clock())
    display.update(RowResult(2, "a@x.io", RowStatus.CREATED))
    display.finish()
    assert "[-" not in stream.getvalue()
    assert "created 1" in stream.getvalue()


def test_without_a_terminal_plain_lines_come_at_the_interval() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, total=None, live=False, interval=10.0, clock=clock)
    for _ in range(30):
        clock.now += 1.0
        display.update(RowResult(2, "a@x.io", RowStatus.EXISTING))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert all(line.startswith("progress: ") and "\r" not in line for line in lines)
    assert "30 rows" in lines[-1]
    assert "existing 30" in lines[-1]


def test_the_summary_table_lists_every_status_and_warns_about_changed_rows() -> None:
    report = MigrationReport(
        rows=10,
        created=5,
        existing=2,
        failed=1,
        invalid=1,
        duplicate=1,
        already_done=3,
        changed=1,
        elapsed_seconds=2.0,
        creates_sent=4,
        lookups_sent=6,
        rate_limited=2,
        journal="j.sqlite3",
    )
    text = format_summary(report, source="in.csv", report_path="r.jsonl")
    assert text.splitlines()[0] == "Migration of in.csv finished in 0:02 (5.0 rows/s)"
    for status, count in (("created", 5), ("existing", 2), ("failed", 1), ("invalid", 1)):
        assert f"{status:<12}{count:>9}" in text
    assert f"{'total':<12}{10:>9}" in text
    assert "3 rows were already done by an earlier run" in text
    assert "warning: 1 rows changed" in text
    assert "requests: 6 lookups, 4 creates, 2 answered 429" in text
    assert "journal: j.sqlite3" in text
    assert "report: r.jsonl" in text
    assert not report.ok
