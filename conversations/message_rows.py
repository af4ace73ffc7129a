# ruff: noqa: S608  (identifiers come from the models' metadata; every value is a parameter)
"""The statements behind every visitor message, written out once.

`conversations.messages.message_append` runs for each message (a visitor's above all). Built by
the ORM, its three statements cost the web process about ten times the CPU the database
spends on them (compiling a select_related query with a subquery takes ~2 ms here); the
socket's budget is 2 ms for the whole store-and-ack. So they are written out here, from
the models' own table and column names, in SQL that PostgreSQL and SQLite both read;
values go in through each field's `get_db_prep_save` and come back through the field's
and backend's converters, exactly as the ORM would do it. Everything else about
conversations and messages goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Field, Model

from conversations.models import Conversation, Message
from customers.models import Customer

Converter = Callable[[Any, Any, Any], Any]
# Of the assignee, what the inbox summary shows (conversations.inbox_selectors.person_out).
ASSIGNEE_FIELDS = ("id", "username", "first_name", "last_name")


class _Part:
    """Some columns of one model in a statement's row: how to select them, and how to
    turn them back into an instance as the ORM's compiler would (SQLite hands back
    datetimes naive and JSON as text, for instance)."""

    def __init__(self, model: type[Model], alias: str, names: Sequence[str] | None = None):
        fields = [f for f in model._meta.concrete_fields if names is None or f.attname in names]
        self.model, self.names = model, [f.attname for f in fields]
        self.select = [f"{alias}.{connection.ops.quote_name(str(f.column))}" for f in fields]
        self.converters: list[tuple[Any, list[Converter]]] = []
        for field in fields:
            column = field.get_col(alias)
            self.converters.append((column, column.get_db_converters(connection)))

    def instance(self, values: list[Any]) -> Any:
        if values[0] is None:  # nothing joined: the LEFT JOIN found no row
            return None
        for index, (column, converters) in enumerate(self.converters):
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(connection.alias, self.names, values)


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field


def _column(model: type[Model], name: str) -> str:
    return str(connection.ops.quote_name(str(_field(model, name).column)))


class _Statements:
    def __init__(self) -> None:
        q = connection.ops.quote_name
        conv, msg = q(Conversation._meta.db_table), q(Message._meta.db_table)
        customers = q(Customer._meta.db_table)
        users = q(get_user_model()._meta.db_table)

        def c(name: str) -> str:
            return _column(Conversation, name)

        def m(name: str) -> str:
            return _column(Message, name)

        self.parts = [
            _Part(Conversation, "c"),
            _Part(Customer, "cu"),
            _Part(get_user_model(), "u", ASSIGNEE_FIELDS),
        ]
        selected = ", ".join(column for part in self.parts for column in part.select)
        # One row always: the id of a message already stored under the client id in any of
        # the owner's conversations (a retry), then the owner's open conversation, if any,
        # with its customer and assignee (what the inbox summary and handoff rules read).
        self.open_and_earlier = (
            f"SELECT (SELECT m.{m('id')} FROM {msg} m INNER JOIN {conv} o"
            f" ON m.{m('conversation')} = o.{c('id')}"
            f" WHERE o.{c('agent')} = %s AND o.{c('owner_key')} = %s"
            f" AND m.{m('client_id')} = %s LIMIT 1), {selected}"
            f" FROM (SELECT 1 AS {q('one')}) single"
            f" LEFT JOIN {conv} c ON c.{c('id')} = ("
            f"SELECT o.{c('id')} FROM {conv} o WHERE o.{c('agent')} = %s"
            f" AND o.{c('owner_key')} = %s AND NOT (o.{c('status')} = %s)"
            f" ORDER BY o.{c('updated_at')} DESC LIMIT 1)"
            f" LEFT JOIN {customers} cu ON cu.{_column(Customer, 'id')} = c.{c('customer')}"
            f" LEFT JOIN {users} u ON u.{_column(get_user_model(), 'id')} = c.{c('assigned_to')}"
        )
        inserted = ["public_id", "conversation", "role", "text", "client_id", "author", "metadata"]
        self.message_fields = [_field(Message, name) for name in [*inserted, "created_at"]]
        columns = ", ".join(m(f.name) for f in self.message_fields)
        marks = ", ".join(["%s"] * len(self.message_fields))
        self.message_insert = f"INSERT INTO {msg} ({columns}) VALUES ({marks}) RETURNING {m('id')}"
        self.touched_fields = [
            _field(Conversation, "last_message_at"),
            _field(Conversation, "updated_at"),
        ]
        self.conversation_touch = (
            f"UPDATE {conv} SET {c('last_message_at')} = %s, {c('updated_at')} = %s"
            f" WHERE {c('id')} = %s"
        )


@cache
def _statements(vendor: str) -> _Statements:
    return _Statements()


def _current() -> _Statements:
    return _statements(connection.vendor)


def open_conversation_and_earlier(
    *, agent_id: int, owner_key: str, client_id: str
) -> tuple[Conversation | None, int | None]:
    """The owner's open conversation (with its customer and assignee loaded) and the pk of
    a message they already sent under `client_id`, in any of their conversations."""
    statements = _current()
    with connection.cursor() as cursor:
        cursor.execute(
            statements.open_and_earlier,
            [agent_id, owner_key, client_id, agent_id, owner_key, Conversation.Status.RESOLVED],
        )
        row = list(cursor.fetchone())
    earlier_pk, at = row[0], 1
    instances = []
    for part in statements.parts:
        instances.append(part.instance(row[at : at + len(part.names)]))
        at += len(part.names)
    conversation, customer, assignee = instances
    if conversation is None:
        return None, earlier_pk
    conversation.customer, conversation.assigned_to = customer, assignee
    return conversation, earlier_pk


def message_insert(
    *,
    conversation: Conversation,
    public_id: str,
    role: str,
    text: str,
    client_id: str | None,
    author: Any,
    metadata: dict[str, Any],
    created_at: datetime,
) -> Message:
    """Insert one message row and return it as a saved instance."""
    statements = _current()
    author_id = None if author is None else author.pk
    values = [public_id, conversation.pk, role, text, client_id, author_id, metadata, created_at]
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(statements.message_fields, values, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(statements.message_insert, params)
        (pk,) = cursor.fetchone()
    message = Message(
        pk=pk,
        public_id=public_id,
        conversation=conversation,
        role=role,
        text=text,
        client_id=client_id,
        author=author,
        metadata=metadata,
        created_at=created_at,
    )
    message._state.adding = False
    message._state.db = connection.alias
    return message


def conversation_touch(*, conversation: Conversation, last_message_at: datetime) -> None:
    """Set the conversation's `last_message_at` and `updated_at` (row and instance)."""
    statements = _current()
    params = [
        field.get_db_prep_save(last_message_at, connection) for field in statements.touched_fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(statements.conversation_touch, [*params, conversation.pk])
    conversation.last_message_at = conversation.updated_at = last_message_at
