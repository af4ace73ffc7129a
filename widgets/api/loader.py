"""`GET /widget.js`: the loader, gzipped, with a short cache and an ETag (the core is immutable)."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe

LOADER_MAX_AGE = 300


@dataclass(frozen=True)
class LoaderFile:
    body: bytes
    gzipped: bytes
    etag: str


@lru_cache(maxsize=4)
def _loader(mtime_ns: int) -> LoaderFile:
    body = (settings.FRONTEND_DIST / "widget.js").read_bytes()
    return LoaderFile(
        body=body,
        # mtime=0: the same build always gzips to the same bytes.
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )


@require_safe
def widget_loader(request: HttpRequest) -> HttpResponse:
    path = settings.FRONTEND_DIST / "widget.js"
    if not path.exists():
        return HttpResponse(
            "/* widget not built: run `make build` */", status=503, content_type="text/javascript"
        )
    loader = _loader(path.stat().st_mtime_ns)
    headers = {
        "ETag": loader.etag,
        "Cache-Control": f"public, max-age={LOADER_MAX_AGE}",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("If-None-Match") == loader.etag:
        return HttpResponseNotModified(headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = loader.gzipped
    else:
        body = loader.body
    return HttpResponse(body, content_type="text/javascript; charset=utf-8", headers=headers)
