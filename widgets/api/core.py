"""`GET /widget/core.js?agent=<id>`: a short-cached redirect to the agent's immutable core.

The loader (`/widget.js`, cached for minutes) imports this URL; the answer points at the
content-hashed build the agent is pinned to, or the stable channel's. Cached for a minute
by browsers and CDNs, so a pin or a global rollback reaches every site within about
`max-age` + the loader's own cache — no purge needed. An unknown agent gets the stable
core too: the core then reports `agent_not_found` from the session call, as before, and
this endpoint tells nobody which ids exist.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from widgets.installation.refusals import installation_origin_note
from widgets.publishing.core_builds import core_target_for, core_url
from widgets.selectors import widget_access_for

CORE_REDIRECT_MAX_AGE = 60
AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# Module imports across origins need CORS, on the redirect as on the file it leads to.
CROSS_ORIGIN = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}


@require_safe
def widget_core(request: HttpRequest) -> HttpResponse:
    agent_id = request.GET.get("agent", "")
    if agent_id and not AGENT_ID.match(agent_id):
        return _script_error("/* invalid agent id */", status=400)
    access = widget_access_for(agent_id) if agent_id else None
    # The module import carries the page's Origin: the first sign of a site that is not
    # allowed yet (its session call then fails at the CORS preflight, unseen).
    if access is not None:
        installation_origin_note(
            agent_public_id=agent_id, origin=request.headers.get("Origin", ""), access=access
        )
    target = core_target_for(access.core_version if access else "")
    if target is None:
        return _script_error("/* widget not built: run `make build` */", status=503)
    response = HttpResponse(status=302)
    response["Location"] = core_url(target.path)
    response["Cache-Control"] = f"public, max-age={CORE_REDIRECT_MAX_AGE}"
    response["X-Widget-Core-Version"] = target.version
    for name, value in CROSS_ORIGIN.items():
        response[name] = value
    return response


def _script_error(body: str, *, status: int) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/javascript")
    response["Cache-Control"] = "no-store"
    for name, value in CROSS_ORIGIN.items():
        response[name] = value
    return response
