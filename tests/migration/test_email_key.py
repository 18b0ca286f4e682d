"""One email, one key: NFC and NFD, Unicode and punycode domains, case and spaces fold together;
invisible and control characters make a row invalid."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout_customers import AsyncClient, CheckoutArgumentError
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import migrate, read_csv, read_jsonl
from checkout_customers.migration._email_key import email_key

from .conftest import FAST, read_report, write_csv

NFC = unicodedata.normalize("NFC", "José.Müller@Café.example")
NFD = unicodedata.normalize("NFD", NFC)


def _rows(tmp_path: Path, emails: list[str]) -> list[tuple[str | None, str | None]]:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"email": email}) + "\n" for email in emails), "utf-8")
    return [(row.email, row.error) for row in read_jsonl(path)]


def test_nfc_and_nfd_spellings_have_one_key_which_is_also_what_is_sent(tmp_path: Path) -> None:
    assert NFC != NFD
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"email": NFC}) + "\n" + json.dumps({"email": NFD}) + "\n")
    composed, decomposed = read_jsonl(path)
    key = "josé.müller@xn--caf-dma.example"
    assert composed.email == decomposed.email == key
    assert composed.body == decomposed.body == {"email": key}
    assert composed.fingerprint == decomposed.fingerprint
    # The input's own spelling is looked up too, should the API store it as it was given.
    assert (composed.spelling, decomposed.spelling) == (NFC, NFD)


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (["user@bücher.de", "USER@BÜCHER.DE", "user@xn--bcher-kva.de"], "user@xn--bcher-kva.de"),
        (["ひろ@例え.テスト", "ひろ@xn--r8jz45g.xn--zckzah"], "ひろ@xn--r8jz45g.xn--zckzah"),
        # UTS #46 maps the ideographic full stop to a dot.
        (["a@bücher。de", "a@xn--bcher-kva.de"], "a@xn--bcher-kva.de"),
    ],
)
def test_a_domain_in_unicode_or_punycode_has_one_key(
    tmp_path: Path, spellings: list[str], key: str
) -> None:
    assert _rows(tmp_path, spellings) == [(key, None)] * len(spellings)


def test_sharp_s_stays_distinct_from_ss(tmp_path: Path) -> None:
    # IDNA 2008, non-transitional: `faß.de` and `fass.de` are two domains.
    assert _rows(tmp_path, ["a@faß.de", "a@fass.de", "Straße@x.de"]) == [
        ("a@xn--fa-hia.de", None),
        ("a@fass.de", None),
        ("straße@x.de", None),
    ]


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("a\u200b@example.com", "an invisible formatting character (U+200B ZERO WIDTH SPACE)"),
        (
            "a@exam\ufeffple.com",
            "an invisible formatting character (U+FEFF ZERO WIDTH NO-BREAK SPACE)",
        ),
        (
            "\u202eab@example.com",
            "an invisible formatting character (U+202E RIGHT-TO-LEFT OVERRIDE)",
        ),
        ("a\u00ad@example.com", "an invisible formatting character (U+00AD SOFT HYPHEN)"),
        ("a\x07b@example.com", "a control character (U+0007)"),
        ("a\x85b@example.com", "a control character (U+0085)"),
        ("a\ue000@example.com", "a private-use character (U+E000)"),
        ("a\U000e0001@example.com", "an invisible formatting character (U+E0001 LANGUAGE TAG)"),
        ("a\U0010fffe@example.com", "an unassigned code point (U+10FFFE)"),
    ],
)
def test_invisible_and_control_characters_make_the_email_invalid(
    tmp_path: Path, email: str, reason: str
) -> None:
    [(key, error)] = _rows(tmp_path, [email])
    assert error is not None
    assert error.startswith(f"email: holds {reason} at character ")
    assert key == email.strip().lower()  # reported as the input spelt it


def test_a_domain_that_is_not_a_valid_idn_is_invalid(tmp_path: Path) -> None:
    [(_, error)] = _rows(tmp_path, ["a@☃-⌘.com"])
    assert error is not None
    assert error.startswith("email: the domain '☃-⌘.com' is not a valid internationalised domain")


def test_ascii_emails_keep_their_key_and_fingerprint(tmp_path: Path) -> None:
    # The same digests as earlier versions: a journal they wrote sees these rows unchanged.
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"email": " Bruce@Wayne.COM ", "name": "Bruce Wayne", "metadata": {"n": 1}})
        + "\n"
        + json.dumps({"email": "a@example.com", "name": "Zoë"})
        + "\n"
    )
    bruce, zoe = read_jsonl(path)
    assert bruce.email == "bruce@wayne.com"
    assert bruce.fingerprint == "0b687174f293cd8136cd868988175a69"
    assert zoe.fingerprint == "8e796395c6bfe9f9913a229cdf6c442e"


async def test_nfc_and_nfd_rows_make_one_customer_and_one_duplicate(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [
            [NFC, "Composed"],
            [NFD, "Decomposed"],
            ["user@bücher.de", "Unicode domain"],
            ["USER@xn--bcher-kva.de", "Punycode domain"],
            ["user\u200b@bücher.de", "Zero-width space"],
        ],
    )
    report_path = tmp_path / "report.jsonl"
    report = await migrate(
        client, read_csv(source), journal=tmp_path / "j.sqlite3", report=report_path, **FAST
    )

    assert (report.created, report.duplicate, report.invalid) == (2, 2, 1)
    stored = sorted((customer["email"], customer.get("name")) for customer in emulator.customers())
    assert stored == [
        ("josé.müller@xn--caf-dma.example", "Composed"),
        ("user@xn--bcher-kva.de", "Unicode domain"),
    ]
    entries = read_report(report_path)
    assert [(entry["line"], entry["status"], entry["error"]) for entry in entries] == [
        (2, "created", None),
        (3, "duplicate", "same email as line 2"),
        (4, "created", None),
        (5, "duplicate", "same email as line 4"),
        (
            6,
            "invalid",
            "email: holds an invisible formatting character (U+200B ZERO WIDTH SPACE) at "
            "character 5",
        ),
    ]


async def test_a_customer_stored_under_the_input_spelling_is_found_not_created_again(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    # Created earlier, outside the migration, with the NFD spelling of the input.
    await client.customers.create(email=NFD, name="Already there")
    source = write_csv(tmp_path / "in.csv", [[NFD, "From the file"]])
    report_path = tmp_path / "report.jsonl"
    report = await migrate(
        client, read_csv(source), journal=tmp_path / "j.sqlite3", report=report_path, **FAST
    )
    assert (report.created, report.existing) == (0, 1)
    assert len(emulator.customers()) == 1


_EMAIL_ALPHABET = st.sampled_from(
    [
        "a",
        "B",
        "é",
        "e\u0301",
        "ß",
        "İ",
        "ü",
        "例",
        "@",
        ".",
        "-",
        "_",
        " ",
        "\u200b",
        "\x00",
        "。",
        "xn--",
        "\ufeff",
        "\U0001f600",
        "\u0345",
        "ǅ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_EMAIL_ALPHABET, max_size=12).map("".join) | st.text(max_size=40))
def test_a_key_is_its_own_key_and_bad_text_is_an_argument_error(text: str) -> None:
    refused: CheckoutArgumentError | None = None
    try:
        key = email_key(text)
    except CheckoutArgumentError as exc:
        refused = exc
    if refused is not None:
        assert str(refused).startswith("email: ")
        return
    assert email_key(key) == key
    assert unicodedata.is_normalized("NFC", key)
