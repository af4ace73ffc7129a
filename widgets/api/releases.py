"""Publishing an agent's widget over the API: publish, releases with diffs, rollback.

Under `/api/v2/agents/<agent id>/widget/`: members read, owners and admins (and write API
keys) publish and roll back; another workspace's agent is a plain 404. The rules are in
widgets.publishing.releases.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.knowledge import AgentScoped
from core.errors import InvalidRequest, NotFound
from core.openapi import error_responses
from core.typed_input import TypedInput
from widgets.models import WidgetConfig, WidgetRelease
from widgets.publishing.releases import (
    MAX_NOTE,
    Against,
    release_diff,
    widget_publish,
    widget_release_get,
    widget_release_rollback,
    widget_releases,
)

NOTHING_TO_PUBLISH = error_responses(
    409, e409="nothing_to_publish: visitors already see this configuration"
)


class ReleaseOut(serializers.ModelSerializer[WidgetRelease]):
    createdBy = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    rollbackOf = serializers.SerializerMethodField()
    isLive = serializers.SerializerMethodField()

    class Meta:
        model = WidgetRelease
        fields = ["version", "note", "createdBy", "createdAt", "rollbackOf", "isLive"]
        read_only_fields = fields

    def get_createdBy(self, release: WidgetRelease) -> str | None:  # noqa: N802
        return release.created_by.get_username() if release.created_by else None

    def get_rollbackOf(self, release: WidgetRelease) -> int | None:  # noqa: N802
        return release.rollback_of.version if release.rollback_of else None

    def get_isLive(self, release: WidgetRelease) -> bool:  # noqa: N802
        return bool(release.pk == self.context.get("live_id"))


class ReleaseDetailOut(ReleaseOut):
    snapshot = serializers.JSONField()

    class Meta(ReleaseOut.Meta):
        fields = [*ReleaseOut.Meta.fields, "snapshot"]
        read_only_fields = fields


class ChangeOut(serializers.Serializer[Any]):
    # In get_fields: `label` is also a serializer's own attribute.
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "path": serializers.CharField(help_text="theme.primaryColor"),
            "label": serializers.CharField(help_text="Theme > Primary color"),
            "change": serializers.ChoiceField(choices=["added", "removed", "changed"]),
            "before": serializers.JSONField(allow_null=True),
            "after": serializers.JSONField(allow_null=True),
            "text": serializers.CharField(help_text="One line for people."),
        }


class DiffOut(serializers.Serializer[Any]):
    against = serializers.ChoiceField(choices=["previous", "draft", "live", "version"])
    againstVersion = serializers.IntegerField(allow_null=True)
    changes = ChangeOut(many=True)


class ReleaseWithDiffOut(ReleaseDetailOut):
    """A release as the API answers it: with its diff (ReleasesScoped.detail)."""

    diff = DiffOut(read_only=True)

    class Meta(ReleaseDetailOut.Meta):
        fields = [*ReleaseDetailOut.Meta.fields, "diff"]
        read_only_fields = fields


class PublishIn(TypedInput):
    note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True)


class RollbackIn(PublishIn):
    restoreDraft = serializers.BooleanField(required=False, default=False)


class ReleasesScoped(AgentScoped):
    def live_id(self) -> int | None:
        return (
            WidgetConfig.objects.filter(agent=self.agent())
            .values_list("published_release_id", flat=True)
            .first()
        )

    def release(self) -> WidgetRelease:
        release = widget_release_get(self.agent(), int(self.kwargs["version"]))
        if release is None:
            raise NotFound("This agent has no such release.")
        return release

    def detail(self, release: WidgetRelease, against: Against = "previous") -> dict[str, Any]:
        data = dict(ReleaseDetailOut(release, context={"live_id": self.live_id()}).data)
        data["diff"] = release_diff(release, against=against)
        return data


class WidgetPublishView(ReleasesScoped):
    """Make the draft live as the next version; `409 nothing_to_publish` when it is the
    same as the live release."""

    serializer_class = ReleaseDetailOut

    @extend_schema(request=PublishIn, responses={201: ReleaseWithDiffOut, **NOTHING_TO_PUBLISH})
    def post(self, request: Request, agent_id: str) -> Response:
        incoming = PublishIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        release = widget_publish(
            agent=self.agent(), by=request.user, note=incoming.validated_data.get("note", "")
        )
        return Response(self.detail(release), status=status.HTTP_201_CREATED)


class WidgetReleaseList(ReleasesScoped, generics.ListAPIView[WidgetRelease]):
    """The agent's releases, newest first: who published each, when, and which is live."""

    serializer_class = ReleaseOut

    def get_queryset(self) -> QuerySet[WidgetRelease]:
        if getattr(self, "swagger_fake_view", False):
            return WidgetRelease.objects.none()
        return widget_releases(self.agent())

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            context["live_id"] = self.live_id()
        return context


class WidgetReleaseDetail(ReleasesScoped):
    """One release with its snapshot and a readable diff, by default against the version
    before it; `?against=draft|live|<version>` compares with something else."""

    serializer_class = ReleaseDetailOut

    @extend_schema(
        parameters=[OpenApiParameter("against", str, description="previous, draft, live or N")],
        responses={200: ReleaseWithDiffOut},
    )
    def get(self, request: Request, agent_id: str, version: int) -> Response:
        raw = request.query_params.get("against", "previous")
        against: Against
        if raw in ("previous", "draft", "live"):
            against = raw  # type: ignore[assignment]
        elif raw.isdigit():
            against = int(raw)
        else:
            raise InvalidRequest("'against' must be previous, draft, live or a version number.")
        return Response(self.detail(self.release(), against))


class WidgetReleaseRollback(ReleasesScoped):
    """Publish this release's snapshot again as a new version (`restoreDraft` brings the
    draft back to it too)."""

    serializer_class = ReleaseDetailOut

    @extend_schema(request=RollbackIn, responses={201: ReleaseWithDiffOut, **NOTHING_TO_PUBLISH})
    def post(self, request: Request, agent_id: str, version: int) -> Response:
        incoming = RollbackIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        release = widget_release_rollback(
            release=self.release(),
            by=request.user,
            note=data.get("note", ""),
            restore_draft=data["restoreDraft"],
        )
        return Response(self.detail(release), status=status.HTTP_201_CREATED)
