"""Querysets and writes compiled once per process (conversations.prepared) give exactly what
the ORM gives, and refuse what they cannot prepare."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from agents.models import Agent
from conversations.models import Conversation, Message
from conversations.prepared import PreparedInsert, PreparedQuery, PreparedUpdate
from customers.models import Customer

WITH_PEOPLE: PreparedQuery[Message] = PreparedQuery(
    lambda pk: Message.objects.select_related(
        "conversation__agent", "conversation__customer", "conversation__assigned_to"
    ).filter(pk=pk),
    int,
)


def columns(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.fixture
def conversation(agent: Agent) -> Conversation:
    customer = Customer.objects.create(
        workspace=agent.workspace, external_id="c-1", email="ada@example.com", name="Ada"
    )
    staff = get_user_model().objects.create_user(username="sam", first_name="Sam")
    return Conversation.objects.create(
        agent=agent,
        visitor_id="v-1",
        customer=customer,
        assigned_to=staff,
        origin="https://shop.example.com",
    )


@pytest.mark.django_db
class TestPreparedQuery:
    def test_instances_are_what_the_orm_loads(self, conversation: Conversation) -> None:
        message = Message.objects.create(
            conversation=conversation, role="customer", text="hi", metadata={"a": [1, 2]}
        )
        (prepared,) = WITH_PEOPLE.instances(message.pk)
        loaded = Message.objects.select_related(
            "conversation__agent", "conversation__customer", "conversation__assigned_to"
        ).get(pk=message.pk)
        assert columns(prepared) == columns(loaded)
        assert columns(prepared.conversation) == columns(loaded.conversation)
        for related in ("agent", "customer", "assigned_to"):
            assert columns(getattr(prepared.conversation, related)) == columns(
                getattr(loaded.conversation, related)
            )
        assert prepared._state.adding is False

    def test_missing_people_are_none_and_cost_no_query(
        self, agent: Agent, django_assert_num_queries: Any
    ) -> None:
        bare = Conversation.objects.create(agent=agent, visitor_id="v-2")
        message = Message.objects.create(conversation=bare, role="customer", text="hi")
        (prepared,) = WITH_PEOPLE.instances(message.pk)
        with django_assert_num_queries(0):
            assert prepared.conversation.customer is None
            assert prepared.conversation.assigned_to is None
            assert prepared.conversation.agent.pk == agent.pk

    def test_an_unknown_pk_finds_nothing(self, db: Any) -> None:
        assert WITH_PEOPLE.instances(10**9) == []

    def test_rows_are_the_values_list(self, conversation: Conversation) -> None:
        for text in ("one", "two", "three"):
            Message.objects.create(conversation=conversation, role="customer", text=text)
        newest: PreparedQuery[Message] = PreparedQuery(
            lambda conversation_id, role: (
                Message.objects.filter(conversation_id=conversation_id, role=role)
                .order_by("-id")
                .values_list("text", "created_at")[:2]
            ),
            int,
            str,
        )
        expected = list(
            Message.objects.filter(conversation=conversation)
            .order_by("-id")
            .values_list("text", "created_at")[:2]
        )
        assert newest.rows(conversation.pk, "customer") == expected
        assert newest.rows(conversation.pk, "agent") == []

    def test_an_argument_the_sql_would_change_is_refused(self, db: Any) -> None:
        containing: PreparedQuery[Message] = PreparedQuery(
            lambda text: Message.objects.filter(text__contains=text), str
        )
        with pytest.raises(ValueError, match="exactly once"):
            containing.instances("x")
        with pytest.raises(TypeError):
            PreparedQuery(lambda pk: Message.objects.filter(pk=pk), float).instances(1.0)
        flat: PreparedQuery[Message] = PreparedQuery(
            lambda pk: Message.objects.filter(pk=pk).values_list("pk", flat=True), int
        )
        with pytest.raises(TypeError):
            flat.rows(1)


@pytest.mark.django_db
class TestPreparedWrites:
    def test_an_insert_stores_what_create_would(self, conversation: Conversation) -> None:
        message = Message(
            conversation=conversation, role="agent", text="hello", metadata={"sources": []}
        )
        PreparedInsert(Message).insert(message)
        assert message.pk is not None and message.created_at is not None
        assert columns(Message.objects.get(pk=message.pk)) == columns(message)

    def test_an_insert_breaking_a_constraint_raises_as_save_does(
        self, conversation: Conversation
    ) -> None:
        Message.objects.create(conversation=conversation, role="agent", text="a", client_id="k")
        with pytest.raises(IntegrityError), transaction.atomic():
            PreparedInsert(Message).insert(
                Message(conversation=conversation, role="agent", text="b", client_id="k")
            )

    def test_an_update_applies_only_while_the_row_matches(
        self, conversation: Conversation, agent: Agent
    ) -> None:
        touch = PreparedUpdate(
            Conversation, set_fields=("origin",), match_fields=("status", "assigned_to")
        )
        assert touch.run(conversation.pk, ("a",), ("bot", conversation.assigned_to_id)) == 1
        assert touch.run(conversation.pk, ("b",), ("waiting", conversation.assigned_to_id)) == 0
        assert touch.run(conversation.pk, ("c",), ("bot", None)) == 0  # someone is assigned
        unassigned = Conversation.objects.create(agent=agent, visitor_id="v-3")
        assert touch.run(unassigned.pk, ("d",), ("bot", None)) == 1
        assert Conversation.objects.get(pk=conversation.pk).origin == "a"
        assert Conversation.objects.get(pk=unassigned.pk).origin == "d"
