"""Public, unguessable identifiers such as `agt_3hV9kq2LxP7wZt4A` (never sequential)."""

from __future__ import annotations

import re
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
RANDOM_LENGTH = 16


def new_public_id(prefix: str) -> str:
    return prefix + "_" + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def public_id_derived(prefix: str, digest: bytes) -> str:
    """A public id made from a secret-keyed digest (at least 12 bytes) instead of chance:
    the same digest always gives the same id, as unguessable as the key."""
    number = int.from_bytes(digest[:12], "big")
    chars = []
    for _ in range(RANDOM_LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return prefix + "_" + "".join(chars)


def is_public_id(value: object, prefix: str) -> bool:
    return (
        isinstance(value, str) and re.fullmatch(rf"{prefix}_[A-Za-z0-9]{{8,40}}", value) is not None
    )


def new_agent_id() -> str:
    return new_public_id("agt")


def new_conversation_id() -> str:
    return new_public_id("cnv")


def new_message_id() -> str:
    return new_public_id("msg")


def new_visitor_id() -> str:
    return new_public_id("vis")


def new_identity_key_id() -> str:
    return new_public_id("idk")
