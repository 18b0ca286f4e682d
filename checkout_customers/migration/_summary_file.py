"""The `--summary` file: one JSON object saying how a migration run went, for scripts and CI.

    {"status_counts": {"created": 98, "existing": 1, "failed": 0, "invalid": 1, ...},
     "rows": 100, "input": "customers.csv", "journal": "customers.csv.journal.sqlite3",
     "report": "report.jsonl", "started_at": "2026-11-30T09:00:00.123Z",
     "ended_at": "2026-11-30T09:00:02.456Z", "elapsed_seconds": 2.333,
     "rows_per_second": 42.9, "requests_sent": 199, "rate_limited": 0,
     "interrupted": false, "exit_status": 1, "error": null}

The counts hold one entry per report status, so a status added later appears without a change
here. A run that ended on an error before any row finished has no counts (`null`) and the error.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from ._private_files import create_private
from ._report import MigrationReport, RowStatus

__all__ = ["iso_utc", "summary_object", "write_summary"]


def iso_utc(moment: datetime) -> str:
    """`moment` as ISO 8601 in UTC with milliseconds and a `Z`."""
    text = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def summary_object(
    report: MigrationReport | None,
    *,
    input_path: str,
    journal: str | None,
    report_path: str | None,
    started_at: datetime,
    ended_at: datetime,
    exit_status: int,
    error: str | None = None,
) -> dict[str, Any]:
    """The summary of a run as a JSON-ready dict (see the module docstring)."""
    counts = None
    if report is not None:
        counts = {status.value: report.count(status) for status in RowStatus}
    return {
        "status_counts": counts,
        "rows": report.rows if report is not None else None,
        "already_done": report.already_done if report is not None else None,
        "input": input_path,
        "journal": journal,
        "report": report_path,
        "started_at": iso_utc(started_at),
        "ended_at": iso_utc(ended_at),
        "elapsed_seconds": round((ended_at - started_at).total_seconds(), 3),
        "rows_per_second": round(report.rows_per_second, 1) if report is not None else None,
        "requests_sent": (report.creates_sent + report.lookups_sent) if report else 0,
        "rate_limited": report.rate_limited if report is not None else 0,
        "interrupted": report.interrupted if report is not None else None,
        "exit_status": exit_status,
        "error": error,
    }


def write_summary(path: str | os.PathLike[str], summary: dict[str, Any]) -> None:
    """Write `summary` to `path` (truncated; created 0600: it names the files of the run)."""
    with create_private(path) as stream:
        stream.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
