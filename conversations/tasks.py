from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry

from conversations.greetings import greeting_refresh
from conversations.handoff import handoff_after_failure
from conversations.recovery import reply_sweep
from conversations.replies import reply_generate
from conversations.task_names import GREETING_TASK, REPLY_TASK, SWEEP_TASK
from core.database_faults import SERVICE_FAULTS, database_connections_recover

logger = logging.getLogger(__name__)


@shared_task(name=REPLY_TASK, bind=True, acks_late=True, max_retries=3, default_retry_delay=2)
def reply_to_message(self: Task[Any, Any], message_id: int) -> None:
    """Answer one visitor message. Safe to run twice: the reply is keyed by the message.

    If the responder fails, a person takes over (conversations.handoff) rather than the
    visitor waiting for an answer that will not come. If PostgreSQL or Redis failed under
    it, the answer is retried in a few seconds instead; should even queueing the retry fail
    (Redis down), the sweep for lost answers queues it again (conversations.recovery).
    """
    try:
        reply_generate(message_id=message_id)
    except Retry:
        raise
    except SERVICE_FAULTS as exc:
        logger.warning("answering message %s hit a service fault (%s); retrying", message_id, exc)
        database_connections_recover()
        _retry_or_leave_to_the_sweep(self, exc)
    except Exception:
        logger.exception("answering message %s failed; handing off", message_id)
        handoff_after_failure(message_id=message_id)


def _retry_or_leave_to_the_sweep(task: Task[Any, Any], exc: Exception) -> None:
    try:
        raise task.retry(exc=exc)
    except Retry:
        raise
    except Exception:  # noqa: BLE001 (retries used up, or the broker is down too: the sweep answers)
        logger.warning("answer %s left to the sweep for lost answers", task.request.id)


@shared_task(name=GREETING_TASK, acks_late=True)
def greet_customer(agent_id: int, customer_id: int) -> None:
    """Compute a verified customer's personalized greeting and push it to their widgets."""
    greeting_refresh(agent_id=agent_id, customer_id=customer_id)


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep_unanswered() -> None:
    """Queue again the answers whose reply task was lost (conversations.recovery)."""
    reply_sweep()
