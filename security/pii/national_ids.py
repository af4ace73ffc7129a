"""National identity numbers whose format and check digits keep false positives rare.

- US SSN `123-45-6789` or `123 45 6789`; nine bare digits only right after "SSN" or
  "social security", since nine-digit order and account numbers are common. Areas 000,
  666 and 9xx, group 00, serial 0000 and known published numbers are not SSNs.
- French NIR (numéro de sécurité sociale, 15 characters with a mod-97 key).
- Spanish DNI (8 digits and a check letter) and NIE (X/Y/Z, 7 digits, check letter).
- Italian codice fiscale (16 characters with a check letter).

Left out: the German tax id and the Dutch BSN. They are bare 11 and 9 digit numbers whose
checks pass for roughly one random number in ten, so order and tracking numbers would be
masked as identity numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.us import ssn

# Separators must agree (\1), and the number must not continue with more digit groups.
_SSN = re.compile(r"(?<![0-9-])(?<![0-9] )[0-9]{3}([- ])[0-9]{2}\1[0-9]{4}(?![0-9])(?![- ][0-9])")
_SSN_AFTER_LABEL = re.compile(
    r"\b(?:ssn|social security(?: number| no\.?)?)(?: is)?[ :#.-]{0,3}([0-9]{9})(?![0-9])",
    re.IGNORECASE,
)
_NIR = re.compile(
    r"(?<![0-9A-Za-z])[1-478] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}"
    r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_DNI = re.compile(r"(?<![0-9A-Za-z])[0-9]{8}-?[A-Z](?![0-9A-Za-z])", re.IGNORECASE)
_NIE = re.compile(r"(?<![0-9A-Za-z])[XYZ]-?[0-9]{7}-?[A-Z](?![0-9A-Za-z])", re.IGNORECASE)
_CODICE_FISCALE = re.compile(
    r"(?<![0-9A-Za-z])[A-Z]{6}[0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]"
    r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)


def _ssn_valid(number: str) -> bool:
    # stdnum checks its list of published numbers against the nine bare digits.
    return ssn.is_valid(re.sub(r"[ -]", "", number))


_CHECKED: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
    (_SSN, _ssn_valid),
    (_NIR, nir.is_valid),
    (_DNI, dni.is_valid),
    (_NIE, nie.is_valid),
    (_CODICE_FISCALE, codicefiscale.is_valid),
)


def find_national_ids(text: str) -> Iterator[tuple[int, int]]:
    """Spans of valid national identity numbers in text whose digits are ASCII."""
    for pattern, is_valid in _CHECKED:
        for match in pattern.finditer(text):
            if is_valid(match.group()):
                yield match.span()
    for match in _SSN_AFTER_LABEL.finditer(text):
        if _ssn_valid(match.group(1)):
            yield match.span(1)
