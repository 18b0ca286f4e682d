"""Reading input files: line numbers, normalisation, every kind of invalid row, wrong files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checkout_customers.emulator import TEST_CARD_VISA_ID
from checkout_customers.migration import MigrationInputError, Row, read_csv, read_jsonl

from .conftest import write_csv

FULL_HEADER = (
    "email",
    "name",
    "phone_country_code",
    "phone_number",
    "default",
    "instruments",
    "metadata.tier",
    "metadata.crm_id",
)


def test_csv_row_becomes_the_create_request(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        [
            [
                " Bruce@Wayne.COM ",
                "Bruce Wayne",
                "+1",
                "415 555 2671",
                TEST_CARD_VISA_ID,
                TEST_CARD_VISA_ID,
                "gold",
                "42",
            ]
        ],
        header=FULL_HEADER,
    )
    [row] = list(read_csv(path))
    assert row == Row(
        line=2,
        email="bruce@wayne.com",
        body={
            "email": "bruce@wayne.com",
            "name": "Bruce Wayne",
            "phone": {"country_code": "+1", "number": "415 555 2671"},
            "metadata": {"tier": "gold", "crm_id": "42"},
            "default": TEST_CARD_VISA_ID,
            "instruments": [TEST_CARD_VISA_ID],
        },
        spelling="Bruce@Wayne.COM",  # also looked up, should the API match case exactly
    )


def test_empty_csv_cells_mean_absent_fields(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "in.csv", [["a@example.com", "", "", "", "", "", "", ""]], FULL_HEADER
    )
    [row] = list(read_csv(path))
    assert row.body == {"email": "a@example.com"}


def test_csv_line_numbers_count_quoted_multi_line_cells_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "email,name\n"
        'a@example.com,"Line one\nline two\nline three"\n'
        "\n"
        "b@example.com,B\n"
        '"c@example.com","C ""the"" third"\n',
        encoding="utf-8",
    )
    rows = list(read_csv(path))
    assert [(row.line, row.email) for row in rows] == [
        (2, "a@example.com"),
        (6, "b@example.com"),
        (7, "c@example.com"),
    ]
    assert rows[0].body is not None
    assert rows[0].body["name"] == "Line one\nline two\nline three"
    assert read_csv(path).count_rows() == 3


def test_csv_with_a_bom_and_crlf_line_ends_is_read(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("\ufeffemail,name\r\na@example.com,A\r\n".encode())
    assert [row.email for row in read_csv(path)] == ["a@example.com"]


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["", "No Email", "", ""], "email: is required"),
        (["not-an-email", "X", "", ""], "is not a valid email address"),
        (["a@" + "b" * 250 + ".com", "X", "", ""], "email: must be at most 255"),
        (["a@example.com", "N" * 256, "", ""], "name: must be at most 255"),
        (["a@example.com", "X", "+1", "123"], "phone.number: must be 6 to 25"),
        (["a@example.com", "X", "+12345678", "4155552671"], "phone.country_code"),
        (["a@example.com", "X", "+1", ""], "phone_number is missing"),
        (["a@example.com", "X", "", "4155552671"], "phone_country_code is missing"),
    ],
)
def test_invalid_csv_rows_say_why(tmp_path: Path, cells: list[str], reason: str) -> None:
    header = ("email", "name", "phone_country_code", "phone_number")
    path = write_csv(tmp_path / "in.csv", [cells], header)
    [row] = list(read_csv(path))
    assert row.body is None
    assert row.line == 2
    assert row.error is not None
    assert reason in row.error


def test_more_than_ten_metadata_pairs_is_invalid(tmp_path: Path) -> None:
    header = ("email", *(f"metadata.k{i}" for i in range(11)))
    path = write_csv(tmp_path / "in.csv", [["a@example.com", *("v" * 11)]], header)
    [row] = list(read_csv(path))
    assert row.error is not None
    assert "at most 10 pairs" in row.error


def test_over_long_metadata_value_and_bad_instrument_are_invalid(tmp_path: Path) -> None:
    header = ("email", "metadata.note", "instruments")
    path = write_csv(
        tmp_path / "in.csv",
        [["a@example.com", "x" * 101, ""], ["b@example.com", "ok", "card_123"]],
        header,
    )
    first, second = read_csv(path)
    assert first.error is not None
    assert "metadata.note" in first.error
    assert second.error is not None
    assert "instruments[0]" in second.error


def test_unparseable_csv_rows_are_invalid_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        'email,name\na@example.com,A,extra\nb@example.com,"B"x\nc@example.com,C\n',
        encoding="utf-8",
    )
    rows = list(read_csv(path))
    assert [row.line for row in rows] == [2, 3, 4]
    assert rows[0].error is not None
    assert "3 cells where the header has 2" in rows[0].error
    assert rows[1].error is not None
    assert "unparseable CSV" in rows[1].error
    assert rows[2].valid


def test_a_row_that_is_not_utf8_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    padding = b"".join(b"user%d@example.com,User\n" % number for number in range(500))
    path.write_bytes(b"email,name\n" + padding + b"a@example.com,Caf\xe9\nb@example.com,B\n")
    *_, bad, good = read_csv(path)
    assert (bad.line, bad.error) == (502, "the row is not valid UTF-8")
    assert good.valid


def test_a_file_that_starts_as_latin1_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"email,name\na@example.com,Caf\xe9\n")
    with pytest.raises(MigrationInputError, match="is not UTF-8 text"):
        read_csv(path)


def test_jsonl_rows_keep_metadata_types_and_report_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"email": "A@Example.com", "metadata": {"n": 1, "ok": True}}),
                "{not json",
                "[1, 2]",
                json.dumps({"email": "b@example.com", "nickname": "B"}),
                "",
                json.dumps({"email": 42}),
                json.dumps({"name": "no email"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    rows = list(read_jsonl(path))
    assert [row.line for row in rows] == [1, 2, 3, 4, 6, 7]
    assert rows[0].body == {"email": "a@example.com", "metadata": {"n": 1, "ok": True}}
    assert rows[1].error is not None
    assert rows[1].error.startswith("unparseable JSON")
    assert rows[2].error == "a line must be a JSON object, not list"
    assert rows[3].error == "unknown field 'nickname'"
    assert rows[4].error == "email: must be a string, not int"
    assert rows[5].error == "email: is required"
    assert read_jsonl(path).count_rows() == 6


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"name,phone_number\nBruce,123456\n", "has no `email` column"),
        (b"email,colour\na@example.com,red\n", "unknown CSV column 'colour'"),
        (b"email,email\na@example.com,b@example.com\n", "is repeated"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file"),
    ],
)
def test_a_wrong_csv_file_is_refused_when_opened(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(MigrationInputError, match=message):
        read_csv(path)


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MigrationInputError, match="no such file"):
        read_csv(tmp_path / "missing.csv")
    with pytest.raises(MigrationInputError, match="is a directory"):
        read_jsonl(tmp_path)


def test_a_csv_file_is_not_json_lines(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.jsonl", [["a@example.com", "A"]])
    with pytest.raises(MigrationInputError, match="is not JSON Lines"):
        read_jsonl(path)


UNCLOSED = "unparseable CSV: a quoted cell opened on line 3 is never closed"


def test_an_unclosed_quote_is_one_invalid_row_and_the_rows_after_it_are_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        'email,name\na@example.com,A\nb@example.com,"B\nc@example.com,C\nd@example.com,D\n',
        encoding="utf-8",
    )
    rows = list(read_csv(path))
    assert [(row.line, row.email, row.error) for row in rows] == [
        (2, "a@example.com", None),
        (3, None, UNCLOSED),
        (4, "c@example.com", None),
        (5, "d@example.com", None),
    ]
    assert read_csv(path).count_rows() == 4


def test_an_unclosed_quote_on_the_last_line_without_a_line_end_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('email,name\na@example.com,A\nb@example.com,"B', encoding="utf-8")
    rows = list(read_csv(path))
    assert [(row.line, row.error) for row in rows] == [
        (2, None),
        (3, "unparseable CSV: a quoted cell opened on line 3 is never closed"),
    ]


def test_an_unclosed_quote_before_a_later_quoted_cell_loses_no_row(tmp_path: Path) -> None:
    # The stray quote pairs with the next one, two lines on: the record breaks there.
    path = tmp_path / "in.csv"
    path.write_text(
        "email,name\r\n"
        "a@example.com,A\r\n"
        'b@example.com,"B\r\n'
        "c@example.com,C\r\n"
        'd@example.com,"D"\r\n'
        'e@example.com,"Two\r\nlines"\r\n'
        "f@example.com,F\r\n",
        encoding="utf-8",
    )
    rows = list(read_csv(path))
    assert [(row.line, row.email) for row in rows] == [
        (2, "a@example.com"),
        (3, None),
        (4, "c@example.com"),
        (5, "d@example.com"),
        (6, "e@example.com"),
        (8, "f@example.com"),
    ]
    assert rows[1].error is not None
    assert rows[1].error.startswith(UNCLOSED)
    assert [row.valid for row in rows] == [True, False, True, True, True, True]
    assert rows[4].body is not None
    assert rows[4].body["name"] == "Two\r\nlines"
    assert read_csv(path).count_rows() == 6


@pytest.mark.parametrize(
    ("width", "detail"),
    [(10, ""), (200, " (field larger than field limit (131072))")],  # many lines; a huge cell
)
def test_an_unclosed_quote_in_a_long_file_loses_no_row(
    tmp_path: Path, width: int, detail: str
) -> None:
    path = tmp_path / "in.csv"
    body = "".join(f"user{n}@example.com,{'U' * width}\n" for n in range(3000))
    path.write_text(
        f'email,name\na@example.com,A\nb@example.com,"B\n{body}"quoted@example.com",Q\n',
        encoding="utf-8",
    )
    rows = list(read_csv(path))
    assert len(rows) == 3003
    assert (rows[1].line, rows[1].email, rows[1].error) == (3, None, UNCLOSED + detail)
    assert all(row.valid for index, row in enumerate(rows) if index != 1)
    assert [row.line for row in rows] == list(range(2, 3005))
    assert rows[-1].email == "quoted@example.com"
    assert read_csv(path).count_rows() == 3003


def test_several_unclosed_quotes_are_each_reported(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        'email,name\n"a@example.com,A\nb@example.com,"B\nc@example.com,C\n', encoding="utf-8"
    )
    rows = list(read_csv(path))
    assert [(row.line, row.valid) for row in rows] == [(2, False), (3, False), (4, True)]
    assert rows[0].error is not None
    assert "a quoted cell opened on line 2 is never closed" in rows[0].error
    assert rows[1].error is not None
    assert rows[1].error.startswith(UNCLOSED)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (r'{"email": "\udcff"}', "email:"),
        (r'{"email": "a@example.com", "name": "\ud800"}', "name:"),
        (r'{"email": "a@example.com", "metadata": {"note": "x\udfff"}}', "metadata.note:"),
        (r'{"email": "a@example.com", "metadata": {"\ud800": "x"}}', "metadata: a key"),
    ],
)
def test_a_jsonl_lone_surrogate_is_invalid_not_a_crash(
    tmp_path: Path, line: str, field: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(line + '\n{"email": "b@example.com"}\n', encoding="utf-8")
    bad, good = read_jsonl(path)
    assert bad.line == 1
    assert not bad.valid
    assert bad.error == f"{field} is not valid Unicode (a lone surrogate)"
    assert bad.email in (None, "a@example.com")
    assert good.valid


def test_the_fingerprint_does_not_depend_on_how_the_transport_spells_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"email": "a@example.com", "name": "Zoë", "metadata": {"n": 1}}))
    [before] = read_jsonl(path)

    # Another spelling of the same request: spaces, keys in another order, UTF-8 as it is.
    def spelt_otherwise(body: dict[str, object]) -> str:
        return json.dumps(dict(reversed(list(body.items()))), indent=1, ensure_ascii=False)

    # Wherever the text sent is encoded: the resource's `prepare_create`, or the rows module.
    monkeypatch.setattr("checkout_customers._customers.json_text", spelt_otherwise)
    monkeypatch.setattr("checkout_customers.migration._rows.json_text", spelt_otherwise)
    [after] = read_jsonl(path)
    assert after.payload != before.payload
    assert after.payload is not None
    assert json.loads(after.payload) == before.body
    assert after.fingerprint == before.fingerprint
