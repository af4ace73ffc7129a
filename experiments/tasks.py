"""Celery tasks of the A/B experiments (docs/experiments.md); each is idempotent.

Their names are the ones they had before the experiments app existed, so queued tasks and
the beat schedule (config/beat.py) still resolve.
"""

from __future__ import annotations

from celery import shared_task

from experiments.results import experiment_results_compute, experiments_results_compute
from experiments.services import experiments_promote_winners


@shared_task(name="analytics.tasks.compute_experiment_results")
def compute_experiment_results(experiment_id: int | None = None) -> int:
    """Recompute one experiment's results, or every running experiment's."""
    if experiment_id is not None:
        experiment_results_compute(experiment_id=experiment_id)
        return 1
    return experiments_results_compute()


@shared_task(name="widgets.tasks.promote_experiment_winners")
def promote_experiment_winners() -> int:
    """Promote the winners of auto-promote experiments into their agents' widget config."""
    return experiments_promote_winners()
