"""Roll-up numbers against a hand-computed fixture; idempotency, late events, backfill."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from analytics.histograms import histogram_count, histogram_percentile
from analytics.models import MetricsBucket, WidgetEvent
from analytics.rollups import WATERMARK_KEY, buckets_recompute, day_start, rollup_incremental
from analytics.services import EventIn, EventSource, events_prune, events_record

SHOP, BLOG = "shop.example.com", "blog.example.org"
COUNTS = (
    "loads",
    "opens",
    "visitors",
    "conversations",
    "customer_messages",
    "agent_messages",
    "handoffs",
    "resolved_bot",
    "resolved_human",
    "csat_count",
    "csat_sum",
    "errors",
)


def at(hour: int, minute: int = 0) -> datetime:
    """A moment two days ago: far enough to be a closed day, well inside retention."""
    return day_start(timezone.now().date() - timedelta(days=2)) + timedelta(
        hours=hour, minutes=minute
    )


def record(
    agent: Any,
    session: str,
    name: str,
    when: datetime,
    metadata: dict[str, Any] | None = None,
    domain: str = SHOP,
    variant: str = "",
) -> None:
    events_record(
        source=EventSource(
            workspace_id=agent.workspace_id,
            agent_id=agent.public_id,
            domain=domain,
            session_id=session,
            variant=variant,
        ),
        events=[EventIn(name=name, metadata=metadata, occurred_at=when)],
    )


@pytest.fixture
def traffic(agent: Any, other_agent: Any) -> None:
    """Two hours of one agent's traffic (and one event of another agent's)."""
    ten, eleven = at(10, 5), at(11, 30)
    for session, ms in [("v1", 100), ("v2", 200), ("v3", 400)]:
        record(agent, session, "load", ten, {"ms": ms, "url": "https://shop.example.com/"})
    record(agent, "v1", "open", ten)
    record(agent, "v2", "open", ten)
    record(agent, "v1", "message", ten)
    record(agent, "v1", "message", ten)
    record(agent, "v1", "conversation_started", ten, {"conversationId": "cnv_1"})
    record(agent, "v1", "message_answered", ten, {"ms": 1000})
    record(agent, "v1", "message_answered", ten, {"ms": 3000})
    record(agent, "v1", "resolved", ten, {"by": "bot"})
    record(agent, "v1", "csat", ten, {"score": 4})
    record(agent, "v3", "error", ten, {"code": "internal"})
    record(agent, "v3", "close", ten)
    record(agent, "v4", "load", ten, {"ms": 50}, domain=BLOG)
    # Hour 11: v1 comes back (one visitor of the day, two of the hours), and a variant.
    record(agent, "v1", "load", eleven, {"ms": 100})
    record(agent, "v5", "load", eleven, {"ms": 800}, variant="greet:b")
    record(agent, "v5", "open", eleven, variant="greet:b")
    record(agent, "v5", "conversation_started", eleven, variant="greet:b")
    record(agent, "v5", "handed_off", eleven, {"reason": "asked"}, variant="greet:b")
    record(agent, "v5", "resolved", eleven, {"by": "human"}, variant="greet:b")
    record(agent, "v5", "csat", eleven, {"score": 2}, variant="greet:b")
    record(agent, "v5", "csat", eleven, {"score": "lots"}, variant="greet:b")  # ignored
    record(other_agent, "x1", "load", ten, domain="globex.example.net")


def stored(**filters: Any) -> dict[tuple[str, str, str, str, datetime], dict[str, int]]:
    return {
        (b.agent_id, b.domain, b.variant, b.grain, b.start): {f: getattr(b, f) for f in COUNTS}
        for b in MetricsBucket.objects.filter(**filters)
    }


def counts(**values: int) -> dict[str, int]:
    return {field: values.get(field, 0) for field in COUNTS}


@pytest.mark.django_db
class TestRollup:
    def test_it_counts_each_hour_and_day_as_computed_by_hand(
        self, agent: Any, other_agent: Any, traffic: None
    ) -> None:
        rollup_incremental()
        a, b = agent.public_id, other_agent.public_id
        hour10, hour11, day = at(10), at(11), at(0)
        assert stored(grain="hour") == {
            (a, SHOP, "", "hour", hour10): counts(
                loads=3,
                opens=2,
                visitors=3,
                conversations=1,
                customer_messages=2,
                agent_messages=2,
                resolved_bot=1,
                csat_count=1,
                csat_sum=4,
                errors=1,
            ),
            (a, BLOG, "", "hour", hour10): counts(loads=1, visitors=1),
            (a, SHOP, "", "hour", hour11): counts(loads=1, visitors=1),
            (a, SHOP, "greet:b", "hour", hour11): counts(
                loads=1,
                opens=1,
                visitors=1,
                conversations=1,
                handoffs=1,
                resolved_human=1,
                csat_count=1,
                csat_sum=2,
            ),
            (b, "globex.example.net", "", "hour", hour10): counts(loads=1, visitors=1),
        }
        days = stored(grain="day")
        # v1 came in both hours: three visitors that day, not four.
        assert days[(a, SHOP, "", "day", day)] == counts(
            loads=4,
            opens=2,
            visitors=3,
            conversations=1,
            customer_messages=2,
            agent_messages=2,
            resolved_bot=1,
            csat_count=1,
            csat_sum=4,
            errors=1,
        )
        assert days[(a, SHOP, "greet:b", "day", day)]["resolved_human"] == 1
        assert len(days) == 4

    def test_it_keeps_durations_as_mergeable_histograms(self, agent: Any, traffic: None) -> None:
        rollup_incremental()
        hour = MetricsBucket.objects.get(
            agent_id=agent.public_id, domain=SHOP, variant="", grain="hour", start=at(10)
        )
        assert histogram_count(hour.load_time_hist) == 3
        assert histogram_count(hour.first_response_hist) == 2
        p50 = histogram_percentile(hour.load_time_hist, 0.5)
        assert p50 is not None and 158 <= p50 <= 252  # the bin holding 200 ms
        day = MetricsBucket.objects.get(
            agent_id=agent.public_id, domain=SHOP, variant="", grain="day", start=at(0)
        )
        assert histogram_count(day.load_time_hist) == 4

    def test_running_it_again_gives_the_same_rows(self, agent: Any, traffic: None) -> None:
        rollup_incremental()
        first = stored()
        MetricsBucket.objects.update(loads=999)  # a re-run must restore the true numbers
        cache.delete(WATERMARK_KEY)
        rollup_incremental()
        assert stored() == first
        buckets_recompute(ranges=[(at(0), at(24))])
        assert stored() == first

    def test_a_late_event_lands_in_the_hour_it_happened(self, agent: Any, traffic: None) -> None:
        rollup_incremental()
        record(agent, "v9", "load", at(10, 59), {"ms": 120})
        rollup_incremental()
        key = (agent.public_id, SHOP, "", "hour", at(10))
        assert stored()[key]["loads"] == 4
        assert stored()[key]["visitors"] == 4
        assert stored(grain="day")[(agent.public_id, SHOP, "", "day", at(0))]["loads"] == 5

    def test_a_quiet_run_recomputes_only_the_current_hour(self, agent: Any, traffic: None) -> None:
        later = timezone.now() + timedelta(minutes=10)
        assert rollup_incremental(now=later).windows == 2  # hours 10-11, and the current one
        report = rollup_incremental(now=later + timedelta(minutes=10))
        assert (report.windows, report.hours) == (1, 0)

    def test_without_its_watermark_it_starts_from_the_last_bucket_written(
        self, agent: Any, traffic: None
    ) -> None:
        rollup_incremental()
        WidgetEvent.objects.update(created_at=timezone.now() - timedelta(hours=1))
        cache.clear()  # e.g. Redis restarted
        assert rollup_incremental().windows == 1


@pytest.mark.django_db
def test_backfill_rebuilds_one_agent_with_a_progress_bar(
    agent: Any, other_agent: Any, traffic: None
) -> None:
    rollup_incremental()
    expected = stored()
    MetricsBucket.objects.all().delete()
    out = io.StringIO()
    since = at(0).date().isoformat()
    call_command("analytics_backfill", "--since", since, "--agent", agent.public_id, stdout=out)
    assert stored() == {k: v for k, v in expected.items() if k[0] == agent.public_id}
    text = out.getvalue()
    assert "\r[" in text and "3/3 days" in text
    assert f"Recomputed 3 day(s): 4 hour and 3 day buckets for {agent.public_id}." in text


@pytest.mark.django_db
def test_pruning_drops_old_raw_events_and_keeps_the_rollups(
    agent: Any, traffic: None, settings: Any
) -> None:
    rollup_incremental()
    before = stored()
    old = timezone.now() - timedelta(days=91)
    WidgetEvent.objects.filter(domain=BLOG).update(created_at=old)
    assert events_prune() == 1
    assert not WidgetEvent.objects.filter(domain=BLOG).exists()
    assert stored() == before


@pytest.mark.django_db
def test_buckets_older_than_the_raw_events_are_never_recomputed(
    agent: Any, traffic: None, settings: Any
) -> None:
    rollup_incremental()
    before = stored()
    WidgetEvent.objects.all().delete()  # as if pruned
    settings.ANALYTICS_RETENTION_DAYS = 2
    report = buckets_recompute(ranges=[(at(0), at(24))])
    assert report.windows == 0
    assert stored() == before


def test_hours_are_utc() -> None:
    assert at(0).tzinfo == UTC
