"""`make chaos`'s checker (bench.chaos_check): what counts as lost, duplicated, unanswered,
late and unseen in a fault's window, and the bar a window must clear."""

from __future__ import annotations

import random
from typing import Any

from bench.chaos_check import StoredQuestion, check_window, first_answer_after, window_ok
from bench.chaos_clients import ClientRecord, Sent, reconnect_delay

FAULT_END = 1000.0


def sent(record: ClientRecord, client_id: str, at: float, acked: float | None) -> None:
    record.sent[client_id] = Sent(
        client_id=client_id, text="q", at=at, acked_at=acked, message_id=f"m-{client_id}"
    )


def stored(
    client_id: str, *, answer_at: float | None = FAULT_END + 5, **extra: Any
) -> StoredQuestion:
    fields: dict[str, Any] = {
        "client_id": client_id,
        "public_id": f"m-{client_id}",
        "rows": 1,
        "answer_id": f"a-{client_id}" if answer_at is not None else None,
        "answer_at": answer_at,
        "answers": 1 if answer_at is not None else 0,
        "handed_off": False,
        **extra,
    }
    return StoredQuestion(**fields)


def figures(visitor: ClientRecord, rows: dict[str, StoredQuestion], **kw: Any) -> dict[str, Any]:
    return check_window(
        visitors=[visitor],
        staff=kw.pop("staff", ClientRecord()),
        start=900.0,
        fault_end=FAULT_END,
        end=1100.0,
        stored=rows,
        notes=kw.pop("notes", {}),
    )


def test_a_clean_window_passes() -> None:
    visitor = ClientRecord()
    sent(visitor, "a", 950, 950.01)
    sent(visitor, "b", 999, 1003)  # sent during the fault, acked 3 s after it ended
    visitor.seen.update({"a-a": 951, "a-b": 1004})

    result = figures(visitor, {"a": stored("a"), "b": stored("b")})

    assert result["lost"] == result["duplicated"] == result["unanswered"] == 0
    assert (result["answered"], result["answer_unseen"], result["recover_s"]) == (2, 0, 3.0)
    assert window_ok(result)


def test_acked_but_not_stored_is_lost_and_fails_the_window() -> None:
    visitor = ClientRecord()
    sent(visitor, "a", 950, 950.01)

    result = figures(visitor, {})

    assert result["lost"] == 1
    assert not window_ok(result)


def test_outside_the_window_is_not_counted() -> None:
    visitor = ClientRecord()
    sent(visitor, "early", 100, 100.1)  # another fault's window

    assert figures(visitor, {})["sent"] == 0


def test_doubled_rows_or_answers_count_as_duplicated() -> None:
    visitor = ClientRecord()
    sent(visitor, "a", 950, 951)
    sent(visitor, "b", 950, 951)

    result = figures(visitor, {"a": stored("a", rows=2), "b": stored("b", answers=2)})

    assert result["duplicated"] == 2
    assert not window_ok(result)


def test_unanswered_late_and_unseen_are_told_apart() -> None:
    visitor = ClientRecord()
    for client_id in ("none", "late", "handoff", "unseen"):
        sent(visitor, client_id, 950, 951)
    visitor.seen.update({"a-late": 1100})
    rows = {
        "none": stored("none", answer_at=None),
        "late": stored("late", answer_at=FAULT_END + 61),
        "handoff": stored("handoff", answer_at=None, handed_off=True),
        "unseen": stored("unseen"),
    }

    result = figures(visitor, rows)

    assert (result["unanswered"], result["answered_late"], result["answered"]) == (1, 1, 3)
    assert result["answer_unseen"] == 1  # stored and sent to no one who saw it
    assert not window_ok(result)


def test_staff_notes_acked_but_missing_or_doubled_fail_the_window() -> None:
    visitor, staff = ClientRecord(), ClientRecord()
    sent(staff, "n1", 950, 951)
    sent(staff, "n2", 950, 951)
    sent(staff, "n3", 950, None)  # never acknowledged: not lost, still in its outbox

    result = figures(visitor, {}, staff=staff, notes={"n2": 2})

    assert (result["staff_notes_lost"], result["staff_notes_duplicated"]) == (1, 1)
    assert result["staff_notes_acked"] == 2
    assert not window_ok(result)


def test_a_process_left_down_fails_the_window() -> None:
    result = figures(ClientRecord(), {})
    assert window_ok(result)
    result["processes_down"] = {"worker": 1}
    assert not window_ok(result)


def test_first_answer_after_a_moment() -> None:
    rows = {"a": stored("a", answer_at=990), "b": stored("b", answer_at=1004.5)}
    assert first_answer_after(rows, FAULT_END) == 4.5
    assert first_answer_after(rows, 2000) is None


def test_the_visitors_back_off_like_the_widget() -> None:
    rng = random.Random(1)
    delays = [reconnect_delay(attempt, rng) for attempt in range(12)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(15 <= d <= 30 for d in delays[7:])  # capped at 30 s, half of it fixed


def test_a_flood_left_unanswered_or_answered_500_fails_the_window() -> None:
    result = figures(ClientRecord(), {})
    result["observed"] = {"outcomes": {"session 503": 200, "socket closed 1013": 100}}
    assert window_ok(result)
    result["observed"] = {"outcomes": {"session 500": 3}}
    assert not window_ok(result)
    result["observed"] = {"outcomes": {"socket no answer in 40 s": 1}}
    assert not window_ok(result)


def test_a_slow_reader_the_server_kept_fails_the_window() -> None:
    result = figures(ClientRecord(), {})
    result["observed"] = {"server_closed": False}
    assert not window_ok(result)
