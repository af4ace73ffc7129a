"""Recovery of lost answers: every acknowledged visitor message ends in one agent answer
or one handoff notice, even when its reply task was lost (docs/operations.md#faults).

A visitor message is stored and acknowledged before its reply task is queued, and the
queue can lose the task: Redis restarted empty, a worker killed before it acknowledged the
task (acks_late would hand it out again only after the visibility timeout, an hour), a
publish that failed while Redis was stalled. `reply_sweep` (a beat task every
REPLY_SWEEP_SECONDS) finds the visitor messages of bot conversations that are older than
REPLY_SWEEP_AFTER_SECONDS and have neither an answer (the reply's idempotency key,
`reply:<question id>`) nor a person's or a system line after them, and queues their reply
task again. Answering stays exactly-once whoever runs it: the answer is stored under that
key, unique per conversation, so a second run finds it and does nothing.

Two sweeps racing (two beats for a moment, a slow sweep overlapping the next) queue each
message once: the first to claim it in the cache does (`cache.add`). A message whose answer
is being written by a slow responder (a model streaming, tools) is marked busy while it
runs (`reply_busy`, renewed as it streams), so the sweep does not ask for a second,
costly answer to it; a worker killed mid-answer stops renewing the mark, and the sweep
takes the message BUSY_SECONDS later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Value
from django.db.models.functions import Concat
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.task_names import REPLY_TASK
from core.task_queue import task_enqueue

logger = logging.getLogger(__name__)

# A sweep queues at most this many answers: a large backlog drains over several sweeps
# rather than flooding the queue at once.
SWEEP_BATCH = 500
# A queued message is not queued again for this long (its task may be waiting in a backlog).
CLAIM_SECONDS = 120
# A message being answered by a slow responder is left alone while its mark lives: set when
# the answer starts, renewed as it streams (a worker killed mid-answer stops renewing it).
BUSY_SECONDS = 30
BUSY_RENEW_SECONDS = 5.0


def _claim_key(message_pk: int) -> str:
    return f"reply-sweep:claim:{message_pk}"


def _busy_key(message_pk: int) -> str:
    return f"reply-sweep:busy:{message_pk}"


@dataclass(frozen=True)
class SweepResult:
    found: int  # unanswered messages old enough
    queued: int  # of those, queued again by this sweep
    busy: int  # being answered right now
    claimed: int  # queued by another sweep a moment ago


def questions_unanswered(*, older_than: timedelta, within: timedelta, limit: int) -> list[int]:
    """The pks of visitor messages, oldest first, sent between `within` and `older_than`
    ago in conversations the bot holds, with no answer and no person's or system line
    after them (a handoff notice, a staff reply, "the assistant is back")."""
    now = timezone.now()
    answer = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        client_id=Concat(Value("reply:"), OuterRef("public_id")),
    )
    later_person = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        id__gt=OuterRef("id"),
        role__in=(Message.Role.STAFF, Message.Role.SYSTEM),
    )
    return list(
        Message.objects.filter(
            role=Message.Role.CUSTOMER,
            created_at__gte=now - within,
            created_at__lt=now - older_than,
            conversation__status=Conversation.Status.BOT,
        )
        .exclude(Exists(answer))
        .exclude(Exists(later_person))
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def reply_sweep() -> SweepResult:
    """Queue the reply task again for every visitor message left unanswered (see above)."""
    pks = questions_unanswered(
        older_than=timedelta(seconds=settings.REPLY_SWEEP_AFTER_SECONDS),
        within=timedelta(seconds=settings.REPLY_SWEEP_WINDOW_SECONDS),
        limit=SWEEP_BATCH,
    )
    busy_keys = {_busy_key(pk): pk for pk in pks}
    busy = {busy_keys[key] for key in cache.get_many(list(busy_keys))}
    queued = claimed = 0
    for pk in pks:
        if pk in busy:
            continue
        if not cache.add(_claim_key(pk), 1, timeout=CLAIM_SECONDS):
            claimed += 1
            continue
        task_enqueue(REPLY_TASK, pk)
        queued += 1
    result = SweepResult(found=len(pks), queued=queued, busy=len(busy), claimed=claimed)
    if pks:
        # Found work means something was lost (or a backlog is older than the threshold).
        logger.warning(
            "reply sweep: %d unanswered, %d queued again, %d being answered, %d claimed",
            result.found,
            result.queued,
            result.busy,
            result.claimed,
        )
    return result


class BusyMark:
    """The cache's note that a message is being answered, kept fresh while it streams."""

    def __init__(self, message_pk: int | None) -> None:
        self.key = _busy_key(message_pk) if message_pk is not None else None
        self.stamped: float | None = None  # when last set

    def touch(self) -> None:
        """Renew the mark (at most every BUSY_RENEW_SECONDS): a worker killed mid-answer
        stops renewing it, and the sweep takes the message within BUSY_SECONDS."""
        if self.key is None:
            return
        if self.stamped is not None and time.monotonic() - self.stamped < BUSY_RENEW_SECONDS:
            return
        self.stamped = time.monotonic()
        try:
            cache.set(self.key, 1, timeout=BUSY_SECONDS)
        except Exception:
            logger.warning("could not mark %s as being answered", self.key, exc_info=True)

    def relay(self, push: Callable[[str], None]) -> Callable[[str], None]:
        """`push` (a streamed piece's way to the visitor), renewing the mark on the way."""

        def pushed(delta: str) -> None:
            self.touch()
            push(delta)

        return pushed

    def clear(self) -> None:
        if self.key is None:
            return
        try:
            cache.delete(self.key)
        except Exception:
            logger.warning("could not clear the mark %s", self.key, exc_info=True)


@contextmanager
def reply_busy(message_pk: int, *, enabled: bool) -> Iterator[BusyMark]:
    """Mark `message_pk` as being answered while the block runs, so the sweep leaves it;
    the block renews the mark through `BusyMark.relay` as the answer streams.

    Only for slow responders (`enabled`): an instant answer is stored long before the
    sweep's threshold. The mark is a hint; a cache that fails loses the hint, never the
    answer (at worst a second answer is computed and not stored).
    """
    mark = BusyMark(message_pk if enabled else None)
    mark.touch()
    try:
        yield mark
    finally:
        mark.clear()
