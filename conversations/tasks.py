from __future__ import annotations

from celery import shared_task

from conversations.services import reply_generate


@shared_task(acks_late=True, max_retries=3, default_retry_delay=2)
def reply_to_message(message_id: int) -> None:
    """Answer one visitor message. Safe to run twice: the reply is keyed by the message."""
    reply_generate(message_id=message_id)
