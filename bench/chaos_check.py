"""Every operation of a `make chaos` window checked against the database.

For the visitor messages first sent in a fault's window: sent, acknowledged, lost
(acknowledged but not stored), duplicated (stored twice, or answered twice), answered (an
agent answer stored under the question's reply key, or a handoff notice after it),
answered late (more than ANSWER_DEADLINE_S after the fault ended, or after the send when
it came later), answers the visitor never saw, and the longest time to recover (from the
fault's end to the last acknowledgement of a message sent before that). Staff notes are
checked the same way (stored once per client id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bench.chaos_clients import ClientRecord, Sent

ANSWER_DEADLINE_S = 60.0


@dataclass(frozen=True)
class StoredQuestion:
    client_id: str
    public_id: str
    rows: int  # customer rows stored under this client id
    answer_id: str | None
    answer_at: float | None  # unix time
    answers: int  # agent messages saying they answer it
    handed_off: bool  # a handoff notice after it, or its conversation is with a person


QUESTIONS_SQL = """
SELECT q.client_id, min(q.public_id), count(*),
       min(a.public_id), extract(epoch FROM min(a.created_at)),
       (SELECT count(*) FROM conversations_message d
         WHERE d.conversation_id = min(q.conversation_id) AND d.role = 'agent'
           AND d.metadata->>'inReplyTo' = min(q.public_id)),
       EXISTS (SELECT 1 FROM conversations_message s
                WHERE s.conversation_id = min(q.conversation_id) AND s.role = 'system'
                  AND s.id > min(q.id))
         OR min(c.status) <> 'bot'
FROM conversations_message q
JOIN conversations_conversation c ON c.id = q.conversation_id
LEFT JOIN conversations_message a
  ON a.conversation_id = q.conversation_id AND a.client_id = 'reply:' || q.public_id
WHERE q.role = 'customer' AND q.client_id = ANY(%s)
GROUP BY q.client_id
"""
# Staff messages are stored under "staff:<client id>" (conversations.staff).
STAFF_PREFIX = "staff:"
NOTES_SQL = """
SELECT substr(client_id, 7), count(*) FROM conversations_message
WHERE role = 'note' AND client_id = ANY(%s) GROUP BY client_id
"""


def stored_questions(database_url: str, client_ids: list[str]) -> dict[str, StoredQuestion]:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as db:
        rows = db.execute(QUESTIONS_SQL, (client_ids,)).fetchall()
    return {
        row[0]: StoredQuestion(
            client_id=row[0],
            public_id=row[1],
            rows=int(row[2]),
            answer_id=row[3],
            answer_at=float(row[4]) if row[4] is not None else None,
            answers=int(row[5]),
            handed_off=bool(row[6]),
        )
        for row in rows
    }


def stored_notes(database_url: str, client_ids: list[str]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as db:
        keys = [STAFF_PREFIX + client_id for client_id in client_ids]
        return {row[0]: int(row[1]) for row in db.execute(NOTES_SQL, (keys,)).fetchall()}


def in_window(records: Iterable[ClientRecord], start: float, end: float) -> list[Sent]:
    return [s for r in records for s in r.sent.values() if start <= s.at < end]


def check_window(
    *,
    visitors: list[ClientRecord],
    staff: ClientRecord,
    start: float,
    fault_end: float,
    end: float,
    stored: dict[str, StoredQuestion],
    notes: dict[str, int],
) -> dict[str, Any]:
    """The figures of one fault window [start, end) whose fault ended at `fault_end`."""
    sent = in_window(visitors, start, end)
    acked = [s for s in sent if s.acked_at is not None]
    answered, late, unanswered = _answers(sent, stored, fault_end)
    return {
        "sent": len(sent),
        "acked": len(acked),
        "unacked": len(sent) - len(acked),
        "lost": sum(1 for s in acked if s.client_id not in stored),
        "duplicated": _duplicated(sent, stored),
        "answered": answered,
        "answered_late": late,
        # a person has them: fine, unless a fault caused it
        "handed_off": sum(1 for s in sent if (row := stored.get(s.client_id)) and row.handed_off),
        "unanswered": unanswered,
        "answer_unseen": _answer_unseen(visitors, sent, stored),
        "recover_s": _recover_s(acked, fault_end),
        **_staff_figures(in_window([staff], start, end), notes),
        "client_errors": _client_errors([*visitors, staff], start, end),
        "unacked_detail": _unacked_detail(visitors, start, end, fault_end),
    }


def _duplicated(sent: list[Sent], stored: dict[str, StoredQuestion]) -> int:
    """Messages stored twice, or answered twice."""
    return sum(
        1
        for s in sent
        if (row := stored.get(s.client_id)) is not None and (row.rows > 1 or row.answers > 1)
    )


def _answers(
    sent: list[Sent], stored: dict[str, StoredQuestion], fault_end: float
) -> tuple[int, int, int]:
    """Of the messages stored: answered (or handed off), answered late, unanswered."""
    answered, late, unanswered = 0, 0, 0
    for s in sent:
        row = stored.get(s.client_id)
        if row is None:
            continue
        if row.answer_at is None and not row.handed_off:
            unanswered += 1
            continue
        answered += 1
        if row.answer_at is not None and row.answer_at - max(s.at, fault_end) > ANSWER_DEADLINE_S:
            late += 1
    return answered, late, unanswered


def _answer_unseen(
    visitors: list[ClientRecord], sent: list[Sent], stored: dict[str, StoredQuestion]
) -> int:
    """Answers stored that no visitor saw."""
    seen = {message_id for record in visitors for message_id in record.seen}
    return sum(
        1
        for s in sent
        if (row := stored.get(s.client_id)) is not None
        and row.answer_id is not None
        and row.answer_id not in seen
    )


def _recover_s(acked: list[Sent], fault_end: float) -> float:
    """From the fault's end to the last acknowledgement of a message sent before that."""
    before_end = [s for s in acked if s.at <= fault_end]
    recover = max((s.acked_at - fault_end for s in before_end if s.acked_at), default=0.0)
    return round(max(recover, 0.0), 2)


def _staff_figures(staff_sent: list[Sent], notes: dict[str, int]) -> dict[str, int]:
    """The staff notes sent in the window: acknowledged, lost and stored twice."""
    return {
        "staff_notes": len(staff_sent),
        "staff_notes_acked": sum(1 for s in staff_sent if s.acked_at is not None),
        "staff_notes_lost": sum(
            1 for s in staff_sent if s.acked_at is not None and s.client_id not in notes
        ),
        "staff_notes_duplicated": sum(1 for s in staff_sent if notes.get(s.client_id, 0) > 1),
    }


def _client_errors(records: list[ClientRecord], start: float, end: float) -> dict[str, int]:
    """The clients' most common errors in the window, by kind."""
    errors: Counter[str] = Counter(
        kind for r in records for at, kind in r.error_times if start <= at < end
    )
    return dict(errors.most_common(8))


def _unacked_detail(
    visitors: list[ClientRecord], start: float, end: float, fault_end: float
) -> list[dict[str, Any]]:
    """For a message never acknowledged: when it was sent and what its client saw since."""
    detail = []
    for record in visitors:
        for s in record.sent.values():
            if start <= s.at < end and s.acked_at is None:
                detail.append(
                    {
                        "sent_s": round(s.at - fault_end, 2),  # relative to the fault's end
                        "connects_s": [round(at - fault_end, 2) for at in record.connects][-5:],
                        "errors": [
                            (round(at - fault_end, 2), kind) for at, kind in record.error_times
                        ][-6:],
                    }
                )
    return detail[:10]


def first_answer_after(stored: dict[str, StoredQuestion], moment: float) -> float | None:
    """Seconds from `moment` to the first answer stored after it (Celery consuming again)."""
    times = [q.answer_at for q in stored.values() if q.answer_at and q.answer_at >= moment]
    return round(min(times) - moment, 2) if times else None


def window_ok(figures: dict[str, Any]) -> bool:
    """The issue's bar: nothing acknowledged lost or doubled, everything answered in time,
    no process left down."""
    return (
        figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["unanswered"] == 0
        and figures["answered_late"] == 0
        and figures["staff_notes_lost"] == 0
        and figures["staff_notes_duplicated"] == 0
        and not figures.get("processes_down")
        # the slow reader: the server ended it rather than buffering for it
        and figures.get("observed", {}).get("server_closed") is not False
        # the flood: every request and socket answered in bounded time, never with a 500
        and not any(
            "no answer" in outcome or outcome.endswith(" 500")
            for outcome in figures.get("observed", {}).get("outcomes", {})
        )
    )
