"""`checkout-customers delete` answered with a redirect reports a failure, not `deleted`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from checkout_customers.cli import main

from .conftest import CUSTOMER_ID, SECRET_KEY


class _Moved(BaseHTTPRequestHandler):
    def do_DELETE(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass  # keep the test output clean


@pytest.fixture
def moved_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Moved)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_delete_answered_302_exits_1_without_saying_deleted(
    moved_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("CKO_BASE_URL", moved_url)
    assert main(["delete", CUSTOMER_ID]) == 1
    out, err = capsys.readouterr()
    assert "deleted" not in out
    assert "302" in err
    assert "redirect" in err
