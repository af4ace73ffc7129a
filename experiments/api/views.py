"""A/B experiments for integrators: `/api/v2/experiments/`, their results and promotion.

Members of a workspace read its experiments; its owners and admins (and write API keys)
change them. Another workspace's experiment, or an agent that is not yours, is a plain
404. The rules are in `experiments.services`; these views only translate.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Agent
from core.errors import InvalidRequest
from core.openapi import error_responses
from core.typed_input import TypedInput
from experiments.models import Experiment, ExperimentResult, ExperimentVariant
from experiments.results import experiment_latest_result
from experiments.services import (
    MIN_SAMPLES,
    VariantIn,
    experiment_create,
    experiment_delete,
    experiment_promote,
    experiment_start,
    experiment_stop,
    experiment_update,
)
from experiments.stats import CONFIDENCE_MAX, CONFIDENCE_MIN
from workspaces.permissions import may_manage
from workspaces.scoping import scope_to_user

DEFAULT_WEIGHT = 50
# API field -> model field, for the settings an integrator may send.
SETTINGS = {
    "name": "name",
    "primaryMetric": "primary_metric",
    "minSamplesPerVariant": "min_samples_per_variant",
    "confidence": "confidence",
    "autoPromote": "auto_promote",
}


class VariantIO(TypedInput, serializers.ModelSerializer[ExperimentVariant]):
    key = serializers.CharField(max_length=40)
    weight = serializers.IntegerField(min_value=1, max_value=1000, default=DEFAULT_WEIGHT)
    overrides = serializers.JSONField(required=False, default=dict)

    class Meta:
        model = ExperimentVariant
        fields = ["key", "weight", "overrides"]


class ExperimentOut(serializers.ModelSerializer[Experiment]):
    agentId = serializers.CharField(source="agent.public_id", read_only=True)
    primaryMetric = serializers.CharField(source="primary_metric", read_only=True)
    minSamplesPerVariant = serializers.IntegerField(source="min_samples_per_variant")
    autoPromote = serializers.BooleanField(source="auto_promote")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    endedAt = serializers.DateTimeField(source="ended_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    variants = VariantIO(many=True, read_only=True)

    class Meta:
        model = Experiment
        fields = [
            "id",
            "agentId",
            "key",
            "name",
            "status",
            "primaryMetric",
            "minSamplesPerVariant",
            "confidence",
            "autoPromote",
            "startedAt",
            "endedAt",
            "winner",
            "createdAt",
            "variants",
        ]
        read_only_fields = fields


class ExperimentSettingsIn(TypedInput):
    name = serializers.CharField(max_length=120, required=False)
    primaryMetric = serializers.ChoiceField(choices=Experiment.Metric.choices, required=False)
    minSamplesPerVariant = serializers.IntegerField(min_value=MIN_SAMPLES, required=False)
    confidence = serializers.FloatField(
        min_value=CONFIDENCE_MIN, max_value=CONFIDENCE_MAX, required=False
    )
    autoPromote = serializers.BooleanField(required=False)
    variants = VariantIO(many=True, required=False)


class ExperimentCreateIn(ExperimentSettingsIn):
    agentId = serializers.CharField(max_length=40)
    key = serializers.CharField(max_length=40)
    variants = VariantIO(many=True)


class ExperimentUpdateIn(ExperimentSettingsIn):
    status = serializers.ChoiceField(
        choices=[Experiment.Status.RUNNING, Experiment.Status.STOPPED], required=False
    )


class PromoteIn(TypedInput):
    variant = serializers.CharField(max_length=40, required=False)


class ResultOut(serializers.ModelSerializer[ExperimentResult]):
    computedAt = serializers.DateTimeField(source="computed_at", allow_null=True)  # not yet
    pValue = serializers.FloatField(source="p_value", allow_null=True)

    class Meta:
        model = ExperimentResult
        fields = ["computedAt", "variants", "pValue", "verdict", "winner"]
        read_only_fields = fields


def _settings(data: dict[str, Any]) -> dict[str, Any]:
    return {model: data[api] for api, model in SETTINGS.items() if api in data}


def _variants(data: dict[str, Any]) -> list[VariantIn] | None:
    if "variants" not in data:
        return None
    return [
        VariantIn(v["key"], v.get("weight", DEFAULT_WEIGHT), v.get("overrides") or {})
        for v in data["variants"]
    ]


def experiments_visible_to(user: Any) -> QuerySet[Experiment]:
    rows = Experiment.objects.select_related("agent").prefetch_related("variants")
    return scope_to_user(rows, user)


def _require_manager(user: Any, workspace_id: int) -> None:
    if not may_manage(user, workspace_id):
        raise PermissionDenied("Only the workspace's owners and admins may change experiments.")


class ExperimentList(generics.ListAPIView[Experiment]):
    """Your workspaces' experiments, newest first; `POST` creates a draft."""

    serializer_class = ExperimentOut

    @extend_schema(
        parameters=[
            OpenApiParameter("agent", str, description="An agent id (agt_…)."),
            OpenApiParameter("status", str, description="draft, running, stopped, completed"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Experiment]:
        rows = experiments_visible_to(self.request.user)
        if agent := self.request.query_params.get("agent"):
            rows = rows.filter(agent__public_id=agent)
        if wanted := self.request.query_params.get("status"):
            if wanted not in Experiment.Status.values:
                raise InvalidRequest(f"'status' must be one of {', '.join(Experiment.Status)}.")
            rows = rows.filter(status=wanted)
        return rows.order_by("-created_at", "-id")

    @extend_schema(
        request=ExperimentCreateIn,
        responses={201: ExperimentOut, **error_responses(404, e404="not_found: no such agent")},
    )
    def post(self, request: Request) -> Response:
        incoming = ExperimentCreateIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        agents = scope_to_user(Agent.objects.all(), request.user)  # type: ignore[arg-type]
        agent = get_object_or_404(agents, public_id=data["agentId"])
        _require_manager(request.user, agent.workspace_id)
        experiment = experiment_create(
            agent=agent,
            key=data["key"],
            name=data.get("name", ""),
            variants=_variants(data) or [],
            **{k: v for k, v in _settings(data).items() if k != "name"},
        )
        fresh = experiments_visible_to(request.user).get(pk=experiment.pk)
        return Response(ExperimentOut(fresh).data, status=status.HTTP_201_CREATED)


class ExperimentScoped(generics.GenericAPIView[Any]):
    def experiment(self) -> Experiment:
        return get_object_or_404(
            experiments_visible_to(self.request.user), pk=self.kwargs["experiment_id"]
        )


class ExperimentDetail(ExperimentScoped):
    """One experiment. `PATCH` changes settings, variants (drafts only) and `status`
    (`running` starts a draft, `stopped` stops it)."""

    serializer_class = ExperimentOut

    def get(self, request: Request, experiment_id: int) -> Response:
        return Response(ExperimentOut(self.experiment()).data)

    @extend_schema(request=ExperimentUpdateIn, responses=ExperimentOut)
    def patch(self, request: Request, experiment_id: int) -> Response:
        experiment = self.experiment()
        _require_manager(request.user, experiment.workspace_id)
        incoming = ExperimentUpdateIn(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        experiment = experiment_update(
            experiment=experiment, fields=_settings(data), variants=_variants(data)
        )
        wanted = data.get("status")
        if wanted == Experiment.Status.RUNNING and experiment.status != wanted:
            experiment_start(experiment=experiment, by=request.user)
        elif wanted == Experiment.Status.STOPPED and experiment.status != wanted:
            experiment_stop(experiment=experiment, by=request.user)
        return Response(ExperimentOut(self.experiment()).data)

    @extend_schema(
        responses={
            204: None,
            **error_responses(400, e400="invalid_experiment: stop it before deleting it"),
        }
    )
    def delete(self, request: Request, experiment_id: int) -> Response:
        experiment = self.experiment()
        _require_manager(request.user, experiment.workspace_id)
        experiment_delete(experiment=experiment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExperimentResults(ExperimentScoped):
    """The latest computed results (every 15 minutes while it runs) and the verdict."""

    serializer_class = ResultOut

    def get(self, request: Request, experiment_id: int) -> Response:
        result = experiment_latest_result(self.experiment())
        if result is None:
            return Response(
                {"computedAt": None, "variants": {}, "pValue": None, "verdict": "", "winner": ""}
            )
        return Response(ResultOut(result).data)


class ExperimentPromote(ExperimentScoped):
    """Write a variant (default: the computed winner) into the agent's widget config and
    complete the experiment."""

    serializer_class = ExperimentOut

    @extend_schema(request=PromoteIn, responses=ExperimentOut)
    def post(self, request: Request, experiment_id: int) -> Response:
        experiment = self.experiment()
        _require_manager(request.user, experiment.workspace_id)
        incoming = PromoteIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        experiment_promote(
            experiment=experiment,
            variant_key=incoming.validated_data.get("variant"),
            by=request.user,
        )
        return Response(ExperimentOut(self.experiment()).data)
