"""One-time link secrets (invitations, password resets): random, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_password() -> str:
    """A generated password (96 random bits), for accounts made by the CLI or admin API."""
    return secrets.token_urlsafe(12)
