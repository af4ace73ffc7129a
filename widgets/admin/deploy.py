"""The agent's "Deploy on my site" page: the snippets with copy buttons and Subresource
Integrity, install guides, the allowed domains, identity at a glance, and the installation
check (widgets.installation.status), which the page polls through `status.json`.

Thin views: members of the agent's workspace see everything; only its owners and admins
change the allowed domains (403); another workspace's agent is a 404.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_safe

from agents.models import Agent
from core.errors import ApiError
from customers.keys import live_keys
from security.domains import allows_any_site
from widgets.admin.pages import admin_link, agent_for_admin, agent_page, require_manager
from widgets.config.validation import WidgetConfigInvalid
from widgets.installation.refusals import installation_host_allow
from widgets.installation.snippet import agent_snippet_base_url, widget_snippets_for
from widgets.installation.status import InstallationStatus, installation_status
from widgets.publishing.drafts import widget_draft_update
from widgets.selectors import widget_allowed_domains
from workspaces.permissions import may_manage

POLL_SECONDS = 5
CHECK_TEMPLATE = "admin/widgets/deploy_check.html"


class AllowedDomainsForm(forms.Form):
    allowed_domains = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 50, "spellcheck": "false"}),
        required=False,
        max_length=20_000,
        label="Allowed domains (one per line)",
        help_text="shop.example.com, *.example.com (every subdomain), localhost:3000. "
        "They apply at once, without publishing.",
    )

    def domains(self) -> list[str]:
        text: str = self.cleaned_data["allowed_domains"]
        return [line.strip() for line in text.splitlines() if line.strip()]


def _domains_text(agent: Agent) -> str:
    return "\n".join(widget_allowed_domains(agent))


def _check_context(request: HttpRequest, agent: Agent) -> dict[str, Any]:
    return {
        "check": installation_status(agent),
        "agent": agent,
        "may_manage": may_manage(request.user, agent.workspace_id),
        "deploy_url": admin_link("widget_deploy", agent),
    }


def _status_out(check: InstallationStatus) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() if value else None

    def hosts(rows: Any) -> list[dict[str, Any]]:
        return [
            {"host": h.host, "lastLoadAt": when(h.last_load_at), "loads": h.loads} for h in rows
        ]

    return {
        "agentActive": check.agent_active,
        "identityRequired": check.identity_required,
        "domains": [
            {
                "pattern": d.pattern,
                "status": d.status,
                "sentence": d.sentence,
                "lastLoadAt": when(d.last_load_at),
                "hosts": hosts(d.hosts),
            }
            for d in check.domains
        ],
        "refusals": [
            {
                "origin": r.origin,
                "host": r.host,
                "reason": r.reason,
                "detail": r.detail,
                "count": r.count,
                "firstSeenAt": when(r.first_seen_at),
                "lastSeenAt": when(r.last_seen_at),
                "status": r.status,
                "sentence": r.sentence,
                "allowHost": r.allow_host,
            }
            for r in check.refusals
        ],
        "otherHosts": hosts(check.other_hosts),
    }


def _save_domains(request: HttpRequest, agent: Agent, form: AllowedDomainsForm) -> bool:
    if not form.is_valid():
        return False
    try:
        config = widget_draft_update(
            agent=agent, values={"allowedDomains": form.domains()}, by=request.user
        )
    except WidgetConfigInvalid as exc:
        form.add_error("allowed_domains", exc.errors.get("allowedDomains", exc.message))
        return False
    messages.success(request, "Allowed domains saved: they apply at once.")
    if allows_any_site(config.allowed_domains):
        messages.warning(
            request, "'*' lets any website embed this agent at your expense: list your hosts."
        )
    return True


def deploy_view(
    request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str
) -> HttpResponse:
    agent = agent_for_admin(request, model_admin, object_id)
    here = admin_link("widget_deploy", agent)
    form = AllowedDomainsForm(initial={"allowed_domains": _domains_text(agent)})
    if request.method == "POST":
        require_manager(request, agent)
        action = request.POST.get("action", "")
        if action == "allow":
            try:
                entry = installation_host_allow(
                    agent=agent, host=request.POST.get("host", ""), by=request.user
                )
                messages.success(request, f"{entry} is allowed now: reload the page there.")
            except ApiError as exc:
                messages.error(request, exc.message)
            return HttpResponseRedirect(here + "#installation-check")
        form = AllowedDomainsForm(request.POST)
        if _save_domains(request, agent, form):
            return HttpResponseRedirect(here + "#allowed-domains")
    snippets = widget_snippets_for(agent)
    base_url = agent_snippet_base_url(agent)
    response = agent_page(
        request,
        model_admin,
        "deploy.html",
        agent,
        title=f"Deploy {agent.name} on your site",
        snippets=snippets,
        loader_src=f"{base_url}/widget.js",
        custom_domain=base_url != settings.PUBLIC_BASE_URL.rstrip("/"),
        base_url=base_url,
        form=form,
        identity_keys=live_keys(agent.pk).count(),
        links_extra={
            "change": reverse("admin:agents_agent_change", args=[agent.pk]),
            "identity": admin_link("identity", agent),
            "status": admin_link("widget_deploy_status", agent),
        },
        poll_seconds=POLL_SECONDS,
        **{k: v for k, v in _check_context(request, agent).items() if k != "agent"},
    )
    add_never_cache_headers(response)
    return response


def status_view(
    request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str
) -> HttpResponse:
    """The installation check as data, and as the page's fragment (the same template the
    page renders without JavaScript), with a digest so the page redraws only on change."""
    agent = agent_for_admin(request, model_admin, object_id)
    context = _check_context(request, agent)
    data = _status_out(context["check"])
    html = render_to_string(CHECK_TEMPLATE, context, request=request)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    response = JsonResponse({**data, "digest": digest, "html": html})
    add_never_cache_headers(response)
    return response


def deploy_urls(model_admin: ModelAdmin[Agent]) -> list[URLPattern]:
    @require_http_methods(["GET", "HEAD", "POST"])
    def deploy(request: HttpRequest, object_id: str) -> HttpResponse:
        return deploy_view(request, model_admin, object_id)

    @require_safe
    def status(request: HttpRequest, object_id: str) -> HttpResponse:
        return status_view(request, model_admin, object_id)

    site = model_admin.admin_site
    return [
        path(
            "<path:object_id>/widget/deploy/",
            site.admin_view(deploy),
            name="agents_agent_widget_deploy",
        ),
        path(
            "<path:object_id>/widget/deploy/status.json",
            site.admin_view(status),
            name="agents_agent_widget_deploy_status",
        ),
    ]
