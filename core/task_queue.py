"""Queueing tasks by name (answers, personalized greetings, alert notices).

A service queues a task by the name it is registered (and pinned in beat) under, so the
tasks modules import the services and never the reverse.

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
from importlib import import_module
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from celery import Task, current_app
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


def task_named(name: str) -> Task[Any, Any]:
    """The registered task; its module is imported first when nothing has yet."""
    if name not in current_app.tasks:
        import_module(name.rpartition(".")[0])
    task: Task[Any, Any] = current_app.tasks[name]
    return task


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def _run_detached(task: Task[Any, Any], args: tuple[Any, ...]) -> None:
    try:
        task.apply(args=args, throw=True)
    except Exception:
        logger.exception("%s%r failed", task.name, args)
    finally:
        connections.close_all()  # this worker thread's own connections


def task_enqueue(name: str, *args: Any) -> None:
    """`delay(*args)` of the task of this name, detached from the caller in embedded mode
    (see above)."""
    task = task_named(name)
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
