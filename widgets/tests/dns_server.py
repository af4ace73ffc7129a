"""A real, tiny DNS server on 127.0.0.1 (UDP, in a thread) for custom-domain checks.

It answers TXT questions from `records` (name -> strings, editable while it runs),
NXDOMAIN for any other name, and stays silent for names in `silent` (a resolver's
timeout). Messages are parsed and built by dnspython, as a real server's would be.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


@dataclass
class FakeZone:
    address: str  # "127.0.0.1:<port>", for CUSTOM_DOMAIN_DNS_RESOLVER
    # name -> its TXT records; a tuple is one record made of several strings
    records: dict[str, list[str | tuple[str, ...]]] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)
    questions: list[str] = field(default_factory=list)

    def answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.questions.append(name)
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        values = self.records.get(name)
        if values is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT and values:
            texts = [" ".join(map(_quoted, (v,) if isinstance(v, str) else v)) for v in values]
            response.answer.append(
                dns.rrset.from_text(question.name, 60, dns.rdataclass.IN, dns.rdatatype.TXT, *texts)
            )
        return response.to_wire()


def _quoted(piece: str) -> str:
    return '"' + piece.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def fake_dns() -> Iterator[FakeZone]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    zone = FakeZone(address=f"127.0.0.1:{sock.getsockname()[1]}")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, client = sock.recvfrom(4096)
            except TimeoutError:
                continue
            reply = zone.answer(wire)
            if reply is not None:
                sock.sendto(reply, client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield zone
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
