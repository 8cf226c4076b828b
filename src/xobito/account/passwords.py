"""Password hashing with argon2id (argon2-cffi), off the event loop.

Hashing costs tens of milliseconds of CPU by design; it runs in a thread so one sign-in never
stalls every other request of the process.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

PROFILES = {"standard": profiles.RFC_9106_LOW_MEMORY, "fast": profiles.CHEAPEST}


@lru_cache(maxsize=2)
def hasher(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(PROFILES[profile])


@lru_cache(maxsize=2)
def _dummy_hash(profile: str) -> str:
    return hasher(profile).hash("an unused password that only costs time")


async def hash_password(password: str, profile: str) -> str:
    return await asyncio.to_thread(hasher(profile).hash, password)


def _verify(stored: str | None, password: str, profile: str) -> bool:
    # An unknown account still costs one verification, so timing does not tell which
    # email addresses have accounts.
    try:
        return hasher(profile).verify(stored or _dummy_hash(profile), password) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str, profile: str) -> bool:
    return await asyncio.to_thread(_verify, stored, password, profile)


def needs_rehash(stored: str, profile: str) -> bool:
    return hasher(profile).check_needs_rehash(stored)
