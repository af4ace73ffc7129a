"""The scoped admin's rule pieces on their own: inline rows, filters, the per-request roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import RequestFactory

from agents.admin import KnowledgeArticleInline
from agents.models import Agent, KnowledgeArticle
from workspaces.models import Membership, Workspace
from workspaces.scoped_admin import ScopedRelatedFieldListFilter, scoped_list_filter

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Any:
    request = RequestFactory().post("/admin/")
    request.user = user
    return request


def article_rows(title: str) -> dict[str, str]:
    return {
        "articles-TOTAL_FORMS": "1",
        "articles-INITIAL_FORMS": "0",
        "articles-0-title": title,
        "articles-0-is_published": "on",
    }


def test_inline_rows_are_judged_in_the_workspace_the_parent_form_chose(
    workspace: Workspace, other_workspace: Workspace, outsider: Any
) -> None:
    """The outsider owns the other workspace and supports this one: a new agent's
    knowledge rows are refused here (before the parent is even saved) and taken there."""
    Membership.objects.create(workspace=workspace, user=outsider, role=Membership.Role.AGENT)
    inline = KnowledgeArticleInline(Agent, admin.site)
    request = signed_in(outsider)
    formset_class = inline.get_formset(request, None)
    here = formset_class(article_rows("Injected"), instance=Agent(workspace=workspace))
    assert not here.is_valid()
    assert "does not allow this" in str(here.non_form_errors())
    there = formset_class(article_rows("Returns"), instance=Agent(workspace=other_workspace))
    assert there.is_valid(), there.errors
    assert not KnowledgeArticle.objects.exists()


def test_relation_filters_become_scoped_ones() -> None:
    assert scoped_list_filter(Agent, "workspace") == ("workspace", ScopedRelatedFieldListFilter)
    assert scoped_list_filter(KnowledgeArticle, "agent__workspace") == (
        "agent__workspace",
        ScopedRelatedFieldListFilter,
    )
    assert scoped_list_filter(Agent, "is_active") == "is_active"
    assert scoped_list_filter(Agent, ("workspace", admin.RelatedFieldListFilter)) == (
        "workspace",
        ScopedRelatedFieldListFilter,
    )
    kept = ("workspace", admin.RelatedOnlyFieldListFilter)
    assert scoped_list_filter(Agent, kept) == kept


def test_a_form_is_judged_in_its_chosen_workspace_even_if_a_choice_slipped_in(
    workspace: Workspace, other_workspace: Workspace, outsider: Any
) -> None:
    """The choices are the first line; the refusal after the form built the object is
    the rule itself (a future admin with its own choices cannot open a hole)."""
    Membership.objects.create(workspace=workspace, user=outsider, role=Membership.Role.AGENT)
    request = signed_in(outsider)
    form_class = admin.site.get_model_admin(KnowledgeArticle).get_form(request)
    agents = {
        w: Agent.objects.create(workspace=w, name=w.name) for w in (workspace, other_workspace)
    }
    for chosen, allowed in ((workspace, False), (other_workspace, True)):
        form = form_class({"agent": agents[chosen].pk, "title": "Policy", "body": "…"})
        # Every agent offered, as a careless admin might:
        form.fields["agent"].queryset = Agent.objects.all()  # type: ignore[attr-defined]
        assert form.is_valid() is allowed, form.errors
        if not allowed:
            assert "does not allow this" in str(form.errors["agent"])
