"""The end-of-run summary: the status table, honest headline, and the first problem rows."""

from __future__ import annotations

import io
import re

import pytest

from checkout_customers.migration import MigrationReport, RowResult, RowStatus, format_summary
from checkout_customers.migration._summary import ProblemRows, print_summary

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def invalid(line: int, email: str | None = "", error: str = "email: not an email") -> RowResult:
    return RowResult(line, email if email != "" else f"bad{line}", RowStatus.INVALID, error=error)


def problems_of(*results: RowResult) -> ProblemRows:
    problems = ProblemRows()
    for result in results:
        problems.add(result)
    return problems


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
    # 7 rows worked by this run in 2 s; the 3 done by an earlier run cost nothing.
    assert text.splitlines()[0] == "Migration of in.csv finished in 0:02 (3.5 rows/s)"
    for status, count in (("created", 5), ("existing", 2), ("failed", 1), ("invalid", 1)):
        assert f"{status:<12}{count:>9}" in text
    assert f"{'total':<12}{10:>9}" in text
    assert "3 rows were already done by an earlier run" in text
    assert "warning: 1 rows changed" in text
    assert "requests: 6 lookups, 4 creates, 2 answered 429" in text
    assert "journal: j.sqlite3" in text
    assert "report: r.jsonl" in text
    assert "problem" not in text  # none were given
    assert not report.ok


def test_a_resume_headline_rates_only_the_rows_worked_by_this_run() -> None:
    report = MigrationReport(rows=10_000, created=10_000, already_done=8_000, elapsed_seconds=20)
    assert format_summary(report).startswith("Migration finished in 0:20 (100.0 rows/s)")


@pytest.mark.parametrize(
    ("report", "headline"),
    [
        (
            MigrationReport(rows=50, created=50, already_done=50, elapsed_seconds=0.3),
            "Migration finished in 0:00: nothing to do, every row was done by an earlier run",
        ),
        (
            MigrationReport(rows=3, created=2, invalid=1, already_done=2, elapsed_seconds=0.3),
            "Migration finished in 0:00: nothing to do, every valid row was done by an earlier run",
        ),
        (
            MigrationReport(rows=0, elapsed_seconds=0.1),
            "Migration finished in 0:00: nothing to do, the input has no rows",
        ),
    ],
)
def test_a_run_with_nothing_to_do_says_so(report: MigrationReport, headline: str) -> None:
    assert format_summary(report).splitlines()[0] == headline


def test_fewer_than_ten_problems_are_all_listed_by_line() -> None:
    report = MigrationReport(rows=6, created=3, invalid=2, duplicate=1, elapsed_seconds=1)
    problems = problems_of(
        RowResult(6, "a@example.com", RowStatus.DUPLICATE, error="same email as line 2"),
        RowResult(2, "a@example.com", RowStatus.CREATED, customer_id="cus_1"),
        invalid(5, "not-an-email", "email: not a valid email address"),
        invalid(3, None, "email: missing"),
    )
    text = format_summary(report, problems=problems)
    lines = text.splitlines()
    start = lines.index("3 problem rows:")
    assert lines[start:] == [
        "3 problem rows:",
        "  line  email          status     reason",
        "     3  -              invalid    email: missing",
        "     5  not-an-email   invalid    email: not a valid email address",
        "     6  a@example.com  duplicate  same email as line 2",
    ]
    assert "more" not in text


def test_more_than_ten_problems_list_the_first_ten_and_point_to_the_report() -> None:
    report = MigrationReport(rows=15, invalid=15, elapsed_seconds=1)
    lines = [40, 3, 17, 9, 2, 33, 5, 21, 8, 12, 30, 4, 6, 50, 7]  # in the order rows finished
    problems = problems_of(*(invalid(line) for line in lines))
    with_report = format_summary(report, problems=problems, report_path="out/report.jsonl")
    listed = [
        int(line.split()[0]) for line in with_report.splitlines() if line[:6].strip().isdigit()
    ]
    assert listed[-10:] == [2, 3, 4, 5, 6, 7, 8, 9, 12, 17]
    assert "15 problem rows, the first 10 by line:" in with_report
    assert with_report.endswith("... and 5 more: see the report out/report.jsonl")
    without = format_summary(report, problems=problems)
    assert without.endswith(
        "... and 5 more: rerun with --report PATH to get every row with its reason"
    )


def test_rows_not_started_are_counted_not_listed_and_not_called_failed() -> None:
    report = MigrationReport(
        rows=1_000, created=300, failed=1, not_started=700, interrupted=True, elapsed_seconds=3
    )
    not_started = [
        RowResult(line, f"n{line}@example.com", RowStatus.NOT_STARTED) for line in range(302, 1_002)
    ]
    failed = RowResult(300, "f@example.com", RowStatus.FAILED, error="500 from the API")
    text = format_summary(report, problems=problems_of(*not_started, failed))
    assert text.splitlines()[0] == "Migration interrupted after 0:03 (100.0 rows/s)"
    assert f"{'failed':<12}{1:>9}" in text
    assert f"{'not_started':<12}{700:>9}" in text
    assert "700 rows were not started (the run was interrupted); the next run takes them." in text
    assert text.endswith(
        "1 problem row:\n  line  email          status  reason\n"
        "   300  f@example.com  failed  500 from the API"
    )


def test_a_changed_row_is_a_problem_to_look_at() -> None:
    changed = RowResult(
        4, "c@example.com", RowStatus.CREATED, error="the row changed", changed=True
    )
    problems = problems_of(changed, RowResult(3, "o@example.com", RowStatus.EXISTING))
    assert problems.count == 1
    text = format_summary(MigrationReport(rows=2, created=1, existing=1), problems=problems)
    assert "     4  c@example.com  created (changed)  the row changed" in text


def test_control_characters_in_a_row_never_reach_the_terminal() -> None:
    # An email cell can hold anything: an escape sequence would drive the user's terminal.
    nasty = invalid(2, "a\x1b[2J@x.io\u202e", "bad\nemail\x07")
    report = MigrationReport(rows=1, invalid=1)
    plain = format_summary(report, problems=problems_of(nasty), source="in\x1b.csv")
    rich_out = io.StringIO()
    print_summary(report, problems=problems_of(nasty), file=rich_out, rich=True, width=100)
    for text in (plain, ESCAPE.sub("", rich_out.getvalue())):
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "\u202e" not in text
        assert "a\\x1b[2J@x.io\\u202e" in text
        assert "bad email\\x07" in text


def test_markup_in_a_row_is_printed_as_it_is() -> None:
    report = MigrationReport(rows=1, invalid=1)
    out = io.StringIO()
    problem = invalid(2, "[bold red]x@y.io[/]", "[link=http://evil]click[/link]")
    print_summary(report, problems=problems_of(problem), file=out, rich=True, width=120)
    text = out.getvalue()
    assert "[bold red]x@y.io[/]" in text
    assert "[link=http://evil]click[/link]" in text
    assert "\x1b]8;" not in text  # no hyperlink made


def many_problems() -> tuple[MigrationReport, ProblemRows]:
    report = MigrationReport(rows=40, created=25, invalid=12, duplicate=2, failed=1)
    problems = problems_of(
        *(
            invalid(line, f"someone.with.a.long.address{line}@example-company.com")
            for line in range(100_001, 100_013)
        ),
        RowResult(7, "dup@example.com", RowStatus.DUPLICATE, error="same email as line 3"),
        RowResult(9, "dup@example.com", RowStatus.DUPLICATE, error="same email as line 3"),
        RowResult(
            11,
            "f@example.com",
            RowStatus.FAILED,
            error="422 from the API: phone_number_invalid; the customer was not created",
        ),
    )
    return report, problems


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_rich_summary_fits_the_terminal_and_cuts_no_number(width: int) -> None:
    report, problems = many_problems()
    out = io.StringIO()
    print_summary(
        report, problems=problems, file=out, rich=True, width=width, report_path="r.jsonl"
    )
    text = ESCAPE.sub("", out.getvalue())
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert lines[0] == "Migration finished in 0:00 (0.0 rows/s)"
    assert re.search(r"created\s+25\b", text)
    assert re.search(r"invalid\s+12\b", text)
    assert re.search(r"total\s+40\b", text)
    for line in (7, 9, 11, *range(100_001, 100_008)):  # the first ten by line, whole
        assert re.search(rf"(^|\s){line}\s", text), line
    assert "100008" not in text
    assert "15 problem rows, the first 10 by line:" in text
    assert lines[-1] == "... and 5 more: see the report r.jsonl"
    # Long emails and reasons fold onto more lines rather than being cut short.
    assert "…" not in text
    assert "dup@example.com" in text


def test_without_a_terminal_the_summary_is_plain_text() -> None:
    report, problems = many_problems()
    out = io.StringIO()
    print_summary(report, problems=problems, file=out)
    assert out.getvalue() == format_summary(report, problems=problems) + "\n"


def test_a_status_the_report_has_no_field_for_counts_none() -> None:
    # While the engine and the report grow new statuses at different times.
    class OlderReport(MigrationReport):
        def count(self, status: RowStatus) -> int:
            if status is RowStatus.DUPLICATE:
                raise AttributeError(status.value)
            return super().count(status)

    text = format_summary(OlderReport(rows=2, created=2, elapsed_seconds=1))
    assert f"{'created':<12}{2:>9}" in text
    assert f"{'duplicate':<12}{0:>9}" in text
