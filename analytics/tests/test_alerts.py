"""Alerts fire once, keep quiet in their cooldown and resolve — by email and a real webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.test import Client

from analytics.admin import AlertRuleForm
from analytics.models import AlertEvent, AlertRule, WidgetEvent
from analytics.monitoring.alert_metrics import alert_metric_value
from analytics.monitoring.alerts import alerts_evaluate
from analytics.monitoring.heartbeat import worker_heartbeat_record
from config.celery import app

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Hook:
    """A local HTTP server in a thread that records what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.failures_left = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.failures_left > 0:
                    hook.failures_left -= 1
                    self.send_response(503)
                else:
                    hook.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts?team=ops"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def states(self) -> list[str]:
        return [body["state"] for body in self.received]


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(autouse=True)
def eager_tasks(settings: Any) -> Iterator[None]:
    """Notifications run in-process (they are Celery tasks; services mode would queue them)."""
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = True  # the test server is on loopback
    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    # Not propagating lets an eager task retry in place, as a worker would later.
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


def errors(agent: Any, count: int) -> None:
    WidgetEvent.objects.bulk_create(
        WidgetEvent(
            workspace=agent.workspace,
            agent_id=agent.public_id,
            event="error",
            metadata={"code": "socket", "message": "closed"},
        )
        for _ in range(count)
    )


def rule_on(agent: Any, **extra: Any) -> AlertRule:
    fields: dict[str, Any] = {
        "name": "Widget errors",
        "agent_id": agent.public_id,
        "metric": "errors",
        "comparison": AlertRule.Comparison.ABOVE,
        "threshold": 5,
        "window_minutes": 10,
        "cooldown_minutes": 30,
        "emails": ["ops@example.com"],
    }
    return AlertRule.objects.create(workspace=agent.workspace, **{**fields, **extra})


def evaluate(capture: Any) -> None:
    with capture(execute=True):
        alerts_evaluate()


def test_an_alert_fires_once_respects_its_cooldown_and_resolves(
    agent: Any, hook: Hook, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    rule = rule_on(agent, webhook_url=hook.url)
    with time_machine.travel(T0, tick=False) as clock:
        errors(agent, 6)
        evaluate(django_capture_on_commit_callbacks)
        assert hook.states() == ["firing"]
        assert [m.subject for m in mailoutbox] == ["[CustomerAgent] FIRING: Widget errors"]
        assert "6" in mailoutbox[0].body and mailoutbox[0].to == ["ops@example.com"]
        body = hook.received[0]
        assert body["value"] == 6 and body["threshold"] == 5 and body["agentId"] == agent.public_id

        clock.shift(timedelta(minutes=1))  # still above: the same alert, no new message
        errors(agent, 3)
        evaluate(django_capture_on_commit_callbacks)
        assert len(hook.received) == 1 and len(mailoutbox) == 1
        assert AlertEvent.objects.filter(rule=rule).count() == 1
        assert AlertEvent.objects.get(rule=rule).value == 9

        clock.shift(timedelta(minutes=11))  # the errors left the window: resolved, and said so
        evaluate(django_capture_on_commit_callbacks)
        assert hook.states() == ["firing", "resolved"]
        assert mailoutbox[-1].subject == "[CustomerAgent] RESOLVED: Widget errors"
        assert AlertEvent.objects.get(rule=rule).resolved_at == T0 + timedelta(minutes=12)

        clock.shift(timedelta(minutes=3))  # fires again inside the cooldown: recorded, quiet
        errors(agent, 6)
        evaluate(django_capture_on_commit_callbacks)
        assert AlertEvent.objects.filter(rule=rule).count() == 2
        assert AlertEvent.objects.filter(rule=rule, resolved_at__isnull=True).count() == 1
        assert len(hook.received) == 2 and len(mailoutbox) == 2

        clock.shift(timedelta(minutes=11))  # its quiet resolution stays quiet too
        evaluate(django_capture_on_commit_callbacks)
        assert len(hook.received) == 2

        clock.shift(timedelta(minutes=30))  # after the cooldown a new firing is announced
        errors(agent, 7)
        evaluate(django_capture_on_commit_callbacks)
        assert hook.states() == ["firing", "resolved", "firing"]
        assert len(mailoutbox) == 3


def test_a_failing_webhook_is_retried_until_it_answers(
    agent: Any, hook: Hook, django_capture_on_commit_callbacks: Any
) -> None:
    rule = rule_on(agent, webhook_url=hook.url, emails=[])
    hook.failures_left = 2
    errors(agent, 6)
    evaluate(django_capture_on_commit_callbacks)
    assert hook.states() == ["firing"]
    assert AlertEvent.objects.get(rule=rule).notify_error == ""


def test_a_webhook_to_a_private_address_is_refused_and_recorded(
    agent: Any, hook: Hook, settings: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    rule = rule_on(agent, webhook_url=hook.url)
    errors(agent, 6)
    evaluate(django_capture_on_commit_callbacks)
    assert hook.received == []  # never called
    event = AlertEvent.objects.get(rule=rule)
    assert event.notify_error.startswith("webhook: 127.0.0.1 resolves to a private")
    assert len(mailoutbox) == 1  # the email still went out


def test_a_rule_of_another_workspace_ignores_my_errors(
    agent: Any, other_agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rule = rule_on(other_agent)
    rule.agent_id = ""  # all of its own workspace's agents
    rule.save()
    errors(agent, 50)
    evaluate(django_capture_on_commit_callbacks)
    assert not AlertEvent.objects.exists()


def test_metrics_answer_none_when_there_is_nothing_to_measure(agent: Any) -> None:
    def value(metric: str) -> float | None:
        return alert_metric_value(
            metric=metric,
            workspace_id=agent.workspace_id,
            agent_id=agent.public_id,
            window_minutes=15,
            now=datetime.now(UTC) + timedelta(seconds=1),
        )

    assert value("open_rate") is None and value("csat_average") is None
    assert value("first_response_p95") is None and value("errors") == 0
    common = {"workspace": agent.workspace, "agent_id": agent.public_id}
    WidgetEvent.objects.bulk_create(
        [WidgetEvent(event="load", **common) for _ in range(4)]
        + [WidgetEvent(event="open", **common)]
        + [WidgetEvent(event="csat", metadata={"score": s}, **common) for s in (2, 5)]
        + [WidgetEvent(event="handed_off", **common)]
        + [
            WidgetEvent(event="message_answered", metadata={"ms": ms}, **common)
            for ms in [800] * 18 + [9000] * 2
        ]
    )
    assert value("open_rate") == 0.25
    assert value("csat_average") == 3.5
    assert value("handoffs") == 1
    assert 7.0 < (value("first_response_p95") or 0) < 10.0  # seconds, from the histogram


def test_a_stalled_worker_can_be_alerted_on(agent: Any) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        worker_heartbeat_record()
        clock.shift(timedelta(minutes=12))
        minutes = alert_metric_value(
            metric="worker_heartbeat_age",
            workspace_id=agent.workspace_id,
            agent_id="",
            window_minutes=1,
            now=T0,
        )
    assert minutes == pytest.approx(12)


def test_a_webhook_that_never_answers_is_given_up_and_recorded(
    agent: Any, hook: Hook, django_capture_on_commit_callbacks: Any
) -> None:
    rule = rule_on(agent, webhook_url=hook.url, emails=[])
    hook.failures_left = 100
    errors(agent, 6)
    evaluate(django_capture_on_commit_callbacks)
    assert hook.received == [] and hook.failures_left == 100 - 6  # 1 try + 5 retries
    assert AlertEvent.objects.get(rule=rule).notify_error == "webhook: 127.0.0.1 answered 503."


class TestRuleForm:
    def form(self, agent: Any, **changes: Any) -> AlertRuleForm:
        data = {
            "workspace": agent.workspace_id,
            "name": "Errors",
            "agent_id": agent.public_id,
            "metric": "errors",
            "comparison": "above",
            "threshold": "10",
            "window_minutes": "15",
            "cooldown_minutes": "60",
            "emails": '["ops@example.com"]',
            "webhook_url": "",
            "is_active": "on",
            **changes,
        }
        return AlertRuleForm(data=data)

    def test_a_valid_rule(self, agent: Any) -> None:
        form = self.form(agent)
        assert form.is_valid(), form.errors

    def test_an_agent_of_another_workspace_is_refused(self, agent: Any, other_agent: Any) -> None:
        form = self.form(agent, agent_id=other_agent.public_id)
        assert not form.is_valid() and "agent_id" in form.errors

    def test_a_webhook_into_our_network_is_refused(self, agent: Any, settings: Any) -> None:
        settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
        for url in ("http://127.0.0.1:6379/", "http://169.254.169.254/latest", "ftp://x.test/"):
            form = self.form(agent, webhook_url=url)
            assert not form.is_valid() and "webhook_url" in form.errors, url

    def test_unknown_metrics_and_bad_addresses_are_refused(self, agent: Any) -> None:
        assert "metric" in self.form(agent, metric="cpu").errors
        assert "emails" in self.form(agent, emails='["not an address"]').errors


def test_the_admin_shows_rules_only_to_their_workspace(
    agent: Any, owner: Any, outsider: Any
) -> None:
    rule_on(agent)
    for user, visible in ((owner, True), (outsider, False)):
        browser = Client()
        browser.force_login(user)
        page = browser.get("/admin/analytics/alertrule/").content.decode()
        assert ("Widget errors" in page) is visible
