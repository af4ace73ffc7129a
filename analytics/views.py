"""`GET /metrics`: the Prometheus text, for scrapers we know and nobody else.

Allowed when the client address is in METRICS_ALLOWED_IPS (default: loopback only) or the
request carries `Authorization: Bearer <METRICS_TOKEN>`. Anything else gets the same 404
as a path that does not exist, so the endpoint does not announce itself.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from analytics.monitoring.prometheus import metrics_exposition
from security.client_ip import Address, Network, client_ip, parse_ip


def _token_ok(request: HttpRequest) -> bool:
    expected = str(settings.METRICS_TOKEN or "")
    header = str(request.headers.get("Authorization", ""))
    scheme, _, offered = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not offered:
        return False
    return hmac.compare_digest(offered.strip().encode(), expected.encode())


def _address_ok(request: HttpRequest) -> bool:
    peer = str(request.META.get("REMOTE_ADDR", ""))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    peer_ip = parse_ip(peer)
    trusted = [ipaddress.ip_network(n, strict=False) for n in settings.TRUSTED_PROXIES]
    # A forwarded request from a proxy we were not told to trust came from someone
    # unknown: a proxy on this machine would otherwise make every visitor "loopback".
    if forwarded and not (peer_ip and any(_within(peer_ip, n) for n in trusted)):
        return False
    address = parse_ip(client_ip(peer, forwarded))
    if address is None:
        return False
    allowed = [ipaddress.ip_network(n, strict=False) for n in settings.METRICS_ALLOWED_IPS]
    return any(_within(address, n) for n in allowed)


def _within(address: Address, network: Network) -> bool:
    return address.version == network.version and address in network


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not (_token_ok(request) or _address_ok(request)):
        raise Http404
    body, content_type = metrics_exposition()
    return HttpResponse(body, content_type=content_type)
