"""Test doubles at the operating system's edge, for the outbound policy's tests.

- `RebindingDns`: replaces `socket.getaddrinfo` (the OS resolver, under every client) for
  one name whose answer changes between lookups, the way a DNS-rebinding attacker's does.
- `LoopbackOnly`: replaces `socket.socket.connect` so that nothing leaves this machine: a
  connection to any non-loopback address is refused (and recorded) before a packet is sent.
- `RecordingListener`: an HTTP server on 127.0.0.1 that records every request it gets.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import pytest

REAL_GETADDRINFO = socket.getaddrinfo
REAL_CONNECT = socket.socket.connect


@dataclass
class RebindingDns:
    """`name` resolves to `answers[0]` first, `answers[1]` next, … and the last one after."""

    name: str
    answers: list[str]
    lookups: int = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> RebindingDns:
        monkeypatch.setattr(socket, "getaddrinfo", self)
        return self

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        # asyncio (under anyio) asks with the name IDNA-encoded, as bytes.
        name = host.decode("ascii") if isinstance(host, bytes) else host
        if name != self.name:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        answer = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        family = socket.AF_INET6 if ":" in answer else socket.AF_INET
        sockaddr = (
            (answer, int(port or 0), 0, 0)
            if family == socket.AF_INET6
            else (answer, int(port or 0))
        )
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


def _is_loopback(host: Any) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a name: resolved by connect() itself, past any check


@dataclass
class LoopbackOnly:
    """Every attempt to connect elsewhere than 127.0.0.0/8 or ::1 is refused and kept."""

    refused: list[tuple[str, int]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> LoopbackOnly:
        guard = self

        def connect(sock: socket.socket, address: Any) -> None:
            if isinstance(address, tuple) and not _is_loopback(address[0]):
                guard.refused.append((str(address[0]), int(address[1])))
                raise ConnectionRefusedError(f"test: {address[0]} is not on this machine")
            REAL_CONNECT(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)
        return self


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]


class RecordingListener:
    """Answers every request 404 and remembers it (`requests`)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _record(self) -> None:
                listener.requests.append(
                    Received(
                        self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                    )
                )
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._record()

            def do_POST(self) -> None:
                self._record()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def __enter__(self) -> RecordingListener:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def self_signed(name: str, directory: str) -> tuple[str, str]:
    """A certificate for `name` (and its key), as PEM files in `directory`."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class TlsRecordingListener(RecordingListener):
    """`RecordingListener` over TLS, with the certificate at `cert_path`."""

    def __init__(self, cert_path: str, key_path: str) -> None:
        import ssl

        super().__init__()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
