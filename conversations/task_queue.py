"""Queueing the conversation tasks (answers, personalized greetings).

With a broker they go to Celery workers. In embedded mode Celery runs tasks eagerly, in
the caller: an answer would then be written inside the websocket handler that received
the question, so the visitor got the ack, every streamed piece and the final message at
once, and a greeting would hold up the session request. With EMBEDDED_TASKS_DETACHED
(`make run` sets it) the task runs instead on a worker thread of the server's own event
loop, as a Celery worker would run it beside the server: the handler returns, and the
pieces stream. Without a server loop around (a command, a plain test) it runs eagerly.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from celery import Task
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def _run_detached(task: Task[Any, Any], args: tuple[Any, ...]) -> None:
    try:
        task.apply(args=args, throw=True)
    except Exception:
        logger.exception("%s%r failed", task.name, args)
    finally:
        connections.close_all()  # this worker thread's own connections


def task_enqueue(task: Task[Any, Any], *args: Any) -> None:
    """`task.delay(*args)`, detached from the caller in embedded mode (see above)."""
    if not (settings.CELERY_TASK_ALWAYS_EAGER and settings.EMBEDDED_TASKS_DETACHED):
        task.delay(*args)
        return
    # Inside a sync_to_async thread this is the server's loop, still running; elsewhere
    # async_to_sync made a loop just for this call, and it has stopped.
    loop = async_to_sync(_running_loop)()
    if not loop.is_running():
        task.delay(*args)
        return
    detached = sync_to_async(_run_detached, thread_sensitive=False)
    asyncio.run_coroutine_threadsafe(detached(task, args), loop)
