"""Input rows: one customer of the input, validated into a create request or an invalid row.

A `Row` is one customer of the input with its 1-based line number in the file. Valid rows carry
the create request (validated by the same code as `customers.create`); invalid ones carry the
reason and are never sent. The files are read by `_csv_input` and `_jsonl_input`, one row at a
time whatever the file size:

    source = read_csv("customers.csv")     # checks the header now; raises MigrationInputError
    for row in source: ...                 # reads the file lazily, every time it is iterated
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from .. import _limits
from .._customer_fields import CUSTOMER_FIELDS, CustomerFields
from .._customers import PreparedCreate, prepare_create
from .._errors import CheckoutArgumentError
from .._request_bodies import create_body
from .._transport import json_text
from ._email_key import email_key, normalise_email

__all__ = [
    "CREATE_FIELDS",
    "MigrationInputError",
    "Row",
    "add_source_id",
    "check_id_metadata_key",
    "invalid_row",
    "row_from_mapping",
    "rows_of",
    "unreadable_row",
]

#: The fields of a create request, as the API and the JSONL input spell them.
CREATE_FIELDS = CUSTOMER_FIELDS.names


class MigrationInputError(CheckoutArgumentError):
    """The input file cannot be migrated at all: missing, unreadable, or not the right format."""


def _canonical_json(body: Mapping[str, Any]) -> str:
    """The migration's own spelling of a create request, for its fingerprint.

    Fixed for good, whatever the transport sends (journals compare fingerprints across
    versions): keys sorted, no spaces, non-ASCII as `\\u` escapes. These are the settings the
    request text had when fingerprints were first taken, so earlier journals' digests still match.
    """
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@attrs.frozen
class Row:
    """One input row: its line number, email key, and the create request or why it is invalid.

    `email` is the key of the row's email (see `_email_key`: surrounding spaces removed, NFC,
    lower case, the domain in ASCII), or None when the row has no usable email. `body` is the
    create request to send, None when the row is invalid; `error` then says why. `spelling` is
    the input's own spelling of the email when it differs from the key: a customer already
    stored under it must be found too. `payload` is the body as sent (JSON text) and `prepared`
    the checked request, both set by the readers; a `Row` built by hand without `prepared` is
    validated again before anything is sent.
    `source_id` is the input's own identifier of the row (`id_column`), carried into the report.
    """

    line: int
    email: str | None
    body: Mapping[str, Any] | None = None
    error: str | None = None
    spelling: str | None = None
    payload: str | None = attrs.field(default=None, repr=False, eq=False)
    source_id: str | None = None
    #: The create request as checked and encoded by the reader (None for a row built by hand,
    #: which is checked again before it is sent).
    prepared: PreparedCreate | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def valid(self) -> bool:
        return self.body is not None

    @property
    def fingerprint(self) -> str:
        """A digest of the create request, to notice a row that changed between runs."""
        text = _canonical_json(self.body or {})
        return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


def invalid_row(line: int, email: object, reason: str) -> Row:
    """An invalid row, reported under the best key its email gives (None if it gives none)."""
    key = normalise_email(email)
    if key is not None and not _encodes_as_utf8(key):
        key = None  # a lone surrogate is no usable email (and cannot be written as UTF-8)
    return Row(line=line, email=key or None, error=reason)


def unreadable_row(line: int, exc: BaseException) -> Row:
    """The invalid row for a row whose reading raised `exc`: the input goes on after it."""
    detail = str(exc)[:200] or "no detail"
    error = f"the row cannot be read ({type(exc).__name__}: {detail})"
    return Row(line=line, email=None, error=error)


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lookup_spelling(email: str, key: str) -> str | None:
    """The input's spelling of the email, to look up as well, when it differs from the key."""
    spelling = email.strip()
    if spelling == key:
        return None
    # Looked up as it is: it must be an identifier `customers.get` accepts.
    if len(spelling) > _limits.EMAIL_MAX_LENGTH or not _limits.EMAIL_PATTERN.fullmatch(spelling):
        return None
    return spelling


def row_from_mapping(
    line: int, fields: Mapping[str, Any], declared: CustomerFields = CUSTOMER_FIELDS
) -> Row:
    """Validate one create request (as JSONL carries it) into a `Row`."""
    unknown = [str(key) for key in fields if key not in declared.names]
    email = fields.get("email")
    if unknown:
        return invalid_row(line, email, f"unknown field {unknown[0]!r}")
    if email is None or (isinstance(email, str) and not email.strip()):
        return invalid_row(line, None, "email: is required")
    if not isinstance(email, str):
        return invalid_row(line, None, f"email: must be a string, not {type(email).__name__}")
    try:
        key = email_key(email)
        arguments = {name: fields.get(name) for name in declared.names}
        arguments["email"] = key
        prepared: PreparedCreate | None = None
        if declared is CUSTOMER_FIELDS:
            # Checked and encoded once, here: the create sends this very text.
            prepared = prepare_create(arguments)
            body, payload = prepared.body, prepared.json
        else:  # another declaration (its tests): checked again by `create` before sending
            body = create_body(arguments, declared)
            payload = json_text(body)
    except CheckoutArgumentError as exc:
        return invalid_row(line, email, str(exc))
    return Row(
        line=line,
        email=key,
        body=body,
        spelling=_lookup_spelling(email, key),
        payload=payload,
        prepared=prepared,
    )


def check_id_metadata_key(key: str | None, id_column: str | None) -> None:
    """Raise `MigrationInputError` unless `key` can hold the source id in every row's metadata."""
    if key is None:
        return
    if id_column is None:
        raise MigrationInputError(
            "id_metadata_key: needs the id column (--id-column) whose value it stores",
            field="id_metadata_key",
        )
    if not key.strip() or len(key) > _limits.METADATA_KEY_MAX_LENGTH:
        raise MigrationInputError(
            f"id_metadata_key: must be 1 to {_limits.METADATA_KEY_MAX_LENGTH} characters, "
            f"not {key!r}",
            field="id_metadata_key",
        )


def add_source_id(fields: dict[str, Any], source_id: str, key: str | None) -> str | None:
    """Put `source_id` into the row's metadata under `key` (if any); why the row is invalid.

    The id counts toward the API's limit of metadata pairs, and must not overwrite another
    value the row gives the same key.
    """
    if key is None:
        return None
    metadata = fields.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        return None  # the row's own metadata is invalid: validation says how
    if key in metadata and metadata[key] != source_id:
        return (
            f"metadata: the row gives {key!r} the value {metadata[key]!r}, but the id metadata "
            f"key puts the source id {source_id!r} there"
        )
    merged = {**metadata, key: source_id}
    if len(merged) > _limits.METADATA_MAX_PAIRS:
        return (
            f"metadata: with the source id under {key!r} the row has {len(merged)} pairs, more "
            f"than the {_limits.METADATA_MAX_PAIRS} the API allows"
        )
    fields["metadata"] = merged
    return None


def rows_of(items: Iterable[Row | Mapping[str, Any]]) -> Iterator[Row]:
    """`Row`s from rows or plain create-request mappings (numbered from 1)."""
    for number, item in enumerate(items, start=1):
        # Only a reader's own check is trusted: a row built elsewhere is checked again.
        if isinstance(item, Row) and (item.body is None or item.prepared is not None):
            yield item
            continue
        try:
            if isinstance(item, Row):
                # Built by hand: checked like any other input before it can be sent.
                checked = row_from_mapping(item.line, item.body or {})
                row = attrs.evolve(
                    checked,
                    spelling=item.spelling if checked.valid else None,
                    source_id=item.source_id,
                )
            else:
                row = row_from_mapping(number, item)
        except Exception as exc:
            row = unreadable_row(number if not isinstance(item, Row) else item.line, exc)
        yield row
