"""The widget customizer in the admin: the draft's form beside the real widget in a preview
frame that follows every unsaved change (frontend/src/admin/customize.js).

Thin views over widgets.publishing.drafts (save, check) and widgets.delivery.assets (logo).
Members of the agent's workspace see the page and the preview; only its owners and admins
save or upload (403); another workspace's agent is a 404 everywhere, the preview and the
checks included.
"""

from __future__ import annotations

from typing import Any

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib.admin import ModelAdmin
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.views.decorators.clickjacking import xframe_options_sameorigin

from agents.models import Agent
from core.errors import ApiError
from security.untrusted_json import UntrustedJsonError, untrusted_json_loads
from widgets.admin.pages import admin_link, agent_for_admin, agent_page, require_manager
from widgets.config.validation import (
    APPEARANCE_FIELDS,
    DOMAIN_FIELDS,
    MAX_CUSTOM_CSS,
    MAX_GREETING,
    MAX_PROMPT_LENGTH,
    MAX_PROMPTS,
    WidgetConfigInvalid,
)
from widgets.delivery.assets import MAX_ASSET_BYTES, MAX_ASSET_SIDE
from widgets.delivery.custom_domains import custom_domain_check
from widgets.publishing.drafts import (
    widget_draft_check,
    widget_draft_state,
    widget_draft_update,
    widget_logo_upload,
)
from widgets.selectors import widget_config_of, widget_draft_public_config

# What the customizer edits: appearance (published with a release) and the custom domain.
CUSTOMIZER_FIELDS = (*APPEARANCE_FIELDS, *DOMAIN_FIELDS)
MAX_BODY = MAX_CUSTOM_CSS * 2 + 20_000
FONTS = (
    ("", "The widget's default (the system font)"),
    ("Inter, system-ui, sans-serif", "Inter"),
    ("Helvetica Neue, Helvetica, Arial, sans-serif", "Helvetica / Arial"),
    ("Georgia, 'Times New Roman', serif", "Georgia (serif)"),
    ("'Trebuchet MS', Verdana, sans-serif", "Trebuchet / Verdana"),
    ("ui-rounded, 'SF Pro Rounded', system-ui, sans-serif", "Rounded"),
    ("ui-monospace, Menlo, Consolas, monospace", "Monospace"),
)
COLOURS = (
    ("primaryColor", "Primary"),
    ("backgroundColor", "Background"),
    ("textColor", "Text"),
)
ICONS = (("chat", "Chat bubble"), ("forum", "Two bubbles"), ("bolt", "Lightning bolt"))
MODES = (("light", "Light"), ("dark", "Dark"), ("auto", "Auto (the visitor's system)"))
FEATURES = (
    ("chat", "Chat", "The conversation itself."),
    ("white_label", "Hide “Powered by”", "White label: no platform footer."),
    (
        "consent_first",
        "Consent first",
        "Store nothing in the visitor's browser until they open the chat.",
    ),
)


def _json(value: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(value, status=status, encoder=DjangoJSONEncoder)


def _values(request: HttpRequest) -> dict[str, Any]:
    """The JSON object posted by customize.js, keeping only the customizer's fields."""
    if len(request.body) > MAX_BODY:
        raise WidgetConfigInvalid({"body": "too large"})
    try:
        values = untrusted_json_loads(request.body or b"{}")
    except UntrustedJsonError as exc:
        raise WidgetConfigInvalid({"body": str(exc)}) from None
    if not isinstance(values, dict):
        raise WidgetConfigInvalid({"body": "not a JSON object"})
    return {name: values[name] for name in CUSTOMIZER_FIELDS if name in values}


def _error(exc: ApiError) -> JsonResponse:
    errors = getattr(exc, "errors", {})
    return _json({"error": {"code": exc.code, "message": exc.message}, "errors": errors}, 400)


def customize_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    agent = agent_for_admin(request, model_admin, object_id)
    if request.method == "POST":  # "Save draft" (customize.js posts the form as JSON)
        require_manager(request, agent)
        try:
            widget_draft_update(agent=agent, values=_values(request), by=request.user)
        except ApiError as exc:
            return _error(exc)
        return _json({"state": widget_draft_state(agent)})
    state = widget_draft_state(agent)
    return agent_page(
        request,
        model_admin,
        "customize.html",
        agent,
        title=f"Customize {agent.name}'s widget",
        state=state,
        fonts=FONTS,
        features=FEATURES,
        colour_fields=COLOURS,
        modes=MODES,
        icons=ICONS,
        prompts=[
            (state["starterPrompts"][i] if i < len(state["starterPrompts"]) else "")
            for i in range(MAX_PROMPTS)
        ],
        limits={
            "css": MAX_CUSTOM_CSS,
            "greeting": MAX_GREETING,
            "prompt": MAX_PROMPT_LENGTH,
            "logoKb": MAX_ASSET_BYTES // 1024,
            "logoSide": MAX_ASSET_SIDE,
        },
        customize_links={
            "preview": admin_link("widget_customize_preview", agent),
            "check": admin_link("widget_customize_check", agent),
            "logo": admin_link("widget_customize_logo", agent),
            "save": admin_link("widget_customize", agent),
            "domainCheck": admin_link("widget_customize_domain_check", agent),
        },
    )


def framed_by_admin(view: Any) -> Any:
    """The customizer (this origin) may frame the view's page; nothing else may."""
    return xframe_options_sameorigin(csp_replace({"frame-ancestors": [SELF]})(view))


@framed_by_admin
def preview_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    """The page inside the customizer's frame: the real widget, offline, drawing the draft
    (and then whatever the customizer posts to it)."""
    agent = agent_for_admin(request, model_admin, object_id)
    config = widget_config_of(agent)
    return TemplateResponse(
        request,
        "admin/widgets/customize_preview.html",
        {"agent": agent, "config": dict(widget_draft_public_config(agent, config))},
    )


def check_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    """What saving would say, without saving: field errors, CSS errors, contrast warnings."""
    agent_for_admin(request, model_admin, object_id)  # another workspace's agent: 404 first
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        values = _values(request)
    except ApiError as exc:
        return _error(exc)
    return _json(widget_draft_check(values))


def logo_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    agent = agent_for_admin(request, model_admin, object_id)
    require_manager(request, agent)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    upload = request.FILES.get("logo")
    if upload is None:
        return _json({"error": {"code": "invalid_asset", "message": "Choose an image."}}, 400)
    if upload.size is not None and upload.size > MAX_ASSET_BYTES:
        message = f"The image is larger than {MAX_ASSET_BYTES // 1024} KB."
        return _json({"error": {"code": "invalid_asset", "message": message}}, 400)
    try:
        url = widget_logo_upload(
            agent=agent,
            data=upload.read(),
            declared_type=upload.content_type or "",
            by=request.user,
        )
    except ApiError as exc:
        return _error(exc)
    return _json({"avatarUrl": url})


def domain_check_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    """The customizer's "Check now": look for the custom domain's TXT record."""
    agent = agent_for_admin(request, model_admin, object_id)
    require_manager(request, agent)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        custom_domain_check(agent=agent, by=request.user)
    except ApiError as exc:
        return _error(exc)
    return _json({"state": widget_draft_state(agent)})


def customize_urls(model_admin: ModelAdmin[Agent]) -> list[URLPattern]:
    """The customizer, its preview frame, the live check and the logo upload."""
    wrap = model_admin.admin_site.admin_view

    def bound(view: Any) -> Any:
        return wrap(lambda request, *args, **kwargs: view(request, model_admin, *args, **kwargs))

    base = "<path:object_id>/widget/customize/"
    return [
        path(base, bound(customize_view), name="agents_agent_widget_customize"),
        path(f"{base}preview/", bound(preview_view), name="agents_agent_widget_customize_preview"),
        path(f"{base}check/", bound(check_view), name="agents_agent_widget_customize_check"),
        path(f"{base}logo/", bound(logo_view), name="agents_agent_widget_customize_logo"),
        path(
            f"{base}domain-check/",
            bound(domain_check_view),
            name="agents_agent_widget_customize_domain_check",
        ),
    ]
