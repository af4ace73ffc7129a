"""The chat protocol's names and limits, once: for the websockets, the REST API, the staff
services and (through the generated `frontend/src/protocol.js`, `manage.py protocol_js`)
the widget and the inbox page. docs/widget-api.md documents them for integrators.
"""

from __future__ import annotations

import json
import re
from typing import Final

SUBPROTOCOL: Final = "customeragent.v2"  # the widget socket's `Sec-WebSocket-Protocol`
AUTH_PREFIX: Final = "auth."  # ... followed by the session token, as a second protocol

# What a person or a visitor may write in one message (the widget, the inbox, the API).
MESSAGE_MAX_CHARS: Final = 4000
# A visitor's own id for one message (the retry key of `message.send`).
CLIENT_ID_MAX_CHARS: Final = 64
# A staff member's id for one reply or note (inbox frames and the REST API); stored with
# a prefix in the same column as visitors' ids, so it is shorter.
STAFF_CLIENT_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,56}$"
STAFF_CLIENT_ID: Final = re.compile(STAFF_CLIENT_ID_PATTERN)
STAFF_CLIENT_ID_RULE: Final = "clientId must be 1-56 letters, digits, '-' or '_'."

# Close codes: 1012 when a web process stops (reconnect at once), 1013 when a service it
# needs is down (reconnect with backoff), 44xx refusals mirroring HTTP.
CLOSE_RESTARTING: Final = 1012
CLOSE_TRY_AGAIN: Final = 1013
CLOSE_UNAUTHORIZED: Final = 4401  # no, an expired or a forged session: start a new one
CLOSE_FORBIDDEN: Final = 4403  # this origin, customer or workspace may not: do not retry
CLOSE_RATE_LIMITED: Final = 4429  # too many: retry, but slower

# The constants the browser code shares, by the name it knows them under.
BROWSER_CONSTANTS: Final[dict[str, int | str]] = {
    "SUBPROTOCOL": SUBPROTOCOL,
    "AUTH_PREFIX": AUTH_PREFIX,
    "MESSAGE_MAX_CHARS": MESSAGE_MAX_CHARS,
    "CLIENT_ID_MAX_CHARS": CLIENT_ID_MAX_CHARS,
    "STAFF_CLIENT_ID_PATTERN": STAFF_CLIENT_ID_PATTERN,
    "CLOSE_RESTARTING": CLOSE_RESTARTING,
    "CLOSE_TRY_AGAIN": CLOSE_TRY_AGAIN,
    "CLOSE_UNAUTHORIZED": CLOSE_UNAUTHORIZED,
    "CLOSE_FORBIDDEN": CLOSE_FORBIDDEN,
    "CLOSE_RATE_LIMITED": CLOSE_RATE_LIMITED,
}


def browser_module() -> str:
    """`frontend/src/protocol.js`: the constants above as an ES module."""
    lines = [
        "// Generated from conversations/realtime/protocol.py by `manage.py protocol_js`;",
        "// do not edit (a test fails when it differs from the Python).",
    ]
    for name, value in BROWSER_CONSTANTS.items():
        lines.append(f"export const {name} = {json.dumps(value)};")
    return "\n".join(lines) + "\n"
