"""The browser's protocol constants are the server's (one rule, generated)."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import CommandError, call_command

from conversations.management.commands import protocol_js
from conversations.realtime import protocol


def test_the_browser_module_is_generated_from_the_server_constants() -> None:
    text = protocol_js.PROTOCOL_JS.read_text()
    found = dict(re.findall(r"^export const (\w+) = (.+);$", text, flags=re.MULTILINE))
    assert {name: json.loads(literal) for name, literal in found.items()} == (
        protocol.BROWSER_CONSTANTS
    )
    call_command("protocol_js", "--check")


def test_check_fails_on_a_stale_file(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "protocol.js"
    stale.write_text("export const MESSAGE_MAX_CHARS = 5000;\n")
    monkeypatch.setattr(protocol_js, "PROTOCOL_JS", stale)
    with pytest.raises(CommandError, match="out of date"):
        call_command("protocol_js", "--check")
    call_command("protocol_js")
    assert stale.read_text() == protocol.browser_module()
