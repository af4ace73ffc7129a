"""IBANs: country code, check digits and account, compact or in groups, with a valid checksum."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterator

from stdnum import iban, numdb

# Two letters, two check digits, then 11-30 more characters (IBANs have 15 to 34), with at
# most one space between characters. Bounded, so a failed attempt costs at most 34 steps.
_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])[A-Za-z]{2}[0-9]{2}(?: ?[0-9A-Za-z]){11,30}(?![0-9A-Za-z])"
)
_REGISTRY = numdb.get("iban")  # stdnum's copy of the SWIFT IBAN registry
_FIELD_LENGTHS = re.compile(r"([0-9]+)!")
# ISO 13616 reads letters as numbers (A=10 ... Z=35) for the mod-97 check.
_AS_NUMBER = str.maketrans({c: str(int(c, 36)) for c in string.ascii_letters})


def find_ibans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of valid IBANs, written compact or with single spaces (`GB82 WEST 1234 ...`).

    The country code fixes the length, so a candidate that runs into the next word
    ("... 7654 32 THANKS") is cut there, and only one string per candidate is validated.
    """
    position = 0
    while match := _CANDIDATE.search(text, position):
        end = _valid_end(match.group())
        if end is None:
            position = match.start() + 1
            continue
        yield match.start(), match.start() + end
        position = match.start() + end


def _valid_end(candidate: str) -> int | None:
    length = _iban_length(candidate[:2].upper())
    if length is None:
        return None
    char_ends = [index + 1 for index, char in enumerate(candidate) if char != " "]
    if len(char_ends) < length:
        return None
    end = char_ends[length - 1]
    if end < len(candidate) and candidate[end] != " ":
        return None  # the IBAN would end inside a group of characters
    compact = candidate[:end].replace(" ", "")
    # The mod-97 check costs a microsecond; stdnum's full validation (account format and
    # national check digits) runs only for the one candidate in 97 that passes it.
    return end if _checksum_ok(compact) and iban.is_valid(compact) else None


@functools.cache
def _iban_length(country: str) -> int | None:
    """Length of the country's IBANs per the registry, or None for a non-IBAN country."""
    bban = _REGISTRY.info(country)[0][1].get("bban")
    return 4 + sum(map(int, _FIELD_LENGTHS.findall(bban))) if bban else None


def _checksum_ok(compact: str) -> bool:
    return int((compact[4:] + compact[:4]).translate(_AS_NUMBER)) % 97 == 1
