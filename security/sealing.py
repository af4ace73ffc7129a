"""Secrets we must read back (identity secrets) are stored sealed, never in the clear.

Fernet (AES-128-CBC + HMAC-SHA256) with keys derived from SECRET_KEY; SECRET_KEY_FALLBACKS
keep older seals readable while a rotated SECRET_KEY rolls out, exactly like Django's own
signing. A database dump alone therefore reveals no site's identity secret.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SealBroken(Exception):
    """The sealed value was not made with any of this platform's keys, or was altered."""


def _fernet_for(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"customeragent.sealing:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(str(key)) for key in keys])


def seal(value: str) -> str:
    return _keys().encrypt(value.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealBroken("This value was sealed with a key the platform no longer has.") from None
