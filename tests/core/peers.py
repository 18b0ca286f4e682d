"""Small hostile HTTP peers on loopback, and both clients pointed at them.

    async with raw_server(handler) as base_url:   # handler(reader, writer): any bytes at all
        async with client("sync", base_url, max_retries=0) as api:
            await api.customers.get(...)           # the sync Client, run in a worker thread

`app_server(app)` serves a tiny aiohttp application (`tls_app_server` the same over TLS, with a
`trustme` certificate); `ForwardingProxy` is an HTTP proxy that forwards absolute-form requests
(`GET http://host:port/path`) and counts them; `ConnectProxy` opens `CONNECT` tunnels, or
refuses them with a chosen status.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar

import trustme
from aiohttp import web
from multidict import CIMultiDict

from checkout_customers import AsyncClient, Client

from ..sync_adapter import adapt
from .conftest import SECRET_KEY

__all__ = [
    "CLIENT_KINDS",
    "ConnectProxy",
    "ForwardingProxy",
    "app_server",
    "client",
    "gzip_of_zeros",
    "raw_server",
    "tls_app_server",
]

CLIENT_KINDS = ["async", "sync"]
RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def client(kind: str, base_url: str | None, **options: Any) -> AsyncIterator[Any]:
    """An `AsyncClient` or an adapted sync `Client` (awaited the same way) for `base_url`."""
    options.setdefault("secret_key", SECRET_KEY)
    if base_url is not None:
        options.setdefault("base_url", base_url)
    if kind == "async":
        async with AsyncClient(**options) as async_client:
            yield async_client
    else:
        sync_client = Client(**options)
        async with adapt(sync_client) as adapted:
            yield adapted


@contextlib.asynccontextmanager
async def raw_server(handler: RawHandler) -> AsyncIterator[str]:
    """Serve `handler` on a loopback port; yield `http://127.0.0.1:PORT`."""

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up, which is what several tests want
        finally:
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def app_server(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp application on a loopback port; yield its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def tls_app_server(app: web.Application, ca: trustme.CA) -> AsyncIterator[str]:
    """Serve `app` over TLS on a loopback port, with a certificate from `ca` for `localhost`
    and 127.0.0.1; yield `https://localhost:PORT`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        yield f"https://localhost:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """The request line and headers of the next request."""
    return await reader.readuntil(b"\r\n\r\n")


def gzip_of_zeros(size: int) -> bytes:
    """A valid gzip of `size` zero bytes (a multiple of 1 MiB), about 1 KiB per MiB.

    Compressing a GiB takes seconds; after a full flush each MiB of zeros compresses to the
    same bytes, so the stream is built from one compressed MiB repeated.
    """
    mib = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    steady = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(mib, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return header + first + steady * ((size >> 20) - 1) + last + trailer


class ForwardingProxy:
    """A plain HTTP forwarding proxy on loopback that counts what it forwards.

    Each request is forwarded on a fresh upstream connection with `Connection: close`, and the
    answer relayed as is; `Proxy-Authorization` headers are recorded and not forwarded.
    """

    def __init__(self) -> None:
        self.requests: list[str] = []  # "GET http://127.0.0.1:PORT/path"
        self.proxy_authorizations: list[str | None] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> ForwardingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await read_head(reader)
                except asyncio.IncompleteReadError:
                    return
                await self._forward(head, reader, writer)
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _forward(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ")
        self.requests.append(f"{method} {target}")
        headers: list[tuple[str, str]] = []
        length = 0
        authorization = None
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            lower = name.strip().lower()
            if lower == "proxy-authorization":
                authorization = value.strip()
            elif lower not in ("connection", "keep-alive", "proxy-connection"):
                headers.append((name.strip(), value.strip()))
            if lower == "content-length":
                length = int(value)
        self.proxy_authorizations.append(authorization)
        body = await reader.readexactly(length) if length else b""
        # Absolute form only: `http://host:port/path`.
        authority, _, path = target.removeprefix("http://").partition("/")
        host, _, port = authority.partition(":")
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port or 80))
        lines = [f"{method} /{path} {version}", *(f"{n}: {v}" for n, v in headers)]
        lines.append("Connection: close")
        upstream_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await upstream_writer.drain()
        answer = await upstream_reader.read()
        upstream_writer.close()
        writer.write(answer)
        await writer.drain()
        writer.close()


class ConnectProxy:
    """An HTTP proxy on loopback that opens `CONNECT` tunnels and records what it saw.

    `connects` holds each request line ("CONNECT localhost:PORT HTTP/1.1") and `headers` its
    headers; `piped` every byte relayed through the tunnels, both ways, which is all a real
    proxy could read. With `refuse` set, every CONNECT is answered with that status (407 asks
    for credentials) and no tunnel is opened.
    """

    _REASONS: ClassVar[dict[int, str]] = {403: "Forbidden", 407: "Proxy Authentication Required"}

    def __init__(self, *, refuse: int | None = None) -> None:
        self.refuse = refuse
        self.connects: list[str] = []
        self.headers: list[CIMultiDict[str]] = []
        self.piped = bytearray()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def url_with_credentials(self, user: str, password: str) -> str:
        return self.url.replace("http://", f"http://{user}:{password}@")

    async def __aenter__(self) -> ConnectProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        # A tunnel the client left open would keep `wait_closed` waiting (Python 3.12+).
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            head = await read_head(reader)
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            self.connects.append(request_line)
            headers: CIMultiDict[str] = CIMultiDict()
            for line in header_lines:
                if line:
                    name, _, value = line.partition(":")
                    headers.add(name.strip(), value.strip())
            self.headers.append(headers)
            if self.refuse is not None:
                reason = self._REASONS.get(self.refuse, "Refused")
                writer.write(
                    f"HTTP/1.1 {self.refuse} {reason}\r\n"
                    'Proxy-Authenticate: Basic realm="tests"\r\n'
                    "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
                )
                await writer.drain()
                return
            host, _, port = request_line.split(" ")[1].rpartition(":")
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            self._writers.add(upstream_writer)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # either side hung up
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Relay until `source` ends, then close `sink` (which ends the other direction)."""
        try:
            while chunk := await source.read(65536):
                self.piped += chunk
                sink.write(chunk)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()
            self._writers.discard(sink)
