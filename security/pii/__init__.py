"""Masking of personal data (cards, emails, phones, IBANs, national ids) in chat messages.

Pure functions, no Django: the caller decides where masking happens and stores only the
masked text and `MaskResult.found` (kinds and positions, never the values).

    result = pii_mask("card 4242 4242 4242 4242", policy=PiiPolicy.from_config(config))
    result.text  # "card [card ending 4242]"

Every detector validates what it finds (Luhn, IBAN and identity-number checksums,
libphonenumber's numbering plans), so order numbers, prices and dates stay readable. Every
pattern is bounded (no catastrophic backtracking): a typical message costs well under a
millisecond, a hostile 4,000-character one tens of milliseconds at worst, linear in length
(libphonenumber parses each phone-like candidate). See `python -m bench --only pii`.
"""

from security.pii.masking import MaskResult, PiiFinding, pii_mask
from security.pii.policy import PiiConfig, PiiKind, PiiPolicy

__all__ = ["MaskResult", "PiiConfig", "PiiFinding", "PiiKind", "PiiPolicy", "pii_mask"]
