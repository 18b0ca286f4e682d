"""Write `examples/customers.csv` (300 realistic, valid customers) and `customers.jsonl`.

    python examples/make_customers_csv.py

The JSON Lines file holds the first 50 customers as create requests, with typed metadata.
Phones, metadata and payment instruments are deterministic (seeded); the instruments are the
emulator's built-in test instruments, so every row migrates into `--emulator` as is.
"""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from pathlib import Path

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


def main() -> None:
    rng = random.Random(20240601)  # noqa: S311 - sample data, not secrets
    seen: set[str] = set()
    with OUTPUT.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        number = 0
        while number < ROWS:
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
    print(f"wrote {ROWS} customers to {OUTPUT}")
    write_jsonl()


def write_jsonl() -> None:
    """The first customers of the CSV file as JSON create requests (metadata keeps types)."""
    with OUTPUT.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))[:JSONL_ROWS]
    with JSONL_OUTPUT.open("w", encoding="utf-8") as stream:
        for row in rows:
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
    print(f"wrote {len(rows)} customers to {JSONL_OUTPUT}")


if __name__ == "__main__":
    main()
