"""Phone numbers, found by Google's libphonenumber rules for the agent's region."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

DEFAULT_REGION = "US"
# With an unknown region, only numbers written with a +country code are found.
UNKNOWN_REGION = "ZZ"

# libphonenumber's candidates are digit blocks joined by up to 4 of these marks (its
# VALID_PUNCTUATION, plus any whitespace), after an optional +, ( or [.
_PUNCTUATION = (
    r"\s\-x\u2010-\u2015\u2212\u30fc\uff0d-\uff0f\u00ad\u200b\u2060"
    r"()\uff08\uff09\uff3b\uff3d.\[\]/~\u2053\u223c\uff5e"
)
_NUMBER_CHAR = re.compile(rf"[0-9+\uff0b{_PUNCTUATION}]")
_SEVEN_DIGITS = re.compile(rf"[0-9](?:[{_PUNCTUATION}]{{0,4}}[0-9]){{6}}")
# Dates and times are not phone numbers, yet libphonenumber reads some as one
# ("2024-01-15. 12"), so they are blanked before it reads the text. A date must stand
# alone: "06.12.34.56.78" stays a (French) phone number.
_DATES_AND_TIMES = re.compile(
    r"(?<![0-9])(?<![0-9][./:-])"
    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}[/.][0-9]{1,2}[/.][0-9]{2,4}"
    r"|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)"
    r"(?![0-9])(?![./:-][0-9])"
)
_BLANK = "_"
# Room after a run of digits for an extension ("ext. 1234").
_EXTENSION_ROOM = 24


def find_phones(
    text: str, region: str | None, *, taken: Iterable[tuple[int, int]] = ()
) -> Iterator[tuple[int, int]]:
    """Spans of valid phone numbers: national ones for `region`, international ones anywhere.

    Leniency VALID accepts only numbers that exist in the numbering plan, which is what
    keeps prices, dates, years and order numbers out. `taken` spans (cards, IBANs, ... found
    already) are hidden from the matcher: no phone is read into their digits.
    """
    matcher_region = phone_region(region)
    searched = _blanked(text, [*taken, *(m.span() for m in _DATES_AND_TIMES.finditer(text))])
    for start, end in _windows(searched):
        window = searched[start:end]
        for match in PhoneNumberMatcher(window, matcher_region, leniency=Leniency.VALID):
            yield start + match.start, start + match.end


def phone_region(region: str | None) -> str:
    """An ISO 3166 region libphonenumber knows; an unknown one must not break masking."""
    code = (region or DEFAULT_REGION).upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else UNKNOWN_REGION


def _windows(text: str) -> list[tuple[int, int]]:
    """Stretches of text around runs of 7+ digits: the only places a phone number can be.

    The matcher parses every number-like candidate (~40 us each), prices and order numbers
    included, so giving it only these stretches is what keeps a typical message cheap. A
    stretch never splits a run of number characters and keeps one character on each side,
    which is all the context the matcher reads.
    """
    windows: list[tuple[int, int]] = []
    digits_end = 0  # where the last run of number characters seen ends
    for cluster in _SEVEN_DIGITS.finditer(text):
        if cluster.end() <= digits_end:
            continue  # part of a run already in a stretch
        start = max(0, _run_start(text, cluster.start()) - 1)
        if windows and start <= windows[-1][1]:
            start = windows.pop()[0]
        digits_end = _run_end(text, cluster.end())
        end = _run_end(text, digits_end + _EXTENSION_ROOM)
        windows.append((start, min(len(text), end + 1)))
    return windows


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with `spans` overwritten by "_", positions unchanged.

    "_" is neither a digit, phone punctuation nor a letter, so it joins nothing: blanking
    with spaces would let "4155552671 x, <date> 4155552671" read as one number with an
    extension, and letters would make the matcher reject a number next to them.
    """
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = _BLANK * (end - start)
    return "".join(chars)


def _run_start(text: str, position: int) -> int:
    while position > 0 and _NUMBER_CHAR.match(text, position - 1):
        position -= 1
    return position


def _run_end(text: str, position: int) -> int:
    position = min(position, len(text))
    while position < len(text) and _NUMBER_CHAR.match(text, position):
        position += 1
    return position
