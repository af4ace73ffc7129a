from __future__ import annotations

from celery import shared_task

from webhooks.delivery import DELIVER_TASK, deliveries_due, delivery_attempt


@shared_task(name=DELIVER_TASK, ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    """A delivery's first attempt, right after its event commits; retries are the beat's."""
    delivery_attempt(delivery_id)


@shared_task(name="webhooks.tasks.webhook_deliveries_due", ignore_result=True)
def webhook_deliveries_due() -> int:
    """Every minute: the retries whose time has come (and first attempts a lost task left)."""
    return deliveries_due()
