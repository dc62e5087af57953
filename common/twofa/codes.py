"""Recovery codes: how they look, how they are hashed.

A code is 12 characters from an alphabet without look-alikes (no 0/o, 1/l/i), shown as
``xxxx-xxxx-xxxx``: about 59 bits, so a plain SHA-256 is enough to keep a database dump from
revealing them (a slow password hash would make each login check ten of them slowly).
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
LENGTH = 12
COUNT = 10
_SHAPE = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")


def recovery_code_new() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4))


def recovery_code_normalize(text: str) -> str:
    """What the person typed, without spaces, hyphens or capitals (they copy it from paper)."""
    return re.sub(r"[\s-]", "", text).lower()


def recovery_code_digest(text: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be a recovery code (e.g. a TOTP code)."""
    code = recovery_code_normalize(text)
    if not _SHAPE.fullmatch(code):
        return None
    return hashlib.sha256(code.encode()).hexdigest()
