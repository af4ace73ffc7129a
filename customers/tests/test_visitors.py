"""Visitor secrets: what proves a browser is the visitor it remembers."""

from __future__ import annotations

import logging
from typing import Any

from customers.visitors import visitor_resolve, visitor_secret_for, visitor_secret_valid

AGENT = "agt_acme0000000000001"
VISITOR = "vis_browser000000001"


def test_a_visitor_with_its_secret_is_kept() -> None:
    secret = visitor_secret_for(agent_public_id=AGENT, visitor_id=VISITOR)
    resolved = visitor_resolve(agent_public_id=AGENT, candidate=VISITOR, secret=secret)
    assert (resolved.visitor_id, resolved.secret) == (VISITOR, secret)


def test_the_secret_is_the_same_after_a_restart_and_differs_per_visitor_and_agent() -> None:
    secret = visitor_secret_for(agent_public_id=AGENT, visitor_id=VISITOR)
    assert secret == visitor_secret_for(agent_public_id=AGENT, visitor_id=VISITOR)
    assert secret != visitor_secret_for(agent_public_id=AGENT, visitor_id=VISITOR + "2")
    assert secret != visitor_secret_for(agent_public_id="agt_other000000000001", visitor_id=VISITOR)


def test_a_visitor_without_its_secret_becomes_a_new_visitor(caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="customeragent.security"):
        resolved = visitor_resolve(agent_public_id=AGENT, candidate=VISITOR, secret=None)
    assert resolved.visitor_id != VISITOR and resolved.visitor_id.startswith("vis_")
    assert visitor_secret_valid(
        agent_public_id=AGENT, visitor_id=resolved.visitor_id, secret=resolved.secret
    )
    assert "no visitor secret" in caplog.text


def test_a_browser_without_any_visitor_starts_quietly(caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="customeragent.security"):
        for candidate in (None, "", "../../etc/passwd"):
            visitor_resolve(agent_public_id=AGENT, candidate=candidate, secret=None)
    assert caplog.records == []


def test_secrets_made_under_a_retired_key_still_prove_the_visitor(settings: Any) -> None:
    old = visitor_secret_for(agent_public_id=AGENT, visitor_id=VISITOR)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    resolved = visitor_resolve(agent_public_id=AGENT, candidate=VISITOR, secret=old)
    assert resolved.visitor_id == VISITOR
    # The browser is handed the secret under the new key, so it moves over by itself.
    assert resolved.secret != old
    assert resolved.secret == visitor_secret_for(agent_public_id=AGENT, visitor_id=VISITOR)


def test_a_secret_made_under_a_key_no_longer_listed_proves_nothing(settings: Any) -> None:
    old = visitor_secret_for(agent_public_id=AGENT, visitor_id=VISITOR)
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = []
    assert not visitor_secret_valid(agent_public_id=AGENT, visitor_id=VISITOR, secret=old)
