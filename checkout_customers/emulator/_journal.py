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
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["JournalEntry", "RecordedRequest", "RequestJournal"]

#: Headers never kept: they carry credentials.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
#: Form fields of `POST /connect/token` whose value is replaced before it is kept.
_SECRET_FORM_FIELDS = frozenset({"client_secret"})
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
    """A request being recorded; the middleware fills in `status` and `fault`."""

    __slots__ = (
        "body",
        "fault",
        "headers",
        "method",
        "path",
        "query",
        "request_id",
        "seq",
        "status",
        "time",
    )

    def __init__(
        self,
        seq: int,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: str | None,
        request_id: str,
    ) -> None:
        self.seq = seq
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.request_id = request_id
        self.time = time.time()
        self.status: int | None = None
        self.fault: str | None = None

    def recorded(self) -> RecordedRequest:
        return RecordedRequest(
            seq=self.seq,
            method=self.method,
            path=self.path,
            query=self.query,
            headers=dict(self.headers),
            body=self.body,
            status=self.status,
            request_id=self.request_id,
            time=self.time,
            fault=self.fault,
        )


def _kept_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in headers:
        if name.lower() in _SECRET_HEADERS:
            continue
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def _text(body: bytes, *, form_secrets: bool) -> str:
    text = body.decode("utf-8", errors="replace")
    if not form_secrets:
        return text
    import urllib.parse  # only the token endpoint's bodies need it

    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
    return urllib.parse.urlencode(
        [(name, _REDACTED if name in _SECRET_FORM_FIELDS else value) for name, value in pairs]
    )


class RequestJournal:
    """The last `size` requests, oldest first; safe to read from any thread."""

    def __init__(self, size: int) -> None:
        self.enabled = size > 0
        self._entries: collections.deque[JournalEntry] = collections.deque(maxlen=max(size, 1))
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def record(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        request_id: str,
    ) -> JournalEntry:
        """Add a request as it arrives; its body and answer can be filled in on the entry."""
        entry = JournalEntry(
            0,
            method,
            path,
            query,
            _kept_headers(headers),
            None if body is None else self.text(body),
            request_id,
        )
        with self._lock:
            entry.seq = next(self._seq)
            self._entries.append(entry)
        return entry

    @staticmethod
    def text(body: bytes, *, form_secrets: bool = False) -> str:
        """A body as the journal keeps it: text (undecodable bytes replaced by U+FFFD), with
        `client_secret` redacted when `form_secrets` says it is an OAuth token form."""
        return _text(body, form_secrets=form_secrets)

    def entries(self, since: int = 0) -> list[RecordedRequest]:
        """The kept requests with `seq` above `since`, oldest first."""
        with self._lock:
            entries = [entry for entry in self._entries if entry.seq > since]
        return [entry.recorded() for entry in entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
