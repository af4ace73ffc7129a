"""The one strict decoder for outside JSON (security.untrusted_json)."""

from __future__ import annotations

import pytest

from security.untrusted_json import UntrustedJsonError, untrusted_json_loads


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ('{"a": "\\ud83d\\ude00"}', {"a": "😀"}),  # an escaped pair is one character
        ('{"a": "\\\\ud800"}', {"a": "\\ud800"}),  # an escaped backslash, not a surrogate
        ('{"a": [1, 2.5, -0.0, true, null]}', {"a": [1, 2.5, -0.0, True, None]}),
        ('"plain"'.encode("utf-16"), "plain"),  # json's encoding detection still works
    ],
)
def test_it_accepts_valid_documents(raw: str | bytes, value: object) -> None:
    assert untrusted_json_loads(raw) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"a": "x\\ud800"}', "has text that is not valid Unicode (a lone surrogate) at a"),
        ('{"a": "\\udc00\\ud800"}', "lone surrogate"),  # a pair the wrong way round
        ('[{"b": ["\\u0000"]}]', "has a NUL character (\\u0000) at [0].b[0]"),
        ('{"a": {"\\ud800": 1}}', "in a key at a"),
        (b'{"a": "\xed\xa0\x80"}', "lone surrogate"),  # raw bytes: json decodes surrogatepass
        ('"\\ud800"', "at the top level"),
        ("[NaN]", "has NaN, which JSON does not allow"),
        ("[-Infinity]", "has -Infinity"),
        ("[1e999]", "has a number too large to store"),
        ("{oops", "is not valid JSON"),
        (b"\xff\xfe\xfa", "is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "is not valid JSON"),  # deeper than the stack
    ],
)
def test_it_refuses_what_no_store_can_keep(raw: str | bytes, reason: str) -> None:
    with pytest.raises(UntrustedJsonError) as refused:
        untrusted_json_loads(raw)
    assert reason in str(refused.value)


def test_depth_is_limited_only_when_asked() -> None:
    nested = "[" * 9 + "]" * 9
    assert untrusted_json_loads(nested) == [[[[[[[[[]]]]]]]]]
    with pytest.raises(UntrustedJsonError, match="nests deeper than 8 levels"):
        untrusted_json_loads(nested, max_depth=8)
    assert untrusted_json_loads("[" * 8 + "]" * 8, max_depth=8)


def test_a_long_key_is_shortened_in_the_reason() -> None:
    with pytest.raises(UntrustedJsonError) as refused:
        untrusted_json_loads('{"' + "k" * 500 + '": "\\ud800"}')
    assert str(refused.value).endswith("at " + "k" * 40)


def test_a_deep_place_is_shortened_in_the_reason() -> None:
    with pytest.raises(UntrustedJsonError) as refused:
        untrusted_json_loads("[" * 500 + '"\\ud800"' + "]" * 500)
    assert str(refused.value).startswith("has text that is not valid Unicode")
    assert len(str(refused.value)) < 300
