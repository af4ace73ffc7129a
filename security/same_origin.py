"""Is a websocket opened by the platform's own pages? (cross-site websocket hijacking)

Browsers send cookies with a websocket handshake whatever page opens it, and websockets
are not covered by CORS, so a staff socket authenticated by the admin session cookie must
check `Origin` itself. The rule is Django's CSRF rule: the origin must be the host the
request was made to (an allowed host), `PUBLIC_BASE_URL`, or one of
`CSRF_TRUSTED_ORIGINS`.
"""

from __future__ import annotations

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from security.domains import DEFAULT_PORTS, Origin, normalize_host, parse_origin


def _as_origin(url: str) -> Origin | None:
    return parse_origin(url.rstrip("/")) if url else None


def _host_origin(origin: Origin, host_header: str) -> Origin | None:
    """The origin the request was made to, in the scheme the browser says it used."""
    domain, port = split_domain_port(host_header.strip().lower())
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    host = normalize_host(domain)
    if host is None:
        return None
    return Origin(origin.scheme, host, int(port) if port else DEFAULT_PORTS[origin.scheme])


def same_origin(origin_header: str, host_header: str) -> bool:
    """Whether a request carrying these headers comes from the platform's own pages."""
    origin = parse_origin(origin_header)
    if origin is None:
        return False
    if origin == _host_origin(origin, host_header):
        return True
    trusted = [settings.PUBLIC_BASE_URL, *getattr(settings, "CSRF_TRUSTED_ORIGINS", [])]
    return any(origin == _as_origin(url) for url in trusted)
