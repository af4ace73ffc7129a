"""Bodies are taken as typed: a string field does not take 5, a boolean does not take "yes"."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from agents.models import Agent, KnowledgeArticle
from core.typed_input import json_type_problem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (serializers.CharField(), 5),
        (serializers.BooleanField(), "yes"),
        (serializers.BooleanField(), 1),
        (serializers.IntegerField(), "5"),
        (serializers.IntegerField(), True),
        (serializers.FloatField(), "0.9"),
        (serializers.ListField(child=serializers.CharField()), ["a", 2]),
        (serializers.DictField(child=serializers.CharField()), {"a": 2}),
    ],
)
def test_it_names_a_value_of_another_type(field: Any, value: Any) -> None:
    assert json_type_problem(field, value) is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (serializers.CharField(), "5"),
        (serializers.BooleanField(), False),
        (serializers.IntegerField(), 5),
        (serializers.FloatField(), 5),
        (serializers.CharField(allow_null=True), None),
        (serializers.ListField(child=serializers.CharField()), ["a"]),
    ],
)
def test_it_takes_a_value_of_the_declared_type(field: Any, value: Any) -> None:
    assert json_type_problem(field, value) is None


def test_a_number_for_a_title_is_refused_and_nothing_changes(owner: Any, agent: Agent) -> None:
    client = APIClient()
    client.force_authenticate(owner)
    article = agent.articles.order_by("id").first()
    assert article is not None
    response = client.patch(
        f"/api/v2/agents/{agent.public_id}/knowledge/{article.pk}",
        {"title": 42, "isPublished": "yes"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"title", "isPublished"}
    assert KnowledgeArticle.objects.get(pk=article.pk).title == article.title
