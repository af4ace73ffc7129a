"""The agent's Identity page in the admin: keys, rotation, enforcement, "test a token".

Only owners and admins of the agent's own workspace reach it; every change and every
reveal of a secret is audited (customers.keys).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from agents.models import Agent
from agents.permissions import may_manage
from core.errors import InvalidRequest
from customers.identity import token_diagnose
from customers.keys import (
    identity_key_retire,
    identity_public_key_add,
    identity_secret_reveal,
    identity_secret_rotate,
)
from customers.models import IdentityKey
from security.audit import audit_record


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


def _key_rows(agent: Agent) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for key in IdentityKey.objects.filter(agent=agent).order_by("-created_at")[:20]:
        if key.retires_at is None:
            state = "live"
        elif key.retires_at > now:
            state = "retiring"
        else:
            state = "retired"
        rows.append({"key": key, "state": state})
    return rows


def identity_view(request: HttpRequest, admin: ModelAdmin[Agent], object_id: str) -> HttpResponse:
    agent = _manageable_agent(request, admin, object_id)
    here = reverse("admin:agents_agent_identity", args=[agent.pk])
    revealed: dict[str, str] = {}
    retiring: IdentityKey | None = None  # "Retire now" asks first (no inline script: CSP)
    diagnosis: dict[str, Any] | None = None
    rotate_form, key_form, test_form = RotateForm(), PublicKeyForm(), TestTokenForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        workspace_id = agent.workspace_id
        try:
            if action == "rotate":
                rotate_form = RotateForm(request.POST)
                if rotate_form.is_valid():
                    new_key, secret = identity_secret_rotate(
                        agent_pk=agent.pk,
                        workspace_id=workspace_id,
                        actor=request.user,
                        grace=timedelta(hours=rotate_form.cleaned_data["grace_hours"]),
                    )
                    revealed[new_key.key_id] = secret
                    messages.success(
                        request,
                        "New secret created. Put it in your site's server config; the previous "
                        "one keeps working until its retirement time below.",
                    )
            elif action == "add_public_key":
                key_form = PublicKeyForm(request.POST)
                if key_form.is_valid():
                    identity_public_key_add(
                        agent_pk=agent.pk,
                        workspace_id=workspace_id,
                        pem=key_form.cleaned_data["pem"],
                        actor=request.user,
                    )
                    messages.success(request, "Public key added.")
                    return HttpResponseRedirect(here)
            elif action in ("reveal", "retire", "retire_confirm"):
                key = IdentityKey.objects.filter(
                    agent=agent, key_id=request.POST.get("key_id", "")
                ).first()
                if key is None:
                    raise Http404
                if action == "reveal":
                    revealed[key.key_id] = identity_secret_reveal(
                        key, actor=request.user, workspace_id=workspace_id
                    )
                elif action == "retire_confirm":
                    retiring = key
                else:
                    identity_key_retire(key, workspace_id=workspace_id, actor=request.user)
                    messages.success(
                        request, f"{key.key_id} retired: it verifies nothing from now on."
                    )
                    return HttpResponseRedirect(here)
            elif action == "require":
                required = request.POST.get("required") == "on"
                if required != agent.identity_required:
                    agent.identity_required = required
                    agent.save(update_fields=["identity_required", "updated_at"])
                    audit_record(
                        action="identity.required",
                        target=agent.public_id,
                        actor=request.user,
                        workspace_id=workspace_id,
                        changes={"identity_required": {"from": not required, "to": required}},
                    )
                messages.success(
                    request,
                    "Only verified customers may chat now."
                    if required
                    else "Anonymous and identified visitors may chat.",
                )
                return HttpResponseRedirect(here)
            elif action == "test":
                test_form = TestTokenForm(request.POST)
                if test_form.is_valid():
                    identity, problem = token_diagnose(
                        test_form.cleaned_data["token"],
                        agent_pk=agent.pk,
                        agent_public_id=agent.public_id,
                    )
                    diagnosis = {"identity": identity, "problem": problem}
        except InvalidRequest as exc:
            messages.error(request, exc.message)
    context = {
        **admin.admin_site.each_context(request),
        "title": f"Identity verification: {agent.name}",
        "agent": agent,
        "opts": admin.model._meta,
        "keys": _key_rows(agent),
        "revealed": revealed,
        "retiring": retiring,
        "here": here,
        "rotate_form": rotate_form,
        "key_form": key_form,
        "test_form": test_form,
        "diagnosis": diagnosis,
        "has_secret": IdentityKey.objects.filter(agent=agent, algorithm="HS256").exists(),
    }
    response = TemplateResponse(request, "admin/widgets/identity.html", context)
    add_never_cache_headers(response)  # it may show a secret
    return response
