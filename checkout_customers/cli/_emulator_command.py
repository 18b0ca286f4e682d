"""`checkout-customers emulator`: serve the emulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sqlite3
import sys
from typing import Any

from ._arguments import (
    EXIT_OK,
    EXIT_USAGE,
    non_negative_number,
    port_number,
    positive_number,
    share,
)

__all__ = ["register"]


def _oauth_client(text: str) -> tuple[str, str]:
    client_id, separator, client_secret = text.partition(":")
    if not separator or not client_id or not client_secret:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:CLIENT_SECRET")
    return client_id, client_secret


class _OneLineProtocolErrors(logging.Filter):
    """aiohttp logs a request it cannot parse (already answered 400) with a traceback; a
    fuzzer sends many, and a traceback reads like a crash. Keep one line saying what it was."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = " ".join(str(error).split())
            record.msg = f"{record.getMessage()}: refused a malformed request ({reason})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def _duplicate_status(text: str) -> int:
    if text not in ("409", "422"):
        raise argparse.ArgumentTypeError(f"expected 409 or 422, got {text!r}")
    return int(text)


def _journal_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {value}")
    return value


def register(subparsers: Any) -> None:
    """Add the `emulator` subcommand to the command line's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator",
        help="serve a local Customers (and Instruments) API emulator",
        description=(
            "Serve a stateful emulator of the Checkout.com Customers API, with the Instruments "
            "API and card tokens. Prints one line "
            "'listening on http://HOST:PORT' once it accepts connections; Ctrl-C stops it. "
            "See docs/emulator.md."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=port_number, default=0, help="port to bind; 0 picks a free one"
    )
    parser.add_argument("--db", metavar="PATH", help="keep the state in this SQLite file")
    parser.add_argument(
        "--secret-key",
        action="append",
        metavar="KEY",
        help="accepted secret key (repeatable; default: the documented local key)",
    )
    parser.add_argument(
        "--public-key",
        action="append",
        metavar="KEY",
        help="accepted public key, for POST /tokens only (repeatable; default: the documented "
        "local key)",
    )
    parser.add_argument(
        "--card-token-ttl",
        type=non_negative_number,
        metavar="S",
        help="lifetime of card tokens, in seconds (default 900, the API's 15 minutes)",
    )
    parser.add_argument(
        "--instrument-customer-required",
        action="store_true",
        help="refuse POST /instruments without a customer to link (422 customer_required)",
    )
    parser.add_argument(
        "--unknown-customer-status",
        type=int,
        choices=(404, 422),
        metavar="STATUS",
        help="status for an instrument's customer.id naming no customer: 422 (default, "
        "customer_not_found) or 404",
    )
    parser.add_argument(
        "--customer-id-email-conflict",
        choices=("reject", "id"),
        metavar="RULE",
        help="an instrument's customer giving the id of one customer and the email of "
        "another: reject (default, 422 customer_email_mismatch) or id (the id wins)",
    )
    parser.add_argument(
        "--oauth-client",
        action="append",
        type=_oauth_client,
        metavar="ID:SECRET",
        help="accepted OAuth client (repeatable; default: the documented local client)",
    )
    parser.add_argument("--token-ttl", type=non_negative_number, metavar="S", help="token lifetime")
    parser.add_argument(
        "--read-rate", type=positive_number, metavar="R", help="GET requests/s per account"
    )
    parser.add_argument(
        "--write-rate",
        type=positive_number,
        metavar="R",
        help="POST/PATCH/DELETE requests/s per account",
    )
    parser.add_argument(
        "--fault-rate",
        type=share,
        default=0.0,
        metavar="F",
        help="share of requests meeting a fault, spread evenly over the five modes",
    )
    parser.add_argument("--fault-500", type=share, metavar="F", help="share answered 500")
    parser.add_argument("--fault-drop", type=share, metavar="F", help="share dropped after acting")
    parser.add_argument(
        "--fault-slow", type=share, metavar="F", help="share answered late after acting"
    )
    parser.add_argument("--fault-reset", type=share, metavar="F", help="share reset before acting")
    parser.add_argument(
        "--fault-late", type=share, metavar="F", help="share acting only after --fault-slow-ms"
    )
    parser.add_argument(
        "--fault-slow-ms",
        type=non_negative_number,
        metavar="MS",
        help="delay of slow and late answers",
    )
    parser.add_argument(
        "--latency-ms", type=non_negative_number, default=0.0, metavar="MS", help="added latency"
    )
    parser.add_argument("--seed", type=int, help="seed of the fault draws")
    parser.add_argument(
        "--retry-after",
        type=non_negative_number,
        metavar="S",
        help="send 'Retry-After: S' (seconds, rounded up) with rate-limit 429s",
    )
    parser.add_argument(
        "--reject-duplicate-emails",
        type=_duplicate_status,
        nargs="?",
        const=409,
        default=None,
        metavar="STATUS",
        help=(
            "refuse a customer whose email another customer has: 409 (no body; the default "
            "when STATUS is left out) or 422 (error code email_already_exists)"
        ),
    )
    parser.add_argument(
        "--journal-size",
        type=_journal_size,
        metavar="N",
        help="requests kept for GET /_emulator/requests (default 1000; 0 keeps none)",
    )
    parser.add_argument(
        "--case-sensitive-emails",
        action="store_true",
        help="find customers by email only in the letter case they were stored with",
    )
    parser.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow binding an address other than loopback (exposes the emulator)",
    )
    parser.set_defaults(run=run)


def _settings_fields(args: argparse.Namespace) -> dict[str, Any]:
    spread = args.fault_rate / 5

    def share(explicit: float | None) -> float:
        return spread if explicit is None else explicit

    fields: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "db_path": args.db,
        "read_rate": args.read_rate,
        "write_rate": args.write_rate,
        "fault_500": share(args.fault_500),
        "fault_drop_after_acting": share(args.fault_drop),
        "fault_slow_after_acting": share(args.fault_slow),
        "fault_reset_before_acting": share(args.fault_reset),
        "fault_slow_before_acting": share(args.fault_late),
        "latency_ms": args.latency_ms,
        "seed": args.seed,
        "retry_after": args.retry_after,
        "reject_duplicate_emails": args.reject_duplicate_emails,
        "case_sensitive_emails": args.case_sensitive_emails,
    }
    if args.secret_key:
        fields["secret_keys"] = tuple(args.secret_key)
    if args.oauth_client:
        fields["oauth_clients"] = dict(args.oauth_client)
    if args.public_key:
        fields["public_keys"] = tuple(args.public_key)
    if args.card_token_ttl is not None:
        fields["card_token_ttl_s"] = args.card_token_ttl
    if args.instrument_customer_required:
        fields["instrument_customer_required"] = True
    if args.unknown_customer_status is not None:
        fields["unknown_customer_status"] = args.unknown_customer_status
    if args.customer_id_email_conflict is not None:
        fields["customer_id_email_conflict"] = args.customer_id_email_conflict
    if args.token_ttl is not None:
        fields["token_ttl_s"] = args.token_ttl
    if args.fault_slow_ms is not None:
        fields["fault_slow_ms"] = args.fault_slow_ms
    if args.journal_size is not None:
        fields["journal_size"] = args.journal_size
    return fields


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; 0 on a clean stop, 2 for bad settings."""
    from ..emulator import EmulatorSettings
    from ..emulator._server import is_loopback

    try:
        settings = EmulatorSettings(**_settings_fields(args))
    except (TypeError, ValueError) as exc:
        print(f"checkout-customers emulator: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not is_loopback(settings.host):
        if not args.allow_non_loopback:
            print(
                f"checkout-customers emulator: error: refusing to bind {settings.host!r}, "
                "which is not loopback; pass --allow-non-loopback to expose the emulator",
                file=sys.stderr,
            )
            return EXIT_USAGE
        print(
            f"warning: the emulator on {settings.host} is reachable from other machines and "
            "accepts documented default credentials",
            file=sys.stderr,
        )
    logging.getLogger("aiohttp.server").addFilter(_OneLineProtocolErrors())
    try:
        asyncio.run(_serve(settings))
    except sqlite3.Error as exc:
        print(f"checkout-customers emulator: error: --db {args.db}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"checkout-customers emulator: error: cannot listen: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


async def _serve(settings: Any) -> None:
    from ..emulator import run_emulator

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C raises instead
            loop.add_signal_handler(signum, stop.set)
    async with run_emulator(settings) as emulator:
        print(f"listening on {emulator.base_url}", flush=True)
        await stop.wait()
