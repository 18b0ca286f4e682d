"""A Customers API stand-in that answers fixed bodies at once, run in a child process.

The client benchmarks measure the client's own CPU, so the server only has to be quick and
predictable: no store, no validation, no rate limits. It answers like the API does:

- `GET /customers/{id}`: 200 with `CUSTOMER`, a realistic customer (phone, metadata, a card
  instrument with an account holder, billing address and phone, and a bank-account instrument);
- `POST /customers`: 201 `{"id": ...}`;
- `PATCH /customers/{id}` and `DELETE /customers/{id}`: 204, no body;

each with a `Cko-Request-Id` header. Request bodies are read, not parsed.

    with fixed_server() as base_url:
        ...  # any secret key is accepted

Run as a script it serves on a free port of 127.0.0.1 and prints `listening on URL`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["CUSTOMER", "CUSTOMER_ID", "fixed_server"]

CUSTOMER_ID = "cus_y3oqhf46pyzuxjbcn2giaqnb44"
CUSTOMER: dict[str, Any] = {
    "id": CUSTOMER_ID,
    "email": "bruce@wayne.com",
    "name": "Bruce Wayne",
    "phone": {"country_code": "+1", "number": "4155552671"},
    "metadata": {"coupon_code": "NY2018", "partner_id": 123989, "vip": True},
    "default": "src_wmlfc3zyhqzehihu7giusaaawu",
    "instruments": [
        {
            "type": "card",
            "id": "src_wmlfc3zyhqzehihu7giusaaawu",
            "fingerprint": "vnsdrvikkvre3dtrjjvlm5du4q",
            "expiry_month": 6,
            "expiry_year": 2031,
            "name": "Bruce Wayne",
            "scheme": "VISA",
            "last4": "4242",
            "bin": "424242",
            "card_type": "CREDIT",
            "card_category": "CONSUMER",
            "issuer": "GOTHAM NATIONAL BANK",
            "issuer_country": "US",
            "product_id": "F",
            "product_type": "Visa Classic",
            "account_holder": {
                "first_name": "Bruce",
                "last_name": "Wayne",
                "billing_address": {
                    "address_line1": "1007 Mountain Drive",
                    "address_line2": "Wayne Manor",
                    "city": "Gotham",
                    "state": "NJ",
                    "zip": "07001",
                    "country": "US",
                },
                "phone": {"country_code": "+1", "number": "4155552671"},
            },
            "customer": {
                "id": CUSTOMER_ID,
                "email": "bruce@wayne.com",
                "name": "Bruce Wayne",
                "default": True,
            },
        },
        {
            "type": "bank_account",
            "id": "src_7vzhcm3t6k6ede5bxlyolj5zze",
            "fingerprint": "m2ynbmbvc7xe5ppzcmfp5i5xwa",
            "country": "GB",
            "currency": "GBP",
            "account_type": "current",
            "account_number": "13654567",
            "bank_code": "40-47-84",
            "iban": "GB33BUKB20201555555555",
            "swift_bic": "BUKBGB22",
            "account_holder": {
                "type": "individual",
                "first_name": "Bruce",
                "last_name": "Wayne",
                "billing_address": {
                    "address_line1": "1 Wayne Tower",
                    "city": "London",
                    "zip": "W1T 4JE",
                    "country": "GB",
                },
                "phone": {"country_code": "+44", "number": "2071838750"},
            },
            "bank": {"name": "Barclays", "branch": "Canary Wharf"},
            "customer": {"id": CUSTOMER_ID, "default": False},
        },
    ],
}
CREATED = {"id": "cus_6artgoevd77u4dws3sq3ytnpxm"}


async def serve() -> None:
    """Serve until SIGTERM or SIGINT; print `listening on URL` once accepting."""
    from aiohttp import web

    customer = json.dumps(CUSTOMER).encode()
    created = json.dumps(CREATED).encode()
    json_headers = {"Content-Type": "application/json", "Cko-Request-Id": "req_fixed"}
    plain_headers = {"Cko-Request-Id": "req_fixed"}

    async def get(_: web.Request) -> web.Response:
        return web.Response(body=customer, headers=json_headers)

    async def create(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=201, body=created, headers=json_headers)

    async def no_content(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204, headers=plain_headers)

    app = web.Application()
    app.router.add_get("/customers/{identifier}", get)
    app.router.add_post("/customers", create)
    app.router.add_patch("/customers/{identifier}", no_content)
    app.router.add_delete("/customers/{identifier}", no_content)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


@contextlib.contextmanager
def fixed_server() -> Iterator[str]:
    """Start the fixed-body server in a child process; yield its base URL; stop it."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve())], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the fixed server did not start: {line!r}")
        yield line.removeprefix("listening on ")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(serve())
