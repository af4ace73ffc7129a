"""What a consumer reads of its connection (headers, the client's address) and how it
reaches the database (a pool thread per call, not the process's one sync thread)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.db import connections

from security.client_ip import client_ip

T = TypeVar("T")


def in_db_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run ORM work in a pool thread, concurrently with other visitors' work.

    Channels' default is the process's single sync thread, where every visitor's message
    would queue behind every other's. Each call here is self-contained (its own
    transaction) and hands its connection back (to the process's pool, on PostgreSQL) when
    it is done, so no thread keeps one.
    """

    def call_and_release(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    hop: Callable[..., Awaitable[T]] = database_sync_to_async(
        call_and_release, thread_sensitive=False
    )
    return hop


def scope_header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def scope_client_ip(scope: dict[str, Any]) -> str:
    peer = scope.get("client") or (None, None)
    return client_ip(peer[0], scope_header(scope, b"x-forwarded-for") or None)
