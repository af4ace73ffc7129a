"""Images a workspace uploads for its widget (the logo shown as the agent's avatar).

Checked with Pillow (PNG, JPEG, WebP or GIF only; never SVG, which can carry script), kept
in the database content-addressed (one row per workspace and SHA-256), and served by
`asset_view` at /widget/assets/<pk>-<sha256[:16]>.<ext>: immutable, so cached for a year,
with its real type, `nosniff` and a CSP that lets it be nothing but an image.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe
from PIL import Image, UnidentifiedImageError

from core.errors import InvalidRequest
from widgets.models import WidgetAsset

MAX_ASSET_BYTES = 256 * 1024
MAX_ASSET_SIDE = 1024
# Pillow's format -> (Content-Type, extension in the URL)
FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
EXTENSIONS = {ext: content_type for content_type, ext in FORMATS.values()}
FORMATS_BY_TYPE = {content_type: ext for content_type, ext in FORMATS.values()}
IMMUTABLE = "public, max-age=31536000, immutable"


class AssetInvalid(InvalidRequest):
    code = "invalid_asset"


def _image_format(data: bytes) -> tuple[str, int, int]:
    """Pillow's format and the size, after a full check; AssetInvalid otherwise."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()  # structure and checksums
        with Image.open(io.BytesIO(data)) as image:  # verify() leaves the image unusable
            image.load()  # decodes every pixel: a truncated or lying file fails here
            found, (width, height) = image.format or "", image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise AssetInvalid("That is not a PNG, JPEG, WebP or GIF image we can read.") from None
    if found not in FORMATS:
        raise AssetInvalid("Upload a PNG, JPEG, WebP or GIF image (SVG is not accepted).")
    return found, width, height


def widget_asset_store(
    *, workspace_id: int, data: bytes, declared_type: str = "", by: Any = None
) -> WidgetAsset:
    """Check and keep an uploaded image; the same bytes twice give the same asset.
    `declared_type` is what the browser said the file was: a file claiming one image type
    while holding another is refused."""
    if len(data) > MAX_ASSET_BYTES:
        raise AssetInvalid(f"The image is larger than {MAX_ASSET_BYTES // 1024} KB.")
    found, width, height = _image_format(data)
    content_type = FORMATS[found][0]
    declared = "image/jpeg" if declared_type == "image/jpg" else declared_type
    if declared.startswith("image/") and declared != content_type:
        raise AssetInvalid(f"The file says it is {declared_type} but holds {content_type}.")
    if width > MAX_ASSET_SIDE or height > MAX_ASSET_SIDE:
        raise AssetInvalid(f"The image is larger than {MAX_ASSET_SIDE} x {MAX_ASSET_SIDE} pixels.")
    digest = hashlib.sha256(data).hexdigest()
    asset, _ = WidgetAsset.objects.get_or_create(
        workspace_id=workspace_id,
        sha256=digest,
        defaults={
            "content_type": content_type,
            "data": data,
            "width": width,
            "height": height,
            "uploaded_by": by,
        },
    )
    return asset


def asset_url(asset: WidgetAsset) -> str:
    """The absolute URL customer sites load the image from."""
    ext = FORMATS_BY_TYPE.get(asset.content_type, "bin")
    path = reverse("widget-asset", args=[f"{asset.pk}-{asset.sha256[:16]}.{ext}"])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


@require_safe
def asset_view(request: HttpRequest, name: str) -> HttpResponse:
    """GET /widget/assets/<pk>-<sha256[:16]>.<ext>: public, like the widget itself."""
    stem, _, ext = name.rpartition(".")
    pk, _, digest = stem.partition("-")
    if not pk.isdigit() or len(digest) != 16 or ext not in EXTENSIONS:
        raise Http404
    asset = WidgetAsset.objects.filter(pk=int(pk), sha256__startswith=digest.lower()).first()
    if asset is None or asset.content_type != EXTENSIONS[ext]:
        raise Http404
    response = HttpResponse(bytes(asset.data), content_type=asset.content_type)
    response["Cache-Control"] = IMMUTABLE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Shown by the widget on customer sites: an <img> from another origin.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Content-Disposition"] = f'inline; filename="logo.{ext}"'
    return response
