"""Who is on the visitor's side of a conversation: a browser and, when known, a customer."""

from __future__ import annotations

from dataclasses import dataclass

from customers.sessions import WidgetSession, conversation_owner_key


@dataclass(frozen=True)
class Party:
    visitor_id: str
    customer_id: int | None = None
    # Only a verified customer owns conversations across devices; an identified (claimed)
    # one is shown to staff but stays keyed to the browser.
    verified: bool = False

    @property
    def owner_key(self) -> str:
        return conversation_owner_key(
            visitor_id=self.visitor_id, customer_id=self.customer_id, verified=self.verified
        )

    @classmethod
    def of(cls, session: WidgetSession) -> Party:
        return cls(
            visitor_id=session.visitor_id,
            customer_id=session.customer_id,
            verified=session.customer_verified,
        )
