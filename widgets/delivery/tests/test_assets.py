"""Logo uploads: only real raster images within the limits are kept, stored once, and
served immutable with their true type to any site."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from agents.models import Agent
from widgets.delivery.assets import AssetInvalid, widget_asset_store
from widgets.models import WidgetAsset
from widgets.publishing.drafts import widget_draft_state

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (15, 118, 110)).save(buffer, format=fmt)
    return buffer.getvalue()


def noisy_png() -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (128, 128), os.urandom(128 * 128 * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client: Client, agent: Agent, data: bytes, content_type: str, name: str) -> Any:
    url = reverse("admin:agents_agent_widget_customize_logo", args=[agent.pk])
    return client.post(url, {"logo": SimpleUploadedFile(name, data, content_type=content_type)})


@override_settings(PUBLIC_BASE_URL="https://chat.platform.test")
def test_an_uploaded_logo_becomes_the_drafts_avatar_and_is_served_immutable(
    client: Client, owner: Any, agent: Agent
) -> None:
    client.force_login(owner)
    response = upload(client, agent, image_bytes(), "image/png", "logo.png")
    assert response.status_code == 200
    avatar = response.json()["avatarUrl"]
    assert avatar.startswith("https://chat.platform.test/widget/assets/")
    assert avatar.endswith(".png")
    assert widget_draft_state(Agent.objects.get(pk=agent.pk))["avatarUrl"] == avatar

    client.logout()  # customer sites load it without any session
    served = client.get(avatar.removeprefix("https://chat.platform.test"))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert served["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert served.content == image_bytes()


def test_the_same_image_twice_is_stored_once(workspace: Any) -> None:
    first = widget_asset_store(workspace_id=workspace.pk, data=image_bytes("WEBP"))
    again = widget_asset_store(workspace_id=workspace.pk, data=image_bytes("WEBP"))
    assert first.pk == again.pk and first.content_type == "image/webp"
    assert (first.width, first.height) == (64, 64)


@pytest.mark.parametrize(
    ("data", "declared", "problem"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
            "not a PNG",
        ),
        (b"<html><script>alert(1)</script></html>", "image/png", "not a PNG"),
        (noisy_png()[:20_000], "image/png", "not a PNG"),
        (image_bytes("JPEG"), "image/png", "says it is image/png but holds image/jpeg"),
        (image_bytes("PNG", (1025, 10)), "image/png", "1024 x 1024"),
        (image_bytes("BMP"), "image/bmp", "PNG, JPEG, WebP or GIF"),
        (b"\0" * (256 * 1024 + 1), "image/png", "256 KB"),
    ],
)
def test_it_refuses_what_is_not_a_small_raster_image(
    workspace: Any, data: bytes, declared: str, problem: str
) -> None:
    with pytest.raises(AssetInvalid, match=problem):
        widget_asset_store(workspace_id=workspace.pk, data=data, declared_type=declared)
    assert not WidgetAsset.objects.exists()


def test_a_refused_upload_says_why(client: Client, owner: Any, agent: Agent) -> None:
    client.force_login(owner)
    response = upload(client, agent, b"<svg/>", "image/svg+xml", "logo.svg")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_asset"
    assert widget_draft_state(Agent.objects.get(pk=agent.pk))["avatarUrl"] == ""


def test_an_outsider_cannot_upload_to_another_workspace(
    client: Client, outsider: Any, agent: Agent
) -> None:
    client.force_login(outsider)
    assert upload(client, agent, image_bytes(), "image/png", "logo.png").status_code == 404
    assert not WidgetAsset.objects.exists()


def test_a_wrong_hash_or_extension_is_not_found(client: Client, workspace: Any) -> None:
    asset = widget_asset_store(workspace_id=workspace.pk, data=image_bytes())
    good = f"{asset.pk}-{asset.sha256[:16]}"
    assert client.get(f"/widget/assets/{good}.png").status_code == 200
    assert client.get(f"/widget/assets/{good}.gif").status_code == 404
    assert client.get(f"/widget/assets/{asset.pk}-{'0' * 16}.png").status_code == 404
    assert client.get(f"/widget/assets/{asset.pk}.png").status_code == 404
    assert client.post(f"/widget/assets/{good}.png").status_code == 405
