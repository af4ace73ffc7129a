"""Websocket frames: the strict parser and the once-per-kind refusal log (security.frames)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from security.frames import FrameRefused, RefusalLog, frame_parse


def test_a_json_object_is_read() -> None:
    assert frame_parse('{"type": "typing", "state": true}') == {"type": "typing", "state": True}


@pytest.mark.parametrize(
    ("text_data", "bytes_data", "kind"),
    [
        (None, b"\x00binary", "binary"),
        (None, None, "empty"),
        ("x" * (32 * 1024 + 1), None, "too_large"),
        ("{nope", None, "invalid_json"),
        ('{"text": "\\ud800"}', None, "invalid_json"),
        ("[1, 2]", None, "not_object"),
    ],
)
def test_anything_else_is_refused_with_its_kind(
    text_data: str | None, bytes_data: bytes | None, kind: str
) -> None:
    refused = frame_parse(text_data, bytes_data)
    assert isinstance(refused, FrameRefused) and refused.kind == kind


def test_refusals_are_logged_once_per_kind_then_summed_up(caplog: Any) -> None:
    log = RefusalLog(logging.getLogger("test.frames"), "socket of vis_1")
    with caplog.at_level(logging.INFO, logger="test.frames"):
        for _ in range(500):
            log.note("invalid_json", "The frame is not valid JSON.")
        log.note("binary", "Frames are JSON text.")
        log.note("binary", "Frames are JSON text.")
        log.summary()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "socket of vis_1: frame refused (invalid_json): The frame is not valid JSON.",
        "socket of vis_1: frame refused (binary): Frames are JSON text.",
        "socket of vis_1: also refused 1 more binary, 499 more invalid_json",
    ]


def test_a_clean_connection_writes_no_summary(caplog: Any) -> None:
    log = RefusalLog(logging.getLogger("test.frames"), "socket of vis_2")
    with caplog.at_level(logging.INFO, logger="test.frames"):
        log.note("unknown_type", "Unknown frame type 'x'.")
        log.summary()
    assert len(caplog.records) == 1
