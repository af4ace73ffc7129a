"""`GET /api/v2/widget/config/<agentId>`: the page config, public and cacheable.

What the loader needs on a page view before any intent (widgets.delivery.page_config): nothing
private and the same bytes for every visitor and every site, so it is answered with
`Access-Control-Allow-Origin: *` and no `Vary: Origin`, which lets one CDN entry serve
every page. The agent's allowed domains guard what is worth guarding (the session, the
messages, the tokens): a site that is not allowed gets the launcher's colours and nothing
it can chat with, and its Origin is noted for the Deploy panel as the core redirect does.
No rate limit and no IP block: like /widget.js, the answer is meant to come from a cache.
"""

from __future__ import annotations

import re

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request

from core.errors import NotFound
from core.openapi import error_responses, typed_dict_schema
from security.domains import origin_allowed
from widgets.api.public import PublicWidgetView
from widgets.delivery.page_config import PublicWidgetDocument, widget_page_config
from widgets.installation.refusals import installation_origin_note

# Fresh for a minute, then served stale for up to ten while a cache fetches the new one: a
# publish reaches a visitor within a minute, or one page view later.
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=600"
MISSING_CACHE_CONTROL = "public, max-age=60"
AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
PUBLIC = {
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


def _matches(if_none_match: str, etag: str) -> bool:
    tags = parse_etags(if_none_match)
    weak = etag.removeprefix("W/")
    return "*" in tags or any(tag.removeprefix("W/") == weak for tag in tags)


class PageConfigView(PublicWidgetView):
    @extend_schema(
        operation_id="widget_page_config",
        summary="The public widget config a page view needs before any intent",
        description=(
            "The published config without the agent's CSS, whether guests see the "
            "launcher, the launcher's paint and the proactive trigger compiled for the "
            "loader. The same for every visitor and site: `Cache-Control: public, "
            "max-age=60, stale-while-revalidate=600`, a weak `ETag` (send it back in "
            "`If-None-Match` for a 304) and `Access-Control-Allow-Origin: *`."
        ),
        responses={
            200: typed_dict_schema(PublicWidgetDocument),
            **error_responses(404, e404="agent_not_found"),
        },
        parameters=[
            OpenApiParameter(
                "ETag", str, location=OpenApiParameter.HEADER, response=[200], required=True
            ),
            OpenApiParameter(
                "Cache-Control",
                str,
                location=OpenApiParameter.HEADER,
                response=[200, 404],
                required=True,
            ),
        ],
        tags=["widget"],
    )
    def get(self, request: Request, agent_id: str) -> HttpResponse:
        document = widget_page_config(agent_id) if AGENT_ID.match(agent_id) else None
        if document is None:
            raise NotFound(
                "No active agent has this id.",
                code="agent_not_found",
                headers={"Cache-Control": MISSING_CACHE_CONTROL, **PUBLIC},
            )
        origin = request.headers.get("Origin", "")
        if origin and not origin_allowed(origin, list(document.allowed_domains)):
            installation_origin_note(agent_public_id=agent_id, origin=origin)
        headers = {"ETag": document.etag, "Cache-Control": CACHE_CONTROL, **PUBLIC}
        if _matches(request.headers.get("If-None-Match", ""), document.etag):
            return HttpResponseNotModified(headers=headers)
        # Some 600 bytes: a CDN or the proxy in front compresses it with the rest of the API.
        return HttpResponse(document.body, content_type="application/json", headers=headers)
