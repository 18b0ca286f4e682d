"""What a migration did: one `RowResult` per input row, a `MigrationReport` for the run.

`ReportWriter` streams the row results as JSON Lines, one object per input row, in the order
rows finish (sort by `line` if the input order matters):

    {"line": 2, "email": "bruce@wayne.com", "status": "created",
     "customer_id": "cus_...", "error": null, "request_id": "..."}
"""

from __future__ import annotations

import json
import os
from enum import Enum
from typing import IO, Any

import attrs

from ._private_files import create_private

__all__ = ["MigrationReport", "ReportWriter", "RowResult", "RowStatus"]


class RowStatus(str, Enum):
    """How an input row ended."""

    CREATED = "created"  # the migration created the customer (in this run or an earlier one)
    EXISTING = "existing"  # a customer with this email was already on the account
    FAILED = "failed"  # not migrated; a rerun retries it
    INVALID = "invalid"  # the row is not a valid create request; never sent
    DUPLICATE = "duplicate"  # an earlier row of the input has the same email
    #: The run was interrupted before the row was started: nothing was sent for it, and the
    #: next run of the same migration takes it.
    NOT_STARTED = "not_started"
    UPDATED = "updated"  # `on_existing="update"`: the customer got the row's fields (one PATCH)
    WOULD_CREATE = "would_create"  # a dry run: a real run would create the customer
    WOULD_UPDATE = "would_update"  # a dry run with `on_existing="update"`: would PATCH it


@attrs.frozen
class RowResult:
    """The outcome of one input row, as written to the report."""

    line: int
    email: str | None
    status: RowStatus
    customer_id: str | None = None
    error: str | None = None
    request_id: str | None = None
    #: Finished by an earlier run of the same migration (nothing was sent in this run).
    already_done: bool = False
    #: A finished row whose content differs from what was migrated (the customer is unchanged).
    changed: bool = False
    #: The input's own identifier of the row (`id_column`): with `customer_id`, the id mapping.
    source_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        entry = {
            "line": self.line,
            "email": self.email,
            "status": self.status.value,
            "customer_id": self.customer_id,
            "error": self.error,
            "request_id": self.request_id,
        }
        if self.source_id is not None:  # only rows of an input read with an id column
            entry["source_id"] = self.source_id
        return entry


@attrs.frozen(kw_only=True)
class MigrationReport:
    """The totals of one migration run.

    The counts by status add up to `rows` for a run that was not interrupted (`updated` with
    `on_existing="update"`; `would_create` and `would_update` in a dry run); an interrupted run
    counts the rows it never started in `not_started`. Rows finished by an earlier run count
    under their status and in `already_done`; rows changed since they were migrated count in
    `changed`.
    """

    rows: int = 0
    created: int = 0
    existing: int = 0
    failed: int = 0
    invalid: int = 0
    duplicate: int = 0
    #: Rows an interrupted run never started (the next run takes them).
    not_started: int = 0
    updated: int = 0
    would_create: int = 0
    would_update: int = 0
    already_done: int = 0
    changed: int = 0
    #: The run stopped early (`should_stop`, Ctrl-C): rerun the same command to resume.
    interrupted: bool = False
    elapsed_seconds: float = 0.0
    #: Requests sent in this run, and how many the API answered 429.
    creates_sent: int = 0
    lookups_sent: int = 0
    updates_sent: int = 0
    rate_limited: int = 0
    journal: str | None = None
    #: A dry run (`dry_run=True`): only look-ups were sent, the journal was left as it was.
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Every row was read and every valid row ended `created` or `existing`."""
        return not self.interrupted and self.failed == 0 and self.invalid == 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def count(self, status: RowStatus) -> int:
        return int(getattr(self, status.value))


class Tally:
    """Running counts, updated as rows finish; `snapshot()` gives a `MigrationReport`."""

    def __init__(self) -> None:
        self.by_status = dict.fromkeys(RowStatus, 0)
        self.rows = 0
        self.already_done = 0
        self.changed = 0

    def add(self, result: RowResult) -> None:
        self.rows += 1
        self.by_status[result.status] += 1
        self.already_done += result.already_done
        self.changed += result.changed

    def snapshot(self, **fields: Any) -> MigrationReport:
        return MigrationReport(
            rows=self.rows,
            created=self.by_status[RowStatus.CREATED],
            existing=self.by_status[RowStatus.EXISTING],
            failed=self.by_status[RowStatus.FAILED],
            invalid=self.by_status[RowStatus.INVALID],
            duplicate=self.by_status[RowStatus.DUPLICATE],
            not_started=self.by_status[RowStatus.NOT_STARTED],
            updated=self.by_status[RowStatus.UPDATED],
            would_create=self.by_status[RowStatus.WOULD_CREATE],
            would_update=self.by_status[RowStatus.WOULD_UPDATE],
            already_done=self.already_done,
            changed=self.changed,
            **fields,
        )


def _unicode(value: Any) -> Any:
    """`value`, with any lone surrogate of a string spelled out as text (`\\udcff`).

    Such text (from an input such as the JSON `"\\udcff"`) is not Unicode: it cannot be written
    as UTF-8, and escaped as it is a strict JSON reader would refuse it.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


class ReportWriter:
    """Writes one JSON line per row to a path (truncated first) or an open text stream.

    The file is private (0600, `create_private`): it holds the customers' emails.
    """

    def __init__(self, target: str | os.PathLike[str] | IO[str]) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._stream: IO[str] = create_private(target)
            self._owned = True
        else:
            self._stream = target
            self._owned = False

    def write(self, result: RowResult) -> None:
        entry = {key: _unicode(value) for key, value in result.to_json().items()}
        try:
            self._stream.write(json.dumps(entry, ensure_ascii=False) + "\n")
        except UnicodeEncodeError:  # a stream whose encoding cannot hold the text as it is
            self._stream.write(json.dumps(entry) + "\n")

    def close(self) -> None:
        self._stream.flush()
        if self._owned:
            self._stream.close()
