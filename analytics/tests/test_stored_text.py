"""Reads over stored events that repair undecodable text once (analytics.stored_text)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection

from analytics.models import WidgetEvent
from analytics.stored_text import events_read_repairing, events_text_repair

pytestmark = pytest.mark.django_db


def event(agent: Any, metadata: Any) -> WidgetEvent:
    return WidgetEvent.objects.create(
        workspace_id=agent.workspace_id, agent_id=agent.public_id, event="error", metadata=metadata
    )


def test_clean_events_are_left_as_they_are(agent: Any) -> None:
    stored = event(agent, {"code": "net", "message": "fetch failed", "n": [1, {"k": True}]})
    assert events_text_repair(WidgetEvent.objects.all()) == 0
    stored.refresh_from_db()
    assert stored.metadata == {"code": "net", "message": "fetch failed", "n": [1, {"k": True}]}


def test_a_failure_that_is_not_stored_text_is_the_callers(agent: Any) -> None:
    event(agent, {"code": "net"})

    def broken_read() -> None:
        raise DatabaseError("connection lost")

    with pytest.raises(DatabaseError, match="connection lost"):
        events_read_repairing(broken_read, events=WidgetEvent.objects.all(), task="test")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="only SQLite stores a lone surrogate")
def test_bad_text_is_replaced_keys_and_nested_values_too(agent: Any) -> None:
    stored = event(agent, {"a\ud800": ["x\udfff", {"m": "nul\x00"}], "ok": 1})
    assert events_text_repair(WidgetEvent.objects.all()) == 1
    stored.refresh_from_db()
    assert stored.metadata == {"a\ufffd": ["x\ufffd", {"m": "nul\ufffd"}], "ok": 1}
