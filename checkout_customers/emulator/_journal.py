"""The request journal: what the emulator received and answered, for tests to read back.

A bounded `collections.deque` of small slotted entries, filled by the application's
middleware: one append per request and one assignment when it is answered, so keeping it
costs next to nothing. The oldest entries fall off past `journal_size`; `seq` numbers keep
counting, so `since=N` paging never returns an entry twice.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import attrs
from yarl import URL

__all__ = ["JournalEntry", "RecordedRequest", "RequestJournal"]

#: Headers never kept: they carry credentials.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
#: Form fields of `POST /connect/token` whose value is replaced before it is kept.
_SECRET_FORM_FIELDS = frozenset({"client_secret"})
#: JSON fields of `POST /tokens` whose value is replaced before it is kept: the card number
#: and its security code. A body that is not a JSON object is replaced whole.
_SECRET_CARD_FIELDS = frozenset({"number", "cvv"})
_REDACTED = "[redacted]"


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the emulator received, as `GET /_emulator/requests` lists it.

    `path` and `query` are exactly as sent (still percent-encoded), so a test can check how
    its client encoded an email. `headers` never hold `Authorization`. `status` is what the
    emulator answered; None while it is being handled, or when a fault (`fault`) reset or
    dropped the connection instead.
    """

    seq: int
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: str | None
    status: int | None
    request_id: str
    time: float
    fault: str | None

    def json(self) -> Any:
        """The body decoded from JSON; raises `ValueError` when it is not JSON."""
        if self.body is None:
            raise ValueError(f"request {self.seq} ({self.method} {self.path}) has no body")
        return json.loads(self.body)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordedRequest:
        """An entry as `GET /_emulator/requests` lists it, back as an object."""
        return cls(**{field.name: data[field.name] for field in attrs.fields(cls)})


class JournalEntry:
    """A request being recorded; the middleware fills in `body`, `status` and `fault`.

    It holds references only (aiohttp's immutable URL and header objects, the body's bytes):
    turning them into text is left to `recorded()`, which runs only when a test reads the
    journal, so the request path pays for little more than one object.
    """

    __slots__ = (
        "body",
        "card_secrets",
        "fault",
        "form_secrets",
        "headers",
        "method",
        "request_id",
        "seq",
        "status",
        "time",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        request_id: str,
        *,
        form_secrets: bool = False,
        card_secrets: bool = False,
    ) -> None:
        self.seq = 0
        self.method = method
        self.url = url
        self.headers = headers
        self.request_id = request_id
        self.form_secrets = form_secrets
        self.card_secrets = card_secrets
        self.time = time.time()
        self.body: bytes | None = None
        self.status: int | None = None
        self.fault: str | None = None

    def recorded(self) -> RecordedRequest:
        return RecordedRequest(
            seq=self.seq,
            method=self.method,
            path=self.url.raw_path,
            query=self.url.raw_query_string,
            headers=_kept_headers(self.headers),
            body=None
            if self.body is None
            else _text(self.body, form_secrets=self.form_secrets, card_secrets=self.card_secrets),
            status=self.status,
            request_id=self.request_id,
            time=self.time,
            fault=self.fault,
        )


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            continue
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def _text(body: bytes, *, form_secrets: bool, card_secrets: bool = False) -> str:
    text = body.decode("utf-8", errors="replace")
    if card_secrets:
        return _without_card_secrets(text)
    if not form_secrets:
        return text
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
    return urllib.parse.urlencode(
        [(name, _REDACTED if name in _SECRET_FORM_FIELDS else value) for name, value in pairs]
    )


def _without_card_secrets(text: str) -> str:
    try:
        card = json.loads(text)
    except (ValueError, RecursionError):
        return _REDACTED
    if not isinstance(card, dict):
        return _REDACTED
    kept = {
        name: _REDACTED if name in _SECRET_CARD_FIELDS else value for name, value in card.items()
    }
    return json.dumps(kept, ensure_ascii=False)


class RequestJournal:
    """The last `size` requests, oldest first; safe to read from any thread."""

    def __init__(self, size: int) -> None:
        self.enabled = size > 0
        self._entries: collections.deque[JournalEntry] = collections.deque(maxlen=max(size, 1))
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def record(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        request_id: str,
        *,
        form_secrets: bool = False,
        card_secrets: bool = False,
    ) -> JournalEntry:
        """Add a request as it arrives; its body and answer are filled in on the entry.

        No lock: `next()` on a count and `append` on a deque are each one C call, atomic under
        the GIL, and appends happen on the serving loop's thread only.
        """
        entry = JournalEntry(
            method,
            url,
            headers,
            request_id,
            form_secrets=form_secrets,
            card_secrets=card_secrets,
        )
        entry.seq = next(self._seq)
        self._entries.append(entry)
        return entry

    def entries(self, since: int = 0) -> list[RecordedRequest]:
        """The kept requests with `seq` above `since`, oldest first."""
        with self._lock:
            entries = [entry for entry in list(self._entries) if entry.seq > since]
        return [entry.recorded() for entry in entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
