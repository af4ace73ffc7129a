"""Celery tasks of the widgets app."""

from __future__ import annotations

from celery import shared_task

from widgets.experiment_services import experiments_promote_winners


@shared_task
def promote_experiment_winners() -> int:
    """Promote the winners of auto-promote experiments into their agents' widget config.

    Lives here, not in analytics: analytics computes the results (and may not import the
    widget app); this task reads them and changes the widget.
    """
    return experiments_promote_winners()
