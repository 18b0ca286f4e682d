"""The public names of `checkout_customers.migration`."""

from __future__ import annotations

import inspect

import checkout_customers.migration as migration

EXPECTED = {
    "ApiUnreachableError",
    "MigrationIOError",
    "PreparedCreate",
    "prepare_create",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RATE",
    "DEFAULT_SETTLE_SECONDS",
    "CsvSource",
    "JournalError",
    "JsonlSource",
    "MigrationInputError",
    "MigrationReport",
    "ProgressDisplay",
    "Row",
    "RowResult",
    "RowStatus",
    "format_summary",
    "migrate",
    "migrate_sync",
    "read_csv",
    "read_jsonl",
    "RollbackReport",
    "RollbackResult",
    "RollbackStatus",
    "rollback",
}


def test_the_exported_names_are_the_documented_ones() -> None:
    assert set(migration.__all__) == EXPECTED
    assert all(hasattr(migration, name) for name in migration.__all__)


def test_the_sync_twin_has_the_same_parameters_as_migrate() -> None:
    ours = inspect.signature(migration.migrate).parameters
    twin = inspect.signature(migration.migrate_sync).parameters
    assert list(ours) == list(twin)
    assert inspect.iscoroutinefunction(migration.migrate)
    assert not inspect.iscoroutinefunction(migration.migrate_sync)


def test_input_errors_are_argument_errors_and_journal_errors_are_checkout_errors() -> None:
    from checkout_customers import CheckoutArgumentError, CheckoutError

    assert issubclass(migration.MigrationInputError, CheckoutArgumentError)
    assert issubclass(migration.JournalError, CheckoutError)


def test_outage_and_storage_errors_are_checkout_errors() -> None:
    from checkout_customers import CheckoutConnectionError, CheckoutError

    assert issubclass(migration.ApiUnreachableError, CheckoutConnectionError)
    assert issubclass(migration.MigrationIOError, CheckoutError)
