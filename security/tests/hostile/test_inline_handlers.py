"""The platform's CSP (`script-src 'self'`, no 'unsafe-inline') blocks inline event
handlers and inline scripts, so a control that relies on one silently loses what it did —
the identity page's "Retire now" retired a key without the confirmation its `onclick`
asked for. None of our templates, nor HTML built in Python, may carry one; every admin
page we own is rendered and held to the same rule.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from customers.keys import identity_secret_rotate
from customers.models import IdentityKey

ROOT = Path(__file__).resolve().parents[3]
APPS = sorted(path for path in ROOT.iterdir() if (path / "apps.py").is_file())
HANDLER = re.compile(r"<[a-zA-Z][^<>]*?\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)
# An inline script; a `json_script` data block is not run, so CSP lets it be.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)


def inline_code(html: str, *, scripts: bool = True) -> list[str]:
    """Inline handlers, `javascript:` URLs and (with `scripts`) inline script elements."""
    patterns = (HANDLER, SCRIPT_URL, INLINE_SCRIPT) if scripts else (HANDLER, SCRIPT_URL)
    return [match.group() for pattern in patterns for match in pattern.finditer(html)]


def script_src(policy: str) -> str:
    directives = (d.strip() for d in policy.split(";"))
    return next(d for d in directives if d.startswith("script-src "))


def test_no_template_or_python_html_carries_inline_code() -> None:
    templates = [t for app in APPS for t in (app / "templates").rglob("*.html")]
    python = [
        path
        for app in APPS
        for path in app.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]
    assert any(path.name == "identity.html" for path in templates)
    # Python may hold a customer site's embed snippet (<script>…</script>), never a handler.
    found = {
        str(path.relative_to(ROOT)): code
        for path in templates + python
        if (code := inline_code(path.read_text(), scripts=path.suffix == ".html"))
    }
    assert not found, f"inline code the CSP blocks (use a form or a static script): {found}"


@pytest.fixture
def pages(agent_a: Agent) -> list[str]:
    identity_secret_rotate(agent_pk=agent_a.pk, workspace_id=agent_a.workspace_id)
    admin_pages = [
        "change",
        "identity",
        "widget_customize",
        "widget_customize_preview",
        "widget_deploy",
        "widget_releases",
        "widget_import",
        "widget_presets",
    ]
    return [
        reverse("admin:index"),
        reverse("admin:agents_agent_changelist"),
        reverse("inbox"),
        reverse("analytics-dashboard"),
        *(reverse(f"admin:agents_agent_{name}", args=[agent_a.pk]) for name in admin_pages),
    ]


@pytest.mark.django_db
def test_every_admin_page_we_own_renders_without_inline_code(
    admin_client_as: Any, owner_a: Any, pages: list[str], agent_a: Agent
) -> None:
    client: Client = admin_client_as(owner_a)
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "'unsafe-inline'" not in script_src(response["Content-Security-Policy"])
        assert not inline_code(response.content.decode()), page
    key_id = IdentityKey.objects.get(agent=agent_a).key_id
    identity = reverse("admin:agents_agent_identity", args=[agent_a.pk])
    asked = client.post(identity, {"action": "retire_confirm", "key_id": key_id})
    assert 'data-ca="retire-confirm"' in asked.content.decode()
    assert not inline_code(asked.content.decode())
