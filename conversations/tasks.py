from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import Retry

from conversations.greetings import greeting_refresh
from conversations.handoff import handoff_after_failure
from conversations.recovery import reply_sweep
from conversations.services import reply_generate

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, max_retries=3, default_retry_delay=2)
def reply_to_message(message_id: int) -> None:
    """Answer one visitor message. Safe to run twice: the reply is keyed by the message.

    If answering fails, a person takes over (conversations.handoff) rather than the
    visitor waiting for an answer that will not come.
    """
    try:
        reply_generate(message_id=message_id)
    except Retry:
        raise
    except Exception:
        logger.exception("answering message %s failed; handing off", message_id)
        handoff_after_failure(message_id=message_id)


@shared_task(acks_late=True)
def greet_customer(agent_id: int, customer_id: int) -> None:
    """Compute a verified customer's personalized greeting and push it to their widgets."""
    greeting_refresh(agent_id=agent_id, customer_id=customer_id)


@shared_task(ignore_result=True)
def sweep_unanswered() -> None:
    """Queue again the answers whose reply task was lost (conversations.recovery)."""
    reply_sweep()
