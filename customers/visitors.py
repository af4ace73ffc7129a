from __future__ import annotations

from security.ids import is_public_id, new_visitor_id


def visitor_id_resolve(candidate: str | None) -> str:
    """Keep a well-formed visitor id the widget remembered; otherwise mint a new one.

    Visitor ids are bearer-less labels: a token binds one to a session, so a guessed id
    gains nothing without a token signed for it.
    """
    if candidate and is_public_id(candidate, "vis"):
        return candidate
    return new_visitor_id()
