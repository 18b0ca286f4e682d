"""Migrate a Stripe customers export (CSV) to Checkout.com: map each row, then `migrate`.

    export CKO_SECRET_KEY=sk_sbox_... CKO_PREFIX=abcd1234   # or CKO_BASE_URL of an emulator
    python examples/migrate_stripe_export.py examples/stripe_customers_export.csv

Stripe's export has the columns `id`, `Email`, `Name`, `Phone`, one `KEY (metadata)` column per
metadata key, and others that have no place on a Checkout.com customer (`Created (UTC)`, ...).
Each row becomes a create request: the email, the name, the phone split into country code and
number, the metadata, and the Stripe id kept as metadata `stripe_id` so that every customer can
be traced back. The migration itself is `checkout_customers.migration.migrate`: exactly once per
email, resumable (run the same command again), rows reported with their line in the export.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from checkout_customers import AsyncClient, CheckoutArgumentError, Phone
from checkout_customers.migration import Row, migrate

# ITU country calling codes are prefix-free: 1 and 7 are the one-digit codes, these are the
# two-digit ones, and every other code has three digits.
_TWO_DIGIT_CODES = frozenset(
    {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54}
    | {55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98}
)
_METADATA_COLUMN = re.compile(r"(?P<key>.+) \(metadata\)")


def split_phone(text: str) -> Phone | None:
    """`+44 7700 900123` or `+447700900123` as a `Phone`; None without a `+country` code."""
    compact = re.sub(r"[\s().-]", "", text)
    if not re.fullmatch(r"\+\d{7,}", compact):
        return None
    digits = compact[1:]
    size = 1 if digits[0] in "17" else 2 if int(digits[:2]) in _TWO_DIGIT_CODES else 3
    code, text = digits[:size], text.strip()
    # Keep the export's own spacing of the number when the code is written plainly first.
    number = text[1 + size :].strip() if text[1 : 1 + size] == code else digits[size:]
    return Phone(country_code=f"+{code}", number=number)


def create_request(record: dict[str, str]) -> dict[str, object]:
    """One export row as a Checkout.com create request."""
    metadata: dict[str, object] = {"stripe_id": record["id"]}
    for column, value in record.items():
        match = _METADATA_COLUMN.fullmatch(column)
        if match and value:
            metadata[match["key"]] = value
    request: dict[str, object] = {"email": record["Email"]}
    if record.get("Name"):
        request["name"] = record["Name"]
    raw_phone = (record.get("Phone") or "").strip()
    phone = split_phone(raw_phone) if raw_phone else None
    if phone is not None:
        request["phone"] = phone
    elif raw_phone:  # no country code to split it by: kept, not lost
        metadata["stripe_phone"] = raw_phone
    request["metadata"] = metadata
    return request


def read_stripe_export(path: Path) -> Iterator[Row]:
    """The export's rows as migration rows, numbered by their line in the file (header: 1)."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        missing = {"id", "Email"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: not a Stripe customers export (no {sorted(missing)})")
        for record in reader:
            # A quoted cell may span lines: the reader's line count is where this row ended.
            line = reader.line_num
            email = (record.get("Email") or "").strip()
            if not email:
                yield Row(line=line, email=None, error="Email: empty")
                continue
            yield Row(line=line, email=email.lower(), body=create_request(record))


async def main() -> int:
    parser = argparse.ArgumentParser(description="Migrate a Stripe customers CSV export.")
    parser.add_argument("export", type=Path, help="the CSV file exported from Stripe")
    parser.add_argument("--journal", help="default: EXPORT.journal.sqlite3")
    parser.add_argument("--report", help="write one JSON line per row to this file")
    args = parser.parse_args()
    try:
        async with AsyncClient() as cko:  # credentials from the CKO_* variables
            report = await migrate(
                cko,
                read_stripe_export(args.export),
                journal=args.journal or f"{args.export}.journal.sqlite3",
                report=args.report,
            )
    except (CheckoutArgumentError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"created {report.created}, existing {report.existing}, failed {report.failed}, "
        f"invalid {report.invalid}, duplicate {report.duplicate}"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
