"""The rules of "Exactly once per email" (docs/migration.md), each against a scripted API.

Each test stages the one scene its rule exists for, so that removing the line that enforces
the rule makes it fail (the mapping is in the module docstring of `_row_protocol`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from checkout_customers import AsyncClient, AuthenticationError
from checkout_customers.migration import RowResult, RowStatus, migrate
from checkout_customers.migration._row_protocol import CREATE_VERDICTS, CreateVerdict

from .scripted_api import Act, ScriptedApi

UNPACED = {"read_rate": None, "write_rate": None}
EMAIL = "only@example.com"


@pytest.fixture
async def api() -> AsyncIterator[ScriptedApi]:
    async with ScriptedApi() as running:
        yield running


@pytest.fixture
async def cko(api: ScriptedApi) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(secret_key="sk_sbox_scripted_key", base_url=api.base_url) as client:
        yield client


def first_create(act: Act) -> object:
    return lambda email, attempt: act if attempt == 1 else Act.OK


async def run_until_parked(
    cko: AsyncClient, api: ScriptedApi, journal: Path, **options: object
) -> None:
    """Start a migration of EMAIL, cancel it once its create got its (500) answer."""
    run = asyncio.create_task(
        migrate(cko, [{"email": EMAIL}], journal=journal, **UNPACED, **options)  # type: ignore[arg-type]
    )
    await api.wait_for_requests("POST", EMAIL, 1)
    await asyncio.sleep(0.1)  # the answer is in, the row parked
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


async def test_a_create_without_an_answer_is_recorded_creating_before_the_run_can_die(
    api: ScriptedApi, cko: AsyncClient, journal: Path
) -> None:
    # Rule 4: the create answered 500 and acts 0.8 s later. The run dies meanwhile; its lease
    # is cleared (no create is unsettled), so only the `creating` record tells the next run
    # that a create may still land.
    api.script_create = first_create(Act.LATE_500)  # type: ignore[assignment]
    await run_until_parked(cko, api, journal, settle_seconds=1.5)
    results: list[RowResult] = []
    report = await migrate(
        cko,
        [{"email": EMAIL}],
        journal=journal,
        progress=results.append,
        settle_seconds=1.5,
        **UNPACED,
    )
    assert api.created[EMAIL] == 1
    assert (report.created, report.creates_sent) == (1, 0)
    assert results[0].status is RowStatus.CREATED


async def test_not_found_is_trusted_only_after_the_settle_window(
    api: ScriptedApi, cko: AsyncClient, journal: Path
) -> None:
    # Rule 4: in one run, the create answers 500 and lands 0.8 s later; "not found" before
    # then must not lead to a second create.
    api.script_create = first_create(Act.LATE_500)  # type: ignore[assignment]
    started = time.time()
    report = await migrate(cko, [{"email": EMAIL}], journal=journal, settle_seconds=1.5, **UNPACED)
    assert api.created[EMAIL] == 1
    assert (report.created, report.creates_sent, report.failed) == (1, 1, 0)
    lookups_after = [moment for moment, _ in api.requests("GET", EMAIL)[1:]]
    assert lookups_after
    assert min(lookups_after) >= started + 1.5 - 0.05


async def test_every_resend_is_preceded_by_a_committed_creating_with_its_send_time(
    api: ScriptedApi, cko: AsyncClient, journal: Path
) -> None:
    # Rule 4: the first create fails without acting; once settled, the second is sent, answers
    # 500 and acts 0.8 s later. The run dies then. The journal must hold the second send
    # time: with the first one, the next run would trust "not found" at once.
    script = {1: Act.ERROR_500, 2: Act.LATE_500}
    api.script_create = lambda email, attempt: script.get(attempt, Act.OK)  # type: ignore[assignment]
    run = asyncio.create_task(
        migrate(cko, [{"email": EMAIL}], journal=journal, settle_seconds=1.2, **UNPACED)
    )
    await api.wait_for_requests("POST", EMAIL, 2)
    await asyncio.sleep(0.05)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    report = await migrate(cko, [{"email": EMAIL}], journal=journal, settle_seconds=1.2, **UNPACED)
    assert api.created[EMAIL] == 1
    assert (report.created, report.creates_sent) == (1, 0)


async def test_a_parked_row_costs_no_worker(
    api: ScriptedApi, cko: AsyncClient, journal: Path
) -> None:
    # One worker: while the first row waits out its 2 s settle window, the others finish.
    api.script_create = lambda email, attempt: (  # type: ignore[assignment]
        Act.ERROR_500 if email == "slow@example.com" and attempt == 1 else Act.OK
    )
    rows = [{"email": "slow@example.com"}, *({"email": f"r{n}@example.com"} for n in range(20))]
    results: list[RowResult] = []
    started = time.monotonic()
    report = await migrate(
        cko,
        rows,
        journal=journal,
        concurrency=1,
        settle_seconds=2.0,
        progress=results.append,
        **UNPACED,
    )
    assert (report.created, report.failed) == (21, 0)
    assert [result.email for result in results][-1] == "slow@example.com"
    assert time.monotonic() - started < 2.0 + 1.5
    assert sum(api.created.values()) == 21


async def test_a_row_that_never_settles_fails_after_max_attempts_and_is_not_created(
    api: ScriptedApi, cko: AsyncClient, journal: Path
) -> None:
    # A fault rate that does not stop (here: this row's creates, always) is the row's: it ends
    # `failed` once its attempts are spent, while other rows keep the breaker closed.
    api.script_create = lambda email, attempt: (  # type: ignore[assignment]
        Act.ERROR_500 if email == EMAIL else Act.OK
    )
    rows = [{"email": EMAIL}, *({"email": f"ok{n}@example.com"} for n in range(30))]
    results: list[RowResult] = []
    report = await migrate(
        cko,
        rows,
        journal=journal,
        settle_seconds=0.05,
        max_attempts=3,
        progress=results.append,
        **UNPACED,
    )
    failed = [result for result in results if result.status is RowStatus.FAILED]
    assert [result.email for result in failed] == [EMAIL]
    assert "gave up after 3 attempts" in (failed[0].error or "")
    assert len(api.requests("POST", EMAIL)) == 3
    assert report.created == 30


async def test_a_429_is_sent_again_without_waiting_for_the_settle_window(
    api: ScriptedApi, cko: AsyncClient, journal: Path
) -> None:
    # Rule 5: the API did not act on a 429, so the create goes again at once.
    api.script_create = lambda email, attempt: Act.RATE_LIMITED if attempt <= 2 else Act.OK  # type: ignore[assignment]
    started = time.monotonic()
    report = await migrate(cko, [{"email": EMAIL}], journal=journal, settle_seconds=30, **UNPACED)
    assert (report.created, report.creates_sent, report.rate_limited) == (1, 3, 2)
    assert time.monotonic() - started < 10


async def test_a_conflict_is_looked_up_and_a_found_customer_is_existing(
    api: ScriptedApi, cko: AsyncClient, journal: Path
) -> None:
    # Rule 5: an API that refuses a second customer for the email answers 409; the customer
    # it has (which the first look-up missed) is reported, not failed.
    api.script_create = lambda email, attempt: Act.CONFLICT  # type: ignore[assignment]
    api.script_lookup = lambda email, attempt: Act.MISS if attempt == 1 else Act.OK  # type: ignore[assignment]
    known = api._store(EMAIL)
    results: list[RowResult] = []
    report = await migrate(
        cko, [{"email": EMAIL}], journal=journal, progress=results.append, **UNPACED
    )
    assert (report.existing, report.failed) == (1, 0)
    assert results[0].customer_id == known
    assert api.created[EMAIL] == 1


async def test_a_credential_refused_on_create_stops_the_run(
    api: ScriptedApi, cko: AsyncClient, journal: Path
) -> None:
    api.script_create = lambda email, attempt: Act.UNAUTHORIZED  # type: ignore[assignment]
    rows = [{"email": f"p{n}@example.com"} for n in range(50)]
    with pytest.raises(AuthenticationError):
        await migrate(cko, rows, journal=journal, concurrency=2, **UNPACED)
    assert len(api.requests("POST")) <= 4


def test_every_error_class_has_one_verdict() -> None:
    verdicts = [verdict for _, verdict in CREATE_VERDICTS]
    assert set(verdicts) == set(CreateVerdict)
    assert verdicts[-1] is CreateVerdict.REFUSED  # the catch-all comes last
