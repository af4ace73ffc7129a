"""`GET /widget.js`: the loader, with a short cache and an ETag (the core is immutable)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe

LOADER_MAX_AGE = 300


@lru_cache(maxsize=4)
def _loader(mtime_ns: int) -> tuple[bytes, str]:
    body = (settings.FRONTEND_DIST / "widget.js").read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@require_safe
def widget_loader(request: HttpRequest) -> HttpResponse:
    path = settings.FRONTEND_DIST / "widget.js"
    if not path.exists():
        return HttpResponse(
            "/* widget not built: run `make build` */", status=503, content_type="text/javascript"
        )
    body, etag = _loader(path.stat().st_mtime_ns)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={LOADER_MAX_AGE}",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers=headers)
    return HttpResponse(body, content_type="text/javascript; charset=utf-8", headers=headers)
