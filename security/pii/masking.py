"""`pii_mask`: find personal data in a message and replace it with readable tokens."""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from security.pii.cards import find_cards
from security.pii.emails import find_emails
from security.pii.ibans import find_ibans
from security.pii.national_ids import find_national_ids
from security.pii.phones import find_phones
from security.pii.policy import PiiKind, PiiPolicy

# When two findings overlap, the earlier kind in this order wins. An email swallows any
# digits in it; an IBAN contains digit groups that can pass Luhn; identity numbers have
# stronger checks than Luhn's one in ten; a phone is the loosest match of all.
PRIORITY = (PiiKind.EMAIL, PiiKind.IBAN, PiiKind.NATIONAL_ID, PiiKind.CARD, PiiKind.PHONE)
# Below these digit counts a kind cannot occur, and skipping its detector keeps ordinary
# messages cheap (the phone matcher is the costly one).
MIN_DIGITS = {
    PiiKind.EMAIL: 0,
    PiiKind.IBAN: 2,
    PiiKind.NATIONAL_ID: 7,  # a codice fiscale re-lettered for a clash (omocodia) may have fewer
    PiiKind.CARD: 13,
    PiiKind.PHONE: 7,
}
DEFAULT_POLICY = PiiPolicy()


@dataclass(frozen=True)
class PiiFinding:
    """Where a value was, in the original text. The value itself is never kept."""

    kind: PiiKind
    start: int
    end: int


@dataclass(frozen=True)
class MaskResult:
    """The masked text and what was masked, in text order."""

    text: str
    found: tuple[PiiFinding, ...]

    @property
    def changed(self) -> bool:
        return bool(self.found)


def pii_mask(
    text: str, *, policy: PiiPolicy | None = None, region: str | None = None
) -> MaskResult:
    """Mask the card numbers, emails, phones, IBANs and national ids the policy selects.

    `region` (ISO 3166, default US) says how national phone numbers are written;
    international ones (`+44 20 7946 0958`) are found in any region. Masking is
    idempotent: the tokens it writes contain nothing it would mask again.
    """
    policy = policy or DEFAULT_POLICY
    if not policy.enabled or not text:
        return MaskResult(text=text, found=())
    ascii_text = ascii_digits(text)
    digit_count = sum(map(ascii_text.count, "0123456789"))
    candidates: list[PiiFinding] = []
    for kind in PRIORITY:
        if kind in policy.kinds and digit_count >= MIN_DIGITS[kind]:
            spans = _detect(kind, ascii_text, region, taken=candidates)
            candidates.extend(PiiFinding(kind, start, end) for start, end in spans)
    found = _without_overlaps(candidates)
    if not found:
        return MaskResult(text=text, found=())
    parts: list[str] = []
    position = 0
    for finding in found:
        value = ascii_text[finding.start : finding.end]
        parts += [text[position : finding.start], policy.replacement(finding.kind, value)]
        position = finding.end
    parts.append(text[position:])
    return MaskResult(text="".join(parts), found=found)


def ascii_digits(text: str) -> str:
    """The text with every Unicode decimal digit (fullwidth, Arabic-Indic, ...) as its ASCII digit.

    One code point maps to one, so positions stay those of the original text, and the
    detectors need to know only [0-9].
    """
    if text.isascii():
        return text
    table = {
        ord(char): str(unicodedata.decimal(char))
        for char in set(text)
        if not char.isascii() and char.isdecimal()
    }
    return text.translate(table) if table else text


def _detect(
    kind: PiiKind, text: str, region: str | None, *, taken: list[PiiFinding]
) -> Iterable[tuple[int, int]]:
    match kind:
        case PiiKind.CARD:
            return find_cards(text)
        case PiiKind.EMAIL:
            return find_emails(text)
        case PiiKind.PHONE:
            # The loosest and costliest detector runs last and skips what was found.
            return find_phones(text, region, taken=[(f.start, f.end) for f in taken])
        case PiiKind.IBAN:
            return find_ibans(text)
        case PiiKind.NATIONAL_ID:
            return find_national_ids(text)


def _without_overlaps(candidates: list[PiiFinding]) -> tuple[PiiFinding, ...]:
    """Keep findings in PRIORITY order, dropping any that overlaps one already kept."""
    kept: list[PiiFinding] = []
    starts: list[int] = []
    for finding in candidates:  # in PRIORITY order; within a kind, the first found wins
        index = bisect_left(starts, finding.start)
        if index > 0 and kept[index - 1].end > finding.start:
            continue
        if index < len(kept) and kept[index].start < finding.end:
            continue
        kept.insert(index, finding)
        starts.insert(index, finding.start)
    return tuple(kept)
