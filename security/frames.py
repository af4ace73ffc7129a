"""Websocket frames from outside: one strict parser, and refusals logged once per kind.

Both sockets (the widget's and the staff inbox) count every frame against the
connection's frame limit before calling `frame_parse` — a frame that does not parse costs
as much as one that does — so a flood of garbage is closed with 4429 like any other.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from security.untrusted_json import UntrustedJsonError, untrusted_json_loads

# 32 KB of JSON text; the server (uvicorn --ws-max-size 65536) drops larger frames itself.
MAX_FRAME_CHARS = 32 * 1024


@dataclass(frozen=True)
class FrameRefused:
    """Why a frame was not read: `kind` for the log, `message` for the sender."""

    kind: str
    message: str


def frame_parse(
    text_data: str | None, bytes_data: bytes | None = None
) -> dict[str, Any] | FrameRefused:
    """A websocket frame as a JSON object, or a FrameRefused saying why not."""
    if text_data is None:
        kind = "binary" if bytes_data is not None else "empty"
        return FrameRefused(kind, "Frames are JSON text; binary frames are not read.")
    if len(text_data) > MAX_FRAME_CHARS:
        return FrameRefused("too_large", "Frames are JSON text of at most 32 KB.")
    try:
        content = untrusted_json_loads(text_data)
    except UntrustedJsonError as exc:
        return FrameRefused("invalid_json", f"The frame {exc}.")
    if not isinstance(content, dict):
        return FrameRefused("not_object", "Frames must be JSON objects.")
    return content


class RefusalLog:
    """One connection's refused frames: the first of each kind is logged, the rest counted
    and summed up in one line when the socket closes, so a flood writes a few lines."""

    def __init__(self, logger: logging.Logger, connection: str) -> None:
        self.logger = logger
        self.connection = connection
        self.counts: Counter[str] = Counter()

    def note(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] == 1:
            self.logger.info("%s: frame refused (%s): %s", self.connection, kind, message[:200])

    def summary(self) -> None:
        repeated = {kind: n - 1 for kind, n in self.counts.items() if n > 1}
        if repeated:
            self.logger.info("%s: also refused %s", self.connection, _counted(repeated))


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} more {kind}" for kind, n in sorted(counts.items()))
