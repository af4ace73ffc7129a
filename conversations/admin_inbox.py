"""The live inbox page in the admin (`/admin/inbox/`).

The page is a shell: the list of open conversations as they are when it loads, and the
panes that `frontend/src/admin/inbox.js` fills and keeps live over the
staff websocket (`/ws/inbox/`, conversations.sockets.inbox_consumer). No inline script:
the platform's CSP allows scripts only from itself.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from conversations.inbox_selectors import inbox_conversations, inbox_workspace_ids
from conversations.models import Conversation


def inbox_page(request: HttpRequest) -> HttpResponse:
    """Staff of at least one workspace (superusers: all) see their open conversations."""
    if not inbox_workspace_ids(request.user):
        raise PermissionDenied("The inbox is for members of a workspace.")
    context = {
        **admin.site.each_context(request),
        "title": "Inbox",
        "opts": Conversation._meta,
        "conversations": inbox_conversations(user=request.user),
    }
    response = TemplateResponse(request, "admin/conversations/inbox.html", context)
    add_never_cache_headers(response)
    return response
