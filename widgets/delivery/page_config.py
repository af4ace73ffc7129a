"""The page config: what a page view needs before its visitor shows any intent.

`GET /api/v2/widget/config/<agentId>` (widgets.api.page_config) serves it to the loader
(frontend/src/loader.js) on every page view that has no conversation to restore. It is
the same for every visitor and every site, so browsers and a CDN may cache it: the
published config without the agent's CSS, whether guests see the launcher, the launcher's
paint and the proactive trigger compiled for the loader. Nothing private and nothing per
visitor: A/B variants apply from the session on (docs/widget-api.md).

It is made from the agent's widget snapshot (widgets.delivery.snapshots, the session's own), and
each process keeps it rendered, with the bytes a response sends, for as long as the
snapshot's stamp holds: a publish, a rollback, a domain or identity change reach the next
request at once, and an unchanged agent costs one stamp read.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TypedDict

from widgets.config.launcher_paint import LauncherPaint, launcher_paint
from widgets.config.triggers import TriggerPlan, trigger_plan
from widgets.delivery.public_config import PageConfig, PublicConfig
from widgets.delivery.snapshots import WidgetSnapshot, widget_snapshot

# Rendered documents kept per process (a couple of KiB each).
MAX_RENDERED = 2_000


class PublicWidgetDocument(TypedDict):
    config: PageConfig
    # The agent chats with verified customers only: the loader shows no launcher to a
    # visitor the page did not give a customer token or user hash.
    identityRequired: bool
    launcher: LauncherPaint
    trigger: TriggerPlan | None


@dataclass(frozen=True)
class RenderedDocument:
    """The document as a response sends it, and the origins that may embed the agent."""

    body: bytes
    etag: str
    allowed_domains: tuple[str, ...]
    stamp: str  # the snapshot's: the document is current while the agent's stamp is


def page_config_document(config: PublicConfig, *, identity_required: bool) -> PublicWidgetDocument:
    """The document for an agent's published config (`config`, no variant applied)."""
    page: PageConfig = {
        "agentId": config["agentId"],
        "name": config["name"],
        "greeting": config["greeting"],
        "avatarUrl": config["avatarUrl"],
        "theme": config["theme"],
        "position": config["position"],
        "features": config["features"],
        "triggers": config["triggers"],
        "starterPrompts": config["starterPrompts"],
    }
    return {
        "config": page,
        "identityRequired": identity_required,
        "launcher": launcher_paint(config),
        "trigger": trigger_plan(
            config["triggers"], consent_first="consent_first" in config["features"]
        ),
    }


def _render(snapshot: WidgetSnapshot) -> RenderedDocument:
    document = page_config_document(snapshot.config, identity_required=snapshot.identity_required)
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return RenderedDocument(
        body=body,
        # Weak: a proxy that compresses the body still answers the same document.
        etag='W/"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        allowed_domains=tuple(snapshot.allowed_domains),
        stamp=snapshot.stamp,
    )


class _Rendered:
    """This process's rendered documents, by agent; the least recently used go first."""

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._documents: OrderedDict[str, RenderedDocument] = OrderedDict()
        self._limit = limit

    def get(self, snapshot: WidgetSnapshot) -> RenderedDocument:
        with self._lock:
            held = self._documents.get(snapshot.public_id)
            if held is not None and held.stamp == snapshot.stamp:
                self._documents.move_to_end(snapshot.public_id)
                return held
        rendered = _render(snapshot)
        with self._lock:
            self._documents[snapshot.public_id] = rendered
            self._documents.move_to_end(snapshot.public_id)
            while len(self._documents) > self._limit:
                self._documents.popitem(last=False)
        return rendered


_rendered = _Rendered(limit=MAX_RENDERED)


def widget_page_config(agent_public_id: str) -> RenderedDocument | None:
    """An active agent's page config, rendered; None when no active agent has this id."""
    snapshot = widget_snapshot(agent_public_id)
    return None if snapshot is None else _rendered.get(snapshot)
