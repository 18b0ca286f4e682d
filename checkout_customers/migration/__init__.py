"""Bulk migration: one customer per email, exactly once, resumable, at the account's pace.

    from checkout_customers import AsyncClient
    from checkout_customers.migration import migrate, read_csv

    async with AsyncClient() as cko:
        report = await migrate(cko, read_csv("customers.csv"), journal="migration.sqlite3")
    print(report.created, report.existing, report.failed, report.invalid)

`migrate_sync(client, ...)` is the same for a blocking `Client`. The command
`checkout-customers migrate INPUT` wraps it with a progress bar, a JSONL report and the exit
statuses of the contract. See `docs/migration.md` for the guarantees and formats.
"""

from .._customers import PreparedCreate, prepare_create
from ._circuit_breaker import ApiUnreachableError
from ._csv_input import CsvSource, read_csv
from ._journal import JournalError
from ._jsonl_input import JsonlSource, read_jsonl
from ._migrate import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RATE,
    DEFAULT_SETTLE_SECONDS,
    MigrationIOError,
    migrate,
)
from ._progress import ProgressDisplay, format_summary
from ._report import MigrationReport, RowResult, RowStatus
from ._rollback import RollbackReport, RollbackResult, RollbackStatus, rollback
from ._rows import MigrationInputError, Row
from ._sync import migrate as migrate_sync

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RATE",
    "DEFAULT_SETTLE_SECONDS",
    "ApiUnreachableError",
    "CsvSource",
    "JournalError",
    "JsonlSource",
    "MigrationIOError",
    "MigrationInputError",
    "MigrationReport",
    "PreparedCreate",
    "ProgressDisplay",
    "RollbackReport",
    "RollbackResult",
    "RollbackStatus",
    "Row",
    "RowResult",
    "RowStatus",
    "format_summary",
    "migrate",
    "migrate_sync",
    "prepare_create",
    "read_csv",
    "read_jsonl",
    "rollback",
]
