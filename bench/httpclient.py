"""A minimal asyncio HTTP/1.1 client with keep-alive (stdlib only, no proxies)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpConnection:
    """One persistent connection to host:port; reopened after errors or `Connection: close`."""

    def __init__(
        self, host: str, port: int, timeout: float = 10.0, local_addr: str | None = None
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.local_addr = (local_addr, 0) if local_addr else None  # a source address to bind
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> HttpResponse:
        try:
            return await asyncio.wait_for(self._request(method, path, body, headers), self.timeout)
        except BaseException:
            await self.close()
            raise

    async def _request(
        self, method: str, path: str, body: bytes, headers: dict[str, str] | None
    ) -> HttpResponse:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, local_addr=self.local_addr
            )
        assert self._reader is not None
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
            "Connection: keep-alive",
        ]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        response_headers: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                response_headers[name.strip().lower()] = value.strip()
        payload = await self._read_body(response_headers)
        if response_headers.get("connection", "").lower() == "close":
            await self.close()
        return HttpResponse(status, response_headers, payload)

    async def _read_body(self, headers: dict[str, str]) -> bytes:
        assert self._reader is not None
        if "content-length" in headers:
            return await self._reader.readexactly(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self._reader.readuntil(b"\r\n")  # no trailers are expected
                    return b"".join(chunks)
                chunks.append(await self._reader.readexactly(size))
                await self._reader.readexactly(2)
        headers["connection"] = "close"  # body runs to EOF; the connection is spent
        return await self._reader.read()

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
