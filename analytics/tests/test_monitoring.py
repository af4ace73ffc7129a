"""`/metrics` (what it exposes, to whom), worker liveness in `/readyz`, widget error groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from celery.signals import task_failure
from django.conf import settings as django_settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from analytics.models import WidgetErrorGroup, WidgetEvent
from analytics.monitoring.cluster_metrics import _broker
from analytics.monitoring.error_groups import error_groups_update, message_normalize
from analytics.monitoring.heartbeat import worker_heartbeat_record
from analytics.tasks import group_widget_errors

FOREIGN = "203.0.113.9"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def scrape(client: Client, **headers: Any) -> Any:
    return client.get("/metrics", **headers)


def samples(response: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def names(response: Any) -> set[str]:
    return {name for name, _ in samples(response)}


@pytest.mark.django_db
class TestMetricsEndpoint:
    def test_it_exposes_every_series_in_prometheus_format(self, client: Client) -> None:
        client.get("/healthz")
        response = scrape(client)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        families = {f.name for f in text_string_to_metric_families(response.text)}
        assert {
            "customeragent_http_request_duration_seconds",
            "customeragent_websocket_connections",
            "customeragent_websocket_messages",
            "customeragent_responder_duration_seconds",
            "customeragent_celery_task_failures",
            "customeragent_worker_heartbeat_age_seconds",
        } <= families
        assert "customeragent_http_request_duration_seconds_bucket" in names(response)
        if django_settings.SERVICES_MODE:
            assert "customeragent_celery_queue_length" in families

    def test_latency_is_labelled_by_route_pattern_not_path(self, client: Client) -> None:
        client.get("/api/v2/agents/agt_doesnotexist")
        found = samples(scrape(client))
        key = (
            "customeragent_http_request_duration_seconds_count",
            (("method", "GET"), ("route", "api/v2/agents/<str:agent_id>"), ("status", "401")),
        )
        assert found[key] >= 1
        assert not any("agt_doesnotexist" in str(labels) for _, labels in found)

    def test_it_is_refused_from_a_foreign_address(self, client: Client) -> None:
        response = scrape(client, REMOTE_ADDR=FOREIGN)
        assert response.status_code == 404
        assert b"customeragent_" not in response.content

    def test_a_bearer_token_opens_it_from_anywhere(self, client: Client, settings: Any) -> None:
        settings.METRICS_TOKEN = "a-long-random-scrape-token"
        ok = scrape(
            client, REMOTE_ADDR=FOREIGN, HTTP_AUTHORIZATION="Bearer a-long-random-scrape-token"
        )
        assert ok.status_code == 200
        wrong = scrape(client, REMOTE_ADDR=FOREIGN, HTTP_AUTHORIZATION="Bearer guess")
        assert wrong.status_code == 404

    def test_an_empty_token_setting_opens_nothing(self, client: Client, settings: Any) -> None:
        settings.METRICS_TOKEN = ""
        response = scrape(client, REMOTE_ADDR=FOREIGN, HTTP_AUTHORIZATION="Bearer ")
        assert response.status_code == 404

    def test_a_request_forwarded_by_an_untrusted_local_proxy_is_not_local(
        self, client: Client
    ) -> None:
        response = scrape(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=FOREIGN)
        assert response.status_code == 404

    def test_allowed_networks_behind_a_trusted_proxy(self, client: Client, settings: Any) -> None:
        settings.TRUSTED_PROXIES = ["10.0.0.2"]
        settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
        inside = scrape(client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.1.2.3")
        assert inside.status_code == 200
        outside = scrape(client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=FOREIGN)
        assert outside.status_code == 404

    def test_task_failures_are_counted_by_task(self, client: Client) -> None:
        class Sender:
            name = "analytics.tests.failing_task"

        key = ("customeragent_celery_task_failures_total", (("task", Sender.name),))
        before = samples(scrape(client)).get(key, 0)
        task_failure.send(sender=Sender(), task_id="t-1", exception=RuntimeError("boom"))
        task_failure.send(sender=Sender(), task_id="t-2", exception=RuntimeError("boom"))
        assert samples(scrape(client))[key] == before + 2

    @pytest.mark.skipif(not django_settings.SERVICES_MODE, reason="a Redis broker queue")
    def test_queue_depth_is_read_from_the_broker(self, client: Client) -> None:
        broker = _broker()
        assert broker is not None
        queue = str(django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]) + "celery"
        broker.delete(queue)
        broker.rpush(queue, "a", "b", "c")
        try:
            found = samples(scrape(client))
            assert found[("customeragent_celery_queue_length", (("queue", "celery"),))] == 3
        finally:
            broker.delete(queue)


@pytest.mark.django_db
class TestWorkerLiveness:
    @pytest.fixture(autouse=True)
    def services(self, settings: Any) -> None:
        settings.SERVICES_MODE = True
        settings.WORKER_STALE_MINUTES = 5

    def test_no_heartbeat_yet_is_reported_without_failing_readiness(self, client: Client) -> None:
        body = client.get("/readyz").json()
        assert body["checks"]["worker"] == "stale: no heartbeat yet"
        assert body["status"] == "degraded" and body["degraded"] == ["worker"]
        assert client.get("/readyz").status_code == 200

    def test_an_uptime_monitor_can_require_the_worker(self, client: Client) -> None:
        response = client.get("/readyz?worker=required")
        assert response.status_code == 503 and response.json()["failing"] == ["worker"]

    def test_a_worker_goes_stale_after_n_minutes_without_a_heartbeat(self, client: Client) -> None:
        with time_machine.travel(T0, tick=False) as clock:
            worker_heartbeat_record()
            clock.shift(timedelta(minutes=4))
            assert client.get("/readyz?worker=required").json()["checks"]["worker"] == "ok"
            clock.shift(timedelta(minutes=2))
            response = client.get("/readyz?worker=required")
        assert response.status_code == 503
        assert response.json()["checks"]["worker"] == "stale: last heartbeat 360 s ago"

    def test_the_heartbeat_age_is_a_metric(self, client: Client) -> None:
        with time_machine.travel(T0, tick=False) as clock:
            worker_heartbeat_record()
            clock.shift(timedelta(seconds=90))
            found = samples(scrape(client))
        assert found[("customeragent_worker_heartbeat_age_seconds", ())] == 90


def error(agent: Any, message: str, code: str = "socket") -> None:
    WidgetEvent.objects.create(
        workspace=agent.workspace,
        agent_id=agent.public_id,
        event="error",
        metadata={"code": code, "message": message},
    )


@pytest.mark.django_db
class TestErrorGroups:
    def test_messages_that_differ_only_in_numbers_and_ids_group_together(self) -> None:
        assert message_normalize("timeout after 3012 ms on msg_AbC123xyz") == message_normalize(
            "timeout after 95 ms on msg_Zz9Zz9Zz9"
        )
        assert message_normalize("GET https://x.test/a?b=1 failed") == "GET <url> failed"

    def test_groups_are_counted_incrementally_with_first_and_last_seen(self, agent) -> None:
        with time_machine.travel(T0, tick=False) as clock:
            error(agent, "socket closed after 3 retries")
            error(agent, "socket closed after 7 retries")
            error(agent, "quota exceeded", code="http_429")
            clock.shift(timedelta(minutes=2))
            assert group_widget_errors.apply().get() == 3
            error(agent, "socket closed after 9 retries")
            error(agent, "just now")  # still settling: left for the next run
            clock.shift(timedelta(seconds=30))
            assert error_groups_update() == 0  # nothing settled since the last run
            clock.shift(timedelta(minutes=1))
            assert error_groups_update() == 2
            assert error_groups_update() == 0  # re-running counts nothing twice
        socket = WidgetErrorGroup.objects.get(code="socket", message__startswith="socket")
        assert socket.count == 3
        assert socket.first_seen == T0
        assert socket.last_seen == T0 + timedelta(minutes=2)
        assert WidgetErrorGroup.objects.get(code="http_429").count == 1
        assert WidgetErrorGroup.objects.count() == 3

    def test_the_admin_lists_only_my_workspaces_groups(self, agent, other_agent, owner) -> None:
        with time_machine.travel(T0, tick=False) as clock:
            error(agent, "mine")
            error(other_agent, "theirs")
            clock.shift(timedelta(minutes=5))
            error_groups_update()
        browser = Client()
        browser.force_login(owner)
        page = browser.get("/admin/analytics/widgeterrorgroup/").content.decode()
        assert "mine" in page and "theirs" not in page
