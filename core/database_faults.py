"""What a dropped or unreachable database does to a request, a socket frame and /readyz.

PostgreSQL drops every connection when it restarts or fails over, or when an operator
terminates them. The pool (psycopg_pool, config/settings/services.py) does not notice that a
connection died while it sat idle, so after a drop each idle connection would fail the
next caller it is handed to, one after another. The first caller to hit one instead has
the pool test all of its idle connections (`database_connections_recover`): one visitor,
not one per idle connection, hears "try again shortly" (a 503, core.exceptions), and a
socket's message is stored on a fresh connection (`retried_on_drop`).

Testing every connection as it leaves the pool (Django's CONN_HEALTH_CHECKS, which hands
psycopg_pool `check_connection`) is not used: it costs a round trip per checkout, and after
a drop the pool sleeps between the dead connections it tests (0, 1, 2, 4 s, ...), so the
first caller waited 3 s with three idle connections and timed out (10 s) with six.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import InterfaceError, OperationalError, connection, connections

from core.redis_pools import REDIS_FAULTS

logger = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

# A lost or refused connection, a pool with none to give, a statement PostgreSQL cancelled:
# the same request is likely to work a few seconds later.
DATABASE_FAULTS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
# PostgreSQL or Redis failing under some work: retried, or a 503 / a socket closed 1013.
SERVICE_FAULTS: tuple[type[Exception], ...] = (*DATABASE_FAULTS, *REDIS_FAULTS)
# What a client is told to wait before trying again (the widget's session retry honours it).
RETRY_AFTER_SECONDS = 5


def database_connections_recover() -> None:
    """After a database fault: hand this thread's connections back (the pool discards a
    broken one) and have the pool test its idle ones, which most likely died with it."""
    connections.close_all()
    pool = getattr(connection, "pool", None)  # PostgreSQL with a pool only
    if pool is not None and not pool.closed:
        pool.check()


def retried_on_drop(func: Callable[P, T]) -> Callable[P, T]:
    """`func`, called once more on a fresh connection when the first call's connection
    failed. Only for work that is safe to repeat: a transaction cut short was rolled back,
    and one whose commit went through is found again (a message by its clientId)."""

    @wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except DATABASE_FAULTS as exc:
            logger.warning(
                "%s lost its database connection (%s); retrying once", func.__name__, exc
            )
            database_connections_recover()
            return func(*args, **kwargs)

    return call
