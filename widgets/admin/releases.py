"""Admin pages for publishing: releases and rollback, presets, JSON export and import,
duplicating an agent, and the widget code builds (superusers).

Thin views over widgets.publishing (releases, bulk, core_builds), wired into AgentAdmin
by `release_urls` and the `widget_releases` read-only field. Members of the agent's
workspace see these pages; only its owners and admins change anything (403), and
another workspace's agent is a 404.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ModelAdmin
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from agents.models import Agent
from core.errors import ApiError
from security.untrusted_json import UntrustedJsonError, untrusted_json_loads
from widgets.admin.pages import admin_link, agent_for_admin, agent_page, require_manager
from widgets.config.diff import config_diff
from widgets.config.presets import PRESETS
from widgets.models import CoreBuild, CoreChannel
from widgets.publishing.bulk import (
    agent_duplicate,
    widget_export,
    widget_import,
    widget_preset_apply,
)
from widgets.publishing.core_builds import asset_available, core_channel_move
from widgets.publishing.drafts import widget_draft_state
from widgets.publishing.releases import (
    release_diff,
    widget_draft_changes,
    widget_draft_restore,
    widget_publish,
    widget_release_get,
    widget_release_rollback,
    widget_releases,
)
from widgets.selectors import widget_config_of, widgets_pinned_to
from workspaces.permissions import may_manage

MAX_IMPORT_BYTES = 200_000


class ImportForm(forms.Form):
    document = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14, "cols": 90, "spellcheck": "false"}),
        required=False,
        label="Paste the JSON",
    )
    upload = forms.FileField(required=False, label="…or upload the exported file")


def releases_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    agent = agent_for_admin(request, model_admin, object_id)
    if request.method == "POST":
        require_manager(request, agent)
        action = request.POST.get("action", "")
        try:
            if action == "publish":
                release = widget_publish(
                    agent=agent, by=request.user, note=request.POST.get("note", "")
                )
                messages.success(request, f"Published v{release.version}: visitors see it now.")
            elif action in ("rollback", "restore"):
                target = widget_release_get(agent, int(request.POST.get("version") or 0))
                if target is None:
                    raise Http404
                if action == "rollback":
                    release = widget_release_rollback(
                        release=target,
                        by=request.user,
                        restore_draft=request.POST.get("restore_draft") == "on",
                    )
                    messages.success(
                        request, f"Rolled back: v{release.version} republishes v{target.version}."
                    )
                else:
                    widget_draft_restore(release=target, by=request.user)
                    messages.success(request, f"The draft is v{target.version} again (not live).")
        except ApiError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(admin_link("widget_releases", agent))
    rows = []
    previous: dict[str, Any] | None = None
    for release in reversed(list(widget_releases(agent)[:100])):
        changes = config_diff(previous, release.snapshot) if previous is not None else []
        first = release.version == 1
        rows.append({"release": release, "changes": changes, "first": first})
        previous = release.snapshot
    rows.reverse()
    state = widget_draft_state(agent)
    return agent_page(
        request,
        model_admin,
        "releases.html",
        agent,
        title=f"Widget releases: {agent.name}",
        rows=rows,
        state=state,
        pending=widget_draft_changes(agent),
    )


def release_detail_view(
    request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str, version: int
) -> HttpResponse:
    agent = agent_for_admin(request, model_admin, object_id)
    release = widget_release_get(agent, version)
    if release is None:
        raise Http404
    return agent_page(
        request,
        model_admin,
        "release_detail.html",
        agent,
        title=f"{agent.name}: widget v{release.version}",
        release=release,
        previous=release_diff(release, against="previous"),
        draft=release_diff(release, against="draft"),
        snapshot=json.dumps(release.snapshot, indent=2, ensure_ascii=False),
    )


def presets_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    agent = agent_for_admin(request, model_admin, object_id)
    if request.method == "POST":
        require_manager(request, agent)
        try:
            widget_preset_apply(
                agent=agent, preset_key=request.POST.get("preset", ""), by=request.user
            )
        except ApiError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(admin_link("widget_presets", agent))
        messages.success(request, "Preset applied to the draft. Review it, then publish.")
        return HttpResponseRedirect(admin_link("widget_releases", agent))
    return agent_page(
        request,
        model_admin,
        "presets.html",
        agent,
        title=f"Start {agent.name}'s widget from a preset",
        presets=[{**p, "json": json.dumps(p["widget"], indent=2)} for p in PRESETS],
    )


def export_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    agent = agent_for_admin(request, model_admin, object_id)
    body = json.dumps(widget_export(agent), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="widget-{agent.public_id}.json"'
    return response


def import_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    agent = agent_for_admin(request, model_admin, object_id)
    form = ImportForm()
    if request.method == "POST":
        require_manager(request, agent)
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data.get("upload")
            if upload is not None and upload.size > MAX_IMPORT_BYTES:
                form.add_error("upload", f"At most {MAX_IMPORT_BYTES:,} bytes.")
            else:
                text = upload.read().decode("utf-8", "replace") if upload else ""
                text = text or form.cleaned_data.get("document") or ""
                try:
                    document = untrusted_json_loads(text)
                    widget_import(agent=agent, document=document, by=request.user)
                except UntrustedJsonError as exc:
                    form.add_error(
                        None,
                        f"That is not JSON we can import: it {exc}. Export a widget to see "
                        "the format.",
                    )
                except ApiError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, "Imported into the draft. Review it, then publish.")
                    return HttpResponseRedirect(admin_link("widget_releases", agent))
    return agent_page(
        request,
        model_admin,
        "import.html",
        agent,
        title=f"Import a widget into {agent.name}",
        form=form,
    )


def duplicate_view(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Any:
    agent = agent_for_admin(request, model_admin, object_id)
    if request.method != "POST":
        return HttpResponseRedirect(admin_link("widget_releases", agent))
    require_manager(request, agent)
    copy = agent_duplicate(agent=agent, by=request.user, name=request.POST.get("name", ""))
    messages.success(request, f"Created {copy.name} ({copy.public_id}). It shows its draft.")
    return HttpResponseRedirect(reverse("admin:agents_agent_change", args=[copy.pk]))


def release_urls(model_admin: ModelAdmin[Agent]) -> list[URLPattern]:
    """The pages above, under /admin/agents/agent/<id>/, for AgentAdmin.get_urls."""
    wrap = model_admin.admin_site.admin_view

    def bound(view: Any) -> Any:
        return wrap(lambda request, *args, **kwargs: view(request, model_admin, *args, **kwargs))

    return [
        path(
            "<path:object_id>/widget/releases/",
            bound(releases_view),
            name="agents_agent_widget_releases",
        ),
        path(
            "<path:object_id>/widget/releases/<int:version>/",
            bound(release_detail_view),
            name="agents_agent_widget_release",
        ),
        path(
            "<path:object_id>/widget/presets/",
            bound(presets_view),
            name="agents_agent_widget_presets",
        ),
        path(
            "<path:object_id>/widget/export/", bound(export_view), name="agents_agent_widget_export"
        ),
        path(
            "<path:object_id>/widget/import/", bound(import_view), name="agents_agent_widget_import"
        ),
        path("<path:object_id>/duplicate/", bound(duplicate_view), name="agents_agent_duplicate"),
    ]


def releases_summary(agent: Agent) -> str:
    """The read-only field on the agent's page: what is live, and the way to the pages."""
    if not agent.pk:
        return "Save the agent first."
    config = widget_config_of(agent)
    live = config.published_release if config else None
    if live is None:
        status = "Never published: visitors see the draft below as you save it."
    else:
        pending = widget_draft_changes(agent)
        status = f"Live: v{live.version}" + (
            f" · {len(pending)} unpublished change(s) in the draft"
            if pending
            else " · draft = live"
        )
    code = (
        f"code pinned to {config.core_version}"
        if config and config.core_version
        else "code: stable"
    )
    return format_html(
        "<span data-ca='release-status'>{}</span> · {} · "
        "<a href='{}' data-ca='releases-link'>Publish and releases &rarr;</a> · "
        "<a href='{}'>Presets</a> · <a href='{}'>Export JSON</a> · <a href='{}'>Import JSON</a>",
        status,
        code,
        admin_link("widget_releases", agent),
        admin_link("widget_presets", agent),
        admin_link("widget_export", agent),
        admin_link("widget_import", agent),
    )


@admin.action(description="Duplicate the selected agents (with widget and knowledge)")
def duplicate_agents(
    model_admin: ModelAdmin[Agent], request: HttpRequest, queryset: QuerySet[Agent]
) -> None:
    made = [
        agent_duplicate(agent=agent, by=request.user)
        for agent in queryset
        if may_manage(request.user, agent.workspace_id)
    ]
    if made:
        messages.success(request, "Created " + ", ".join(a.name for a in made) + ".")
    else:
        messages.error(request, "Only owners and admins of a workspace may duplicate its agents.")


# --- Widget code builds: platform-wide, superusers only ----------------------------------


class SuperuserOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # builds come from `manage.py widget_core_register`

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CoreBuild)
class CoreBuildAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ["version", "created_at", "size_gzip", "stable", "pinned_agents", "on_disk"]
    search_fields = ["version"]
    readonly_fields = [f.name for f in CoreBuild._meta.fields]
    actions = ["make_stable"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CoreBuild]:
        builds: QuerySet[CoreBuild] = super().get_queryset(request)
        return builds.annotate(channel_count=Count("channels"))

    @admin.display(boolean=True, description="Stable")
    def stable(self, build: CoreBuild) -> bool:
        return bool(getattr(build, "channel_count", 0))

    @admin.display(description="Pinned agents")
    def pinned_agents(self, build: CoreBuild) -> int:
        return widgets_pinned_to(build.version)

    @admin.display(boolean=True, description="Served here")
    def on_disk(self, build: CoreBuild) -> bool:
        return asset_available(build.path)

    @admin.action(description="Make stable (every unpinned agent loads it: global rollback)")
    def make_stable(self, request: HttpRequest, queryset: QuerySet[CoreBuild]) -> None:
        if queryset.count() != 1:
            messages.error(request, "Choose exactly one build.")
            return
        build = queryset.get()
        try:
            core_channel_move(build=build, by=request.user)
        except ApiError as exc:
            messages.error(request, exc.message)
            return
        messages.success(request, f"Stable is now {build.version}; sites follow within minutes.")


@admin.register(CoreChannel)
class CoreChannelAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ["name", "build", "updated_by", "updated_at"]
