"""The agent's Identity page in the admin: keys, rotation, enforcement, "test a token".

Only owners and admins of the agent's own workspace reach it; every change and every
reveal of a secret is audited (customers.keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from agents.models import Agent
from core.errors import InvalidRequest
from customers.identity import token_diagnose
from customers.keys import (
    identity_key_retire,
    identity_public_key_add,
    identity_secret_reveal,
    identity_secret_rotate,
)
from customers.models import IdentityKey
from widgets.config.identity import (
    identity_has_secret,
    identity_key_of,
    identity_key_rows,
    identity_required_set,
)
from workspaces.permissions import may_manage


class RotateForm(forms.Form):
    grace_hours = forms.IntegerField(
        min_value=0,
        max_value=720,
        initial=24,
        label="Keep the current secret working for (hours)",
    )


class PublicKeyForm(forms.Form):
    pem = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 6, "cols": 70, "placeholder": "-----BEGIN PUBLIC KEY-----"}
        ),
        label="Public key (PEM)",
        max_length=10_000,
    )


class TestTokenForm(forms.Form):
    token = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70, "spellcheck": "false"}),
        label="Customer token",
        max_length=20_000,
    )


def _manageable_agent(request: HttpRequest, admin: ModelAdmin[Agent], object_id: str) -> Agent:
    """The agent, if the user manages its workspace; 404 otherwise (never a hint)."""
    agent = admin.get_queryset(request).filter(pk=object_id).first()
    if agent is None:
        raise Http404
    if not may_manage(request.user, agent.workspace_id):
        raise Http404
    return agent


@dataclass
class IdentityPage:
    """What one visit to the Identity page shows: the forms, and what an action revealed."""

    agent: Agent
    here: str
    revealed: dict[str, str] = field(default_factory=dict)
    # The key "Retire now" asks about first (no inline script: CSP).
    retiring: IdentityKey | None = None
    diagnosis: dict[str, Any] | None = None
    rotate_form: forms.Form = field(default_factory=RotateForm)
    key_form: forms.Form = field(default_factory=PublicKeyForm)
    test_form: forms.Form = field(default_factory=TestTokenForm)


# Each action handles one POST; True means "done: redirect back to the page".
Action = Callable[[HttpRequest, IdentityPage], bool]


def _rotate(request: HttpRequest, page: IdentityPage) -> bool:
    page.rotate_form = RotateForm(request.POST)
    if page.rotate_form.is_valid():
        new_key, secret = identity_secret_rotate(
            agent_pk=page.agent.pk,
            workspace_id=page.agent.workspace_id,
            actor=request.user,
            grace=timedelta(hours=page.rotate_form.cleaned_data["grace_hours"]),
        )
        page.revealed[new_key.key_id] = secret
        messages.success(
            request,
            "New secret created. Put it in your site's server config; the previous "
            "one keeps working until its retirement time below.",
        )
    return False


def _add_public_key(request: HttpRequest, page: IdentityPage) -> bool:
    page.key_form = PublicKeyForm(request.POST)
    if not page.key_form.is_valid():
        return False
    identity_public_key_add(
        agent_pk=page.agent.pk,
        workspace_id=page.agent.workspace_id,
        pem=page.key_form.cleaned_data["pem"],
        actor=request.user,
    )
    messages.success(request, "Public key added.")
    return True


def _key_action(request: HttpRequest, page: IdentityPage) -> bool:
    """Reveal a secret, ask to retire a key, or retire it."""
    key = identity_key_of(page.agent, request.POST.get("key_id", ""))
    if key is None:
        raise Http404
    action = request.POST.get("action", "")
    workspace_id = page.agent.workspace_id
    if action == "reveal":
        page.revealed[key.key_id] = identity_secret_reveal(
            key, actor=request.user, workspace_id=workspace_id
        )
        return False
    if action == "retire_confirm":
        page.retiring = key
        return False
    identity_key_retire(key, workspace_id=workspace_id, actor=request.user)
    messages.success(request, f"{key.key_id} retired: it verifies nothing from now on.")
    return True


def _require(request: HttpRequest, page: IdentityPage) -> bool:
    required = request.POST.get("required") == "on"
    identity_required_set(agent=page.agent, required=required, actor=request.user)
    messages.success(
        request,
        "Only verified customers may chat now."
        if required
        else "Anonymous and identified visitors may chat.",
    )
    return True


def _test_token(request: HttpRequest, page: IdentityPage) -> bool:
    page.test_form = TestTokenForm(request.POST)
    if page.test_form.is_valid():
        identity, problem = token_diagnose(
            page.test_form.cleaned_data["token"],
            agent_pk=page.agent.pk,
            agent_public_id=page.agent.public_id,
        )
        page.diagnosis = {"identity": identity, "problem": problem}
    return False


ACTIONS: dict[str, Action] = {
    "rotate": _rotate,
    "add_public_key": _add_public_key,
    "reveal": _key_action,
    "retire": _key_action,
    "retire_confirm": _key_action,
    "require": _require,
    "test": _test_token,
}


def _identity_page_render(
    request: HttpRequest, admin: ModelAdmin[Agent], page: IdentityPage
) -> HttpResponse:
    agent = page.agent
    context = {
        **admin.admin_site.each_context(request),
        "title": f"Identity verification: {agent.name}",
        "agent": agent,
        "opts": admin.model._meta,
        "keys": identity_key_rows(agent),
        "revealed": page.revealed,
        "retiring": page.retiring,
        "here": page.here,
        "rotate_form": page.rotate_form,
        "key_form": page.key_form,
        "test_form": page.test_form,
        "diagnosis": page.diagnosis,
        "has_secret": identity_has_secret(agent),
    }
    response = TemplateResponse(request, "admin/widgets/identity.html", context)
    add_never_cache_headers(response)  # it may show a secret
    return response


def identity_view(request: HttpRequest, admin: ModelAdmin[Agent], object_id: str) -> HttpResponse:
    agent = _manageable_agent(request, admin, object_id)
    page = IdentityPage(agent=agent, here=reverse("admin:agents_agent_identity", args=[agent.pk]))
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        try:
            if action is not None and action(request, page):
                return HttpResponseRedirect(page.here)
        except InvalidRequest as exc:
            messages.error(request, exc.message)
    return _identity_page_render(request, admin, page)
