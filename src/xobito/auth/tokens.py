"""Token plaintext generation and hashing. Only the SHA-256 hex digest is ever stored."""

from __future__ import annotations

import hashlib
import secrets
import string

PREFIX = "apitk_"
_ALPHABET = string.ascii_letters + string.digits


def generate() -> str:
    return PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(64))


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def looks_valid(plaintext: str) -> bool:
    body = plaintext[len(PREFIX) :]
    return plaintext.startswith(PREFIX) and len(body) == 64 and all(c in _ALPHABET for c in body)
