"""Receivers that feed the monitoring figures (they count; no business logic here)."""

from __future__ import annotations

from typing import Any

from analytics.monitoring.cluster_metrics import task_failure_record


def celery_task_failed(sender: Any = None, **kwargs: Any) -> None:
    """`task_failure`: the sender is the task that raised."""
    task_failure_record(str(getattr(sender, "name", None) or "unknown"))
