"""Templates and bulk: start a draft from a preset, export and import a widget config as
JSON, duplicate an agent with its widget and knowledge.

The JSON document (what export writes and import reads):
`{"format": "customeragent.widget", "version": 1, "widget": {theme, position, customCss,
features, starterPrompts, triggers, greeting, avatarUrl}}` — appearance and behaviour in the
public config's field names, checked by widgets.config.validation exactly as the admin form is.
Allowed domains and rate limits never travel in a file: they are the security settings of
one deployment. Importing changes the draft only; publishing makes it live.
"""

from __future__ import annotations

import copy
from typing import Any, TypedDict

from django.db import transaction
from django.utils import timezone

from agents.models import Agent, KnowledgeArticle
from core.errors import InvalidRequest
from security.audit import audit_record
from widgets.config.presets import preset_get
from widgets.config.validation import APPEARANCE_FIELDS, widget_fields_validate
from widgets.models import WidgetConfig
from widgets.publishing.drafts import widget_config_locked, widget_fields_apply
from widgets.selectors import widget_draft_public_config

DOCUMENT_FORMAT = "customeragent.widget"
DOCUMENT_VERSION = 1
# Agent fields a duplicate does not take: identity, timestamps, and the sealed model key.
NOT_DUPLICATED = {"id", "public_id", "created_at", "updated_at", "llm_api_key_sealed"}
CONFIG_NOT_DUPLICATED = {"id", "agent", "published_release", "created_at", "updated_at"}


class WidgetDocument(TypedDict):
    format: str
    version: int
    exportedAt: str
    source: dict[str, str]
    widget: dict[str, Any]


class DocumentInvalid(InvalidRequest):
    code = "invalid_widget_document"


def widget_document_from_public(public: dict[str, Any]) -> dict[str, Any]:
    """The document's `widget` part from a public config (the draft's or a snapshot)."""
    return {name: copy.deepcopy(public[name]) for name in APPEARANCE_FIELDS if name in public}


def widget_export(agent: Agent) -> WidgetDocument:
    """The draft's appearance and behaviour as a portable JSON document."""
    return {
        "format": DOCUMENT_FORMAT,
        "version": DOCUMENT_VERSION,
        "exportedAt": timezone.now().isoformat().replace("+00:00", "Z"),
        "source": {"agentId": agent.public_id, "name": agent.name},
        "widget": widget_document_from_public(dict(widget_draft_public_config(agent))),
    }


def widget_document_validate(document: Any) -> dict[str, Any]:
    """The clean `widget` part of an uploaded document; DocumentInvalid for a file that is
    not one, WidgetConfigInvalid (naming every field) for one that breaks the rules."""
    if not isinstance(document, dict):
        raise DocumentInvalid("Expected a JSON object exported from a widget.")
    if document.get("format") != DOCUMENT_FORMAT:
        raise DocumentInvalid(f'Not a widget export: "format" must be "{DOCUMENT_FORMAT}".')
    if document.get("version") != DOCUMENT_VERSION:
        raise DocumentInvalid(f"Unsupported version: this platform reads {DOCUMENT_VERSION}.")
    widget = document.get("widget")
    if not isinstance(widget, dict) or not widget:
        raise DocumentInvalid('"widget" must be an object with at least one setting.')
    return widget_fields_validate(widget, allowed=APPEARANCE_FIELDS)


@transaction.atomic
def widget_import(*, agent: Agent, document: Any, by: Any = None) -> WidgetConfig:
    """Replace the draft's settings named in the document (others stay as they are)."""
    clean = widget_document_validate(document)
    agent, config = widget_config_locked(agent)
    widget_fields_apply(agent=agent, config=config, values=clean)
    source = document.get("source") if isinstance(document.get("source"), dict) else {}
    audit_record(
        action="widget.imported",
        target=agent.public_id,
        actor=by,
        workspace_id=agent.workspace_id,
        changes={"fields": sorted(clean), "source": str(source.get("agentId", ""))[:40]},
    )
    return config


@transaction.atomic
def widget_preset_apply(*, agent: Agent, preset_key: str, by: Any = None) -> WidgetConfig:
    """Start the draft over from a named preset (templates_presets.PRESETS)."""
    preset = preset_get(preset_key)
    if preset is None:
        raise InvalidRequest(f"No preset named {preset_key!r}.", code="unknown_preset")
    clean = widget_fields_validate(preset["widget"], allowed=APPEARANCE_FIELDS)
    agent, config = widget_config_locked(agent)
    widget_fields_apply(agent=agent, config=config, values=clean)
    audit_record(
        action="widget.preset_applied",
        target=agent.public_id,
        actor=by,
        workspace_id=agent.workspace_id,
        changes={"preset": preset["key"]},
    )
    return config


@transaction.atomic
def agent_duplicate(
    *, agent: Agent, by: Any = None, name: str = "", with_knowledge: bool = True
) -> Agent:
    """A new agent in the same workspace with the same settings, widget draft and (by
    default) knowledge articles. Not copied: its public id, identity keys, the sealed model
    key, MCP servers (they hold sealed credentials), releases and conversations — the copy
    shows its draft until it is published."""
    source = Agent.objects.get(pk=agent.pk)
    fields = {
        f.attname: getattr(source, f.attname)
        for f in Agent._meta.concrete_fields
        if f.attname not in NOT_DUPLICATED
    }
    fields["name"] = (name.strip() or f"{source.name} (copy)")[:120]
    copy_agent = Agent.objects.create(**copy.deepcopy(fields))
    config = WidgetConfig.objects.filter(agent=source).first()
    if config is not None:
        WidgetConfig.objects.create(
            agent=copy_agent,
            **copy.deepcopy(
                {
                    f.attname: getattr(config, f.attname)
                    for f in WidgetConfig._meta.concrete_fields
                    if f.name not in CONFIG_NOT_DUPLICATED
                }
            ),
        )
    articles = list(source.articles.all()) if with_knowledge else []
    KnowledgeArticle.objects.bulk_create(
        KnowledgeArticle(
            agent=copy_agent,
            title=a.title,
            body=a.body,
            source_url=a.source_url,
            is_published=a.is_published,
        )
        for a in articles
    )
    audit_record(
        action="agent.duplicated",
        target=copy_agent.public_id,
        actor=by,
        workspace_id=copy_agent.workspace_id,
        changes={"from": source.public_id, "articles": len(articles)},
    )
    return copy_agent
