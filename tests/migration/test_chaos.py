"""Chaos: thousands of rows while the emulator fails in every way it can.

Every fault mode is on at once (500 without acting, reset before acting, drop after acting,
slow answer after acting, which the client's short timeout turns into a timeout, and acting
late, after the client has timed out). Whatever happens, the emulator ends with exactly one
customer per valid email and the report has one line per input row.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from checkout_customers import AsyncClient, Timeout
from checkout_customers.emulator import emulator_thread
from checkout_customers.migration import migrate, read_csv

from .conftest import read_report, write_csv

ROWS = 1500
FAULTS = {
    "fault_500": 0.05,
    "fault_reset_before_acting": 0.05,
    "fault_drop_after_acting": 0.05,
    "fault_slow_after_acting": 0.03,
    "fault_slow_before_acting": 0.03,
    "fault_slow_ms": 400.0,
}
# Longer than any request may stay inside the emulator (fault_slow_ms), as the default covers
# the real API's 60 s gateway timeout.
SETTLE_SECONDS = 0.6


@pytest.mark.parametrize("reject_duplicate_emails", [False, True])
async def test_exactly_one_customer_per_email_whatever_fails(
    tmp_path: Path, reject_duplicate_emails: bool
) -> None:
    rows = [[f"chaos{number}@example.com", f"Chaos {number}"] for number in range(ROWS)]
    rows[10:10] = [["CHAOS5@example.com ", "again"], ["broken", "invalid"]]
    source = write_csv(tmp_path / "in.csv", rows)
    report_path = tmp_path / "report.jsonl"
    with emulator_thread(
        seed=5, reject_duplicate_emails=reject_duplicate_emails, **FAULTS
    ) as emulator:
        async with AsyncClient(
            secret_key=emulator.secret_key,
            base_url=emulator.base_url,
            timeout=Timeout(total=0.2),
        ) as cko:
            report = await migrate(
                cko,
                read_csv(source),
                journal=tmp_path / "journal.sqlite3",
                report=report_path,
                read_rate=None,
                write_rate=None,
                settle_seconds=SETTLE_SECONDS,
                max_attempts=50,
            )
        counts = Counter(str(customer["email"]) for customer in emulator.customers())

    assert counts == Counter(f"chaos{number}@example.com" for number in range(ROWS))
    assert (report.created, report.duplicate, report.invalid, report.failed) == (ROWS, 1, 1, 0)
    entries = read_report(report_path)
    assert [entry["line"] for entry in entries] == list(range(2, ROWS + 4))
    assert report.creates_sent > ROWS  # faults really happened, and were survived
