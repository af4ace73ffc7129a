"""Stored events whose metadata is not valid text, left by versions that took any JSON.

The edge now refuses such text (security.untrusted_json), but rows stored before remain.
SQLite keeps a lone surrogate and then cannot hand it back to a query that extracts it
("Could not decode to UTF-8"): one such row failed the error grouping — for every tenant —
on every run. `events_read_repairing` runs a read over events; when the database cannot
decode a row, the bad rows are cleaned once (and logged once) and the read runs again.
PostgreSQL never stores such text, so there this costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, TypeVar

from django.db import DatabaseError, transaction
from django.db.models import QuerySet

from analytics.models import WidgetEvent
from security.untrusted_json import UNSTORABLE, json_problem

logger = logging.getLogger(__name__)
T = TypeVar("T")

REPAIR_BATCH = 500
# A read failing on undecodable text: the driver's error (SQLite) or Python's.
UNDECODABLE = (DatabaseError, UnicodeError)


def events_read_repairing(read: Callable[[], T], *, events: QuerySet[WidgetEvent], task: str) -> T:
    """`read()`, or — if a stored event's text cannot be decoded — repair `events`, then
    `read()` again. `read` must be repeatable (it returns what it read, and writes
    nothing)."""
    try:
        with transaction.atomic():  # a savepoint: a failed read leaves the transaction usable
            return read()
    except UNDECODABLE:
        repaired = events_text_repair(events)
        if not repaired:
            raise  # not the stored text: a failure for the caller
    logger.warning(
        "%s: cleaned %d stored event(s) whose text was not valid Unicode", task, repaired
    )
    return read()


def events_text_repair(events: QuerySet[WidgetEvent]) -> int:
    """Clean the metadata of `events` that holds text no store can keep; how many were.

    A lone surrogate or a NUL becomes U+FFFD; metadata the database cannot even return
    is cleared. Every other event is left as it is.
    """
    ids = list(events.order_by().values_list("id", flat=True))
    repaired = 0
    for batch in _batches(iter(ids)):
        for event_id, metadata in _read(batch):
            if metadata is _UNREADABLE:
                cleaned = None
            elif json_problem(metadata) is not None:
                cleaned = _scrubbed(metadata)
            else:
                continue
            WidgetEvent.objects.filter(id=event_id).update(metadata=cleaned)
            repaired += 1
    return repaired


_UNREADABLE = object()


def _read(batch: list[int]) -> list[tuple[int, Any]]:
    """The batch's (id, metadata); one at a time when some row cannot be decoded."""
    try:
        with transaction.atomic():
            return list(WidgetEvent.objects.filter(id__in=batch).values_list("id", "metadata"))
    except UNDECODABLE:
        pass
    rows: list[tuple[int, Any]] = []
    for event_id in batch:
        try:
            with transaction.atomic():
                metadata = WidgetEvent.objects.filter(id=event_id).values_list(
                    "metadata", flat=True
                )[0]
        except IndexError:
            continue  # deleted meanwhile (pruned)
        except UNDECODABLE:
            metadata = _UNREADABLE
        rows.append((event_id, metadata))
    return rows


def _scrubbed(value: Any) -> Any:
    """`value` with NUL and lone surrogates replaced (stored metadata is shallow: 8 levels
    at most, by the edge's limit)."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    if isinstance(value, dict):
        return {_scrubbed(key): _scrubbed(item) for key, item in value.items()}
    return value


def _batches(ids: Iterator[int]) -> Iterator[list[int]]:
    while batch := list(islice(ids, REPAIR_BATCH)):
        yield batch
