"""Celery beat's schedule: the periodic tasks of analytics, monitoring, experiments and
security.

Read by settings (CELERY_BEAT_SCHEDULE), so `celery beat` and, in embedded mode,
`manage.py embedded_beat` run the same list.
"""

from __future__ import annotations

from typing import Any


def beat_schedule(*, rollup_seconds: int, sweep_seconds: int) -> dict[str, dict[str, Any]]:
    """Schedule name -> {task, schedule in seconds}."""
    return {
        "analytics-daily-event-counts": {
            "task": "analytics.tasks.rollup_daily_event_counts",
            "schedule": 15 * 60,
        },
        "analytics-rollup-metrics": {
            "task": "analytics.tasks.rollup_metrics",
            "schedule": rollup_seconds,
        },
        "analytics-prune-events": {
            "task": "analytics.tasks.prune_events",
            "schedule": 6 * 60 * 60,
        },
        # Monitoring, alerts and experiments (docs/monitoring.md, docs/experiments.md).
        "monitoring-worker-heartbeat": {"task": "analytics.tasks.worker_heartbeat", "schedule": 30},
        "monitoring-group-widget-errors": {
            "task": "analytics.tasks.group_widget_errors",
            "schedule": 60,
        },
        "monitoring-evaluate-alerts": {"task": "analytics.tasks.evaluate_alerts", "schedule": 60},
        "experiments-compute-results": {
            "task": "analytics.tasks.compute_experiment_results",
            "schedule": 15 * 60,
        },
        "experiments-promote-winners": {
            "task": "widgets.tasks.promote_experiment_winners",
            "schedule": 15 * 60,
        },
        # Webhook retries, and first attempts whose task was lost (docs/webhooks.md).
        "webhooks-deliveries-due": {
            "task": "webhooks.tasks.webhook_deliveries_due",
            "schedule": 60,
        },
        # Answers whose reply task was lost (docs/operations.md#faults).
        "conversations-sweep-unanswered": {
            "task": "conversations.tasks.sweep_unanswered",
            "schedule": sweep_seconds,
        },
        # Expired staff refresh tokens and stale sign-in failures (docs/security.md).
        "security-prune-staff-sign-in-records": {
            "task": "security.tasks.prune_staff_sign_in_records",
            "schedule": 60 * 60,
        },
    }
