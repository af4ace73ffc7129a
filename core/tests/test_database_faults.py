"""A database fault is a 503 to retry, not a 500; work safe to repeat is tried once more.

In every mode (the real drops, against PostgreSQL, are test_recovery_database.py's).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from agents.models import Agent
from conftest import SITE_ORIGIN
from core.database_faults import RETRY_AFTER_SECONDS, retried_on_drop


def _dropped(**kwargs: Any) -> Any:
    raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def faulty_client(monkeypatch: pytest.MonkeyPatch) -> Client:
    """A client that gets the response Django sends, not the exception behind it."""
    monkeypatch.setattr("conversations.api.widget_session.visitor_resolve", _dropped)
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_a_session_whose_database_connection_failed_is_a_503_to_retry(
    faulty_client: Client, agent: Agent
) -> None:
    response = faulty_client.post(
        "/api/v2/widget/session",
        data={"agentId": agent.public_id},
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_work_that_lost_its_connection_is_done_once_more() -> None:
    calls: list[int] = []

    def store(*, text: str) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return text

    assert retried_on_drop(store)(text="hello") == "hello"
    assert len(calls) == 2


def test_work_that_loses_its_connection_twice_gives_the_fault_to_its_caller() -> None:
    calls: list[int] = []

    def store() -> None:
        calls.append(1)
        raise OperationalError("the database system is shutting down")

    with pytest.raises(OperationalError):
        retried_on_drop(store)()
    assert len(calls) == 2
