"""Custom domains for the widget (docs/custom-domain.md): which host names belong to an
active agent, and the `ask` endpoint a TLS proxy with on-demand certificates (Caddy's
`on_demand_tls { ask … }`) calls before it requests a certificate for a host."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from security.client_ip import client_ip
from security.ratelimit import Limit, rate_limit_hit
from widgets.models import WidgetConfig

KNOWN_CACHE_SECONDS = 60
# A proxy asks once per new host; more than this from one address is someone probing.
ASK_LIMIT = Limit(name="tls_ask", rate=60, window=60)


def custom_domain_known(host: str) -> bool:
    """Whether an active agent's widget is served from `host` (cached a minute)."""
    host = host.strip().lower().rstrip(".")
    if not host or len(host) > 253:
        return False
    key = f"widget:custom-domain:{host}"
    known = cache.get(key)
    if known is None:
        known = WidgetConfig.objects.filter(custom_domain=host, agent__is_active=True).exists()
        cache.set(key, known, KNOWN_CACHE_SECONDS)
    return bool(known)


@require_safe
def tls_ask(request: HttpRequest) -> HttpResponse:
    """GET /api/v2/tls/ask?domain=<host>: 200 when a certificate may be issued, else 404."""
    ip = client_ip(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))
    decision = rate_limit_hit(ASK_LIMIT, ip)
    if not decision.allowed:
        response = HttpResponse("rate limited\n", status=429, content_type="text/plain")
        response["Retry-After"] = str(decision.retry_after)
        return response
    if custom_domain_known(request.GET.get("domain", "")):
        return HttpResponse("ok\n", content_type="text/plain")
    return HttpResponse("unknown domain\n", status=404, content_type="text/plain")
