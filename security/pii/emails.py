"""Email addresses: a practical pattern, not RFC 5322.

Matched: `local@domain.tld` with dots, plus-addressing and subdomains, in any script.
Not matched, on purpose: `@mentions`, `user@localhost` and other hosts without a dotted
domain and an alphabetic top-level domain (`admin@10.0.0.1`): they are not a customer's
address, and masking them would hide what a support agent needs to read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Every quantifier is bounded (local part 64, label 63, as in RFC 5321) and the start must
# not follow another local-part character, so a 4,000-character word costs one attempt.
# An apostrophe (o'neil@) is allowed inside the local part only, so a quoted address
# ('jane@example.com') is masked without its quotes.
_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-](?:[\w.%+'-]{0,62}[\w.%+-])?"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}(?![\w-])"
)


def find_emails(text: str) -> Iterator[tuple[int, int]]:
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield match.span()
