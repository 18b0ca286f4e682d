"""Write a CSV file of realistic, valid (made-up) customers to migrate, and optionally JSONL.

    python examples/make_customers_csv.py                   # the shipped example files
    python examples/make_customers_csv.py --rows 10000 --out big.csv
    python examples/make_customers_csv.py --help

With no options it rewrites `examples/customers.csv` (300 customers) and
`examples/customers.jsonl` (the first 50 as create requests, with typed metadata). The output is
deterministic (seeded): the same options always write the same bytes. Payment instruments are
the emulator's built-in test instruments, so every row migrates into `--emulator` as is.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from checkout_customers.emulator import (
    TEST_BANK_ACCOUNT_FR_ID,
    TEST_BANK_ACCOUNT_GB_ID,
    TEST_CARD_AMEX_ID,
    TEST_CARD_DISCOVER_ID,
    TEST_CARD_MASTERCARD_ID,
    TEST_CARD_VISA_ID,
)

ROWS = 300
OUTPUT = Path(__file__).with_name("customers.csv")
JSONL_OUTPUT = Path(__file__).with_name("customers.jsonl")
JSONL_ROWS = 50
# Distinct emails the name, number and domain lists can make, with a margin.
MAX_ROWS = 500_000

FIRST_NAMES = (
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Ava",
    "Leo",
    "Mia",
    "Arthur",
    "Sofia",
    "Oscar",
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Emma",
    "Lucas",
    "Hannah",
    "Elias",
    "Giulia",
    "Matteo",
    "Sara",
    "Mateo",
    "Lucía",
    "Daniel",
    "Aoife",
    "Seán",
    "Maja",
    "Jakub",
    "Ingrid",
    "Lars",
    "Priya",
    "Arjun",
    "Aisha",
    "Omar",
    "Mei",
    "Hiroshi",
    "Zoë",
    "Noé",
    "Björn",
    "Siobhán",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Taylor",
    "Martin",
    "Bernard",
    "Dubois",
    "Müller",
    "Schmidt",
    "Rossi",
    "Russo",
    "García",
    "Fernández",
    "O'Brien",
    "Murphy",
    "Nowak",
    "Kowalski",
    "Hansen",
    "Johansson",
    "Patel",
    "Sharma",
    "Khan",
    "Nguyen",
    "Tanaka",
    "Sato",
    "Kim",
    "Silva",
    "Santos",
    "van den Berg",
    "De Luca",
)
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.co.uk", "post.example.fr")
PHONES = (
    ("+44", "7700 900{:03d}"),
    ("+1", "415 555 {:04d}"),
    ("+33", "6 12 34 {:04d}"),
    ("+49", "151 2345 {:04d}"),
    ("+353", "85 123 {:04d}"),
    ("+81", "90 1234 {:04d}"),
)
TIERS = ("bronze", "silver", "gold", "platinum")
SOURCES = ("web", "ios", "android", "store", "partner")
CARDS = (TEST_CARD_VISA_ID, TEST_CARD_MASTERCARD_ID, TEST_CARD_AMEX_ID, TEST_CARD_DISCOVER_ID)
BANKS = (TEST_BANK_ACCOUNT_GB_ID, TEST_BANK_ACCOUNT_FR_ID)
COLUMNS = (
    "email",
    "name",
    "phone_country_code",
    "phone_number",
    "default",
    "instruments",
    "metadata.crm_id",
    "metadata.loyalty_tier",
    "metadata.signup_source",
    "metadata.customer_since",
    "metadata.marketing_opt_in",
)


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _date(rng: random.Random) -> str:
    return f"20{rng.randrange(15, 25)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"


def _open_private(path: Path) -> IO[str]:
    """Open `path` for writing, created 0600: the rows look like personal data."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return open(descriptor, "w", encoding="utf-8", newline="")


def write_csv(path: Path, rows: int) -> None:
    """Write `rows` customers with unique emails to `path`."""
    rng = random.Random(20240601)  # noqa: S311 - sample data, not secrets
    seen: set[str] = set()
    with _open_private(path) as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        number = 0
        while number < rows:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local = _ascii(f"{first}.{last}".lower().replace(" ", "").replace("'", ""))
            email = f"{local}{rng.randrange(1, 99)}@{rng.choice(DOMAINS)}"
            if email in seen:
                continue
            seen.add(email)
            number += 1
            country_code, pattern = rng.choice(PHONES)
            has_phone = rng.random() < 0.85
            linked: list[str] = []
            if rng.random() < 0.6:
                linked = rng.sample(CARDS, rng.choice((1, 1, 2)))
                if rng.random() < 0.2:
                    linked.append(rng.choice(BANKS))
            writer.writerow(
                (
                    email,
                    f"{first} {last}",
                    country_code if has_phone else "",
                    pattern.format(rng.randrange(1000)) if has_phone else "",
                    linked[0] if linked else "",
                    " ".join(linked),
                    f"CRM-{100000 + number}",
                    rng.choice(TIERS),
                    rng.choice(SOURCES),
                    _date(rng),
                    rng.choice(("true", "false")),
                )
            )
    print(f"wrote {rows} customers to {path}")


def write_jsonl(source: Path, path: Path, rows: int = JSONL_ROWS) -> None:
    """The first customers of the CSV file `source` as JSON create requests (typed metadata)."""
    with source.open(encoding="utf-8", newline="") as stream:
        customers = list(csv.DictReader(stream))[:rows]
    with _open_private(path) as stream:
        for row in customers:
            request: dict[str, object] = {"email": row["email"], "name": row["name"]}
            if row["phone_number"]:
                request["phone"] = {
                    "country_code": row["phone_country_code"],
                    "number": row["phone_number"],
                }
            if row["default"]:
                request["default"] = row["default"]
                request["instruments"] = row["instruments"].split()
            request["metadata"] = {
                "crm_id": int(row["metadata.crm_id"].removeprefix("CRM-")),
                "loyalty_tier": row["metadata.loyalty_tier"],
                "marketing_opt_in": row["metadata.marketing_opt_in"] == "true",
            }
            stream.write(json.dumps(request, ensure_ascii=False) + "\n")
    print(f"wrote {len(customers)} customers to {path}")


def _row_count(text: str) -> int:
    try:
        rows = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= rows <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_ROWS}, got {rows}")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and write the files; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="make_customers_csv.py",
        description="Write made-up customers (unique emails, valid phones, metadata and the "
        "emulator's test instruments) as a CSV file for `checkout-customers migrate`. "
        "With no options: examples/customers.csv and examples/customers.jsonl.",
    )
    parser.add_argument(
        "--rows", type=_row_count, default=ROWS, metavar="N", help=f"customers (default {ROWS})"
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="CSV file to write (default examples/customers.csv)",
    )
    parser.add_argument(
        "--jsonl",
        type=Path,
        metavar="PATH",
        help=f"also write the first {JSONL_ROWS} customers as JSON Lines to PATH "
        "(default without --out: examples/customers.jsonl)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out or OUTPUT
    jsonl: Path | None = args.jsonl or (None if args.out else JSONL_OUTPUT)
    try:
        write_csv(out, args.rows)
        if jsonl is not None:
            write_jsonl(out, jsonl)
    except OSError as exc:
        print(f"make_customers_csv.py: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
