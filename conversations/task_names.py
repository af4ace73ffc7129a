"""The conversation tasks' names: registered under these (conversations.tasks), queued by
them (core.task_queue), and pinned so that queued tasks and beat entries still resolve."""

from __future__ import annotations

from typing import Final

REPLY_TASK: Final = "conversations.tasks.reply_to_message"
GREETING_TASK: Final = "conversations.tasks.greet_customer"
SWEEP_TASK: Final = "conversations.tasks.sweep_unanswered"
