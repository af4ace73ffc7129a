"""The widget draft: reading it with its publishing state, and changing it.

Appearance changes wait for "Publish" (widgets.publishing.releases); allowed domains and rate limits
(security settings), the code pin (`coreVersion`) and the custom domain (`customDomain`)
apply at once and are audited.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, TypedDict

from django.db import transaction

from agents.models import Agent
from security.audit import audit_record, field_changes
from widgets.config.contrast import ContrastWarning, theme_contrast_warnings
from widgets.config.css_check import CssError, css_errors
from widgets.config.diff import config_diff
from widgets.config.validation import (
    APPEARANCE_FIELDS,
    DOMAIN_FIELDS,
    PIN_FIELDS,
    RULES,
    SECURITY_FIELDS,
    WidgetConfigInvalid,
    widget_fields_validate,
)
from widgets.delivery.assets import asset_url, widget_asset_store
from widgets.delivery.custom_domains import (
    DomainState,
    custom_domain_claim,
    custom_domain_state,
    custom_domain_status,
)
from widgets.models import WidgetConfig
from widgets.selectors import widget_draft_public_config

EDITABLE_FIELDS = (*APPEARANCE_FIELDS, *SECURITY_FIELDS, *PIN_FIELDS, *DOMAIN_FIELDS)
# Audited when they change: who may embed, and where the widget is served from.
ACCESS_FIELDS = (*SECURITY_FIELDS, *DOMAIN_FIELDS)


class DraftState(TypedDict):
    agentId: str
    name: str
    theme: dict[str, Any]
    position: str
    customCss: str
    features: list[str]
    starterPrompts: list[str]
    triggers: dict[str, Any]
    greeting: str
    avatarUrl: str
    allowedDomains: list[str]
    rateLimits: dict[str, int]
    coreVersion: str
    customDomain: str
    customDomainStatus: str  # "none", "pending" (not yet proven in DNS) or "verified"
    customDomainVerification: DomainState | None
    publishedVersion: int | None
    publishedAt: datetime | None
    hasUnpublishedChanges: bool
    updatedAt: datetime | None


def widget_draft_state(agent: Agent) -> DraftState:
    """The draft in API field names, with what is live: `publishedVersion` (None until the
    first publish, while visitors see the draft itself) and `hasUnpublishedChanges`."""
    config = WidgetConfig.objects.filter(agent=agent).select_related("published_release").first()
    public = dict(widget_draft_public_config(agent, config))
    live = config.published_release if config else None
    state: dict[str, Any] = {"agentId": agent.public_id, "name": agent.name}
    state.update({name: copy.deepcopy(public[name]) for name in APPEARANCE_FIELDS})
    state.update(
        allowedDomains=list(config.allowed_domains) if config else [],
        rateLimits=dict(config.rate_limits or {}) if config else {},
        coreVersion=config.core_version if config else "",
        customDomain=config.custom_domain if config else "",
        customDomainStatus=custom_domain_status(config),
        customDomainVerification=custom_domain_state(config),
        publishedVersion=live.version if live else None,
        publishedAt=live.created_at if live else None,
        hasUnpublishedChanges=bool(live and config_diff(live.snapshot, public)),
        updatedAt=config.updated_at if config else None,
    )
    return state  # type: ignore[return-value]


def widget_config_locked(agent: Agent) -> tuple[Agent, WidgetConfig]:
    """The agent and its config, fresh and locked for this transaction (so release versions
    are numbered one at a time and edits never interleave)."""
    fresh = Agent.objects.select_for_update().get(pk=agent.pk)
    config, _ = WidgetConfig.objects.select_for_update().get_or_create(agent=fresh)
    return fresh, config


def widget_fields_apply(*, agent: Agent, config: WidgetConfig, values: dict[str, Any]) -> None:
    """Write clean values (API names) onto the config and, for the greeting and avatar,
    the agent; each saved once, so the cache receivers run."""
    changed: dict[str, list[str]] = {"config": [], "agent": []}
    for name, value in values.items():
        _rule, owner, field = RULES[name]
        setattr(config if owner == "config" else agent, field, copy.deepcopy(value))
        changed[owner].append(field)
    if changed["config"]:
        config.save(update_fields=[*changed["config"], "updated_at"])
    if changed["agent"]:
        agent.save(update_fields=[*changed["agent"], "updated_at"])


@transaction.atomic
def widget_draft_update(*, agent: Agent, values: dict[str, Any], by: Any = None) -> WidgetConfig:
    """Change some of the draft's fields (API names, checked by widgets.config.validation).
    WidgetConfigInvalid names every field that breaks a rule; nothing is saved then."""
    clean = widget_fields_validate(values, allowed=EDITABLE_FIELDS)
    agent, config = widget_config_locked(agent)
    before = {
        name: copy.deepcopy(getattr(config, RULES[name][2]))
        for name in (*ACCESS_FIELDS, *PIN_FIELDS)
    }
    if "customDomain" in clean:  # unique, and proven in DNS before it is used
        custom_domain_claim(agent=agent, config=config, domain=clean.pop("customDomain"))
    widget_fields_apply(agent=agent, config=config, values=clean)
    after = {name: getattr(config, RULES[name][2]) for name in before}
    access = field_changes(
        {k: before[k] for k in ACCESS_FIELDS}, {k: after[k] for k in ACCESS_FIELDS}
    )
    if access:
        audit_record(
            action="widget.access_changed",
            target=agent.public_id,
            actor=by,
            workspace_id=agent.workspace_id,
            changes=access,
        )
    pin = field_changes({k: before[k] for k in PIN_FIELDS}, {k: after[k] for k in PIN_FIELDS})
    if pin:
        audit_record(
            action="widget.core_pinned",
            target=agent.public_id,
            actor=by,
            workspace_id=agent.workspace_id,
            changes=pin,
        )
    return config


class DraftCheck(TypedDict):
    errors: dict[str, str]
    cssErrors: list[CssError]
    contrast: list[ContrastWarning]


def widget_draft_check(values: dict[str, Any]) -> DraftCheck:
    """What saving `values` (API names) would say, without saving: each field's problem,
    the custom CSS's syntax errors with their positions, and the theme's contrast warnings
    (advice only: they never block a save)."""
    errors: dict[str, str] = {}
    try:
        widget_fields_validate(values, allowed=EDITABLE_FIELDS)
    except WidgetConfigInvalid as exc:
        errors = exc.errors
    css = values.get("customCss")
    theme = values.get("theme")
    return {
        "errors": errors,
        "cssErrors": css_errors(css) if isinstance(css, str) else [],
        "contrast": theme_contrast_warnings(theme if isinstance(theme, dict) else {}),
    }


def widget_logo_upload(*, agent: Agent, data: bytes, declared_type: str, by: Any) -> str:
    """Store the image and make it the draft's avatar (published with the next release);
    returns its URL."""
    asset = widget_asset_store(
        workspace_id=agent.workspace_id, data=data, declared_type=declared_type, by=by
    )
    url = asset_url(asset)
    widget_draft_update(agent=agent, values={"avatarUrl": url}, by=by)
    return url
