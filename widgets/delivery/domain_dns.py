"""TXT look-ups that prove who controls a custom domain (dnspython).

Asked of `CUSTOM_DOMAIN_DNS_RESOLVER` (an address with an optional port) when it is set,
else of the system's resolvers. "No such record" is an answer; a timeout or a failing
server is not, and says so (`DnsUnavailable`), so a passing outage never decides anything.
"""

from __future__ import annotations

import dns.exception
import dns.name
import dns.resolver
from django.conf import settings

from core.env import ip_port_parse

LOOKUP_SECONDS = 4.0


class DnsUnavailable(Exception):
    """The question got no definite answer (timeout, failing or missing resolver)."""


def _resolver() -> dns.resolver.Resolver:
    configured = str(settings.CUSTOM_DOMAIN_DNS_RESOLVER or "")
    if not configured:
        return dns.resolver.Resolver()
    address, port = ip_port_parse(configured, default_port=53)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [address]
    resolver.port = port
    return resolver


def txt_values(name: str) -> list[str]:
    """The TXT strings published at `name` (a record's pieces joined); empty when the
    name or its TXT record does not exist."""
    try:
        resolver = _resolver()
        answer = resolver.resolve(
            dns.name.from_text(name), "TXT", search=False, lifetime=LOOKUP_SECONDS
        )
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.DNSException, OSError) as exc:
        raise DnsUnavailable(f"the DNS lookup of {name} failed ({type(exc).__name__})") from exc
    return [
        b"".join(record.strings).decode("utf-8", "replace")
        for record in answer
        if hasattr(record, "strings")
    ]
