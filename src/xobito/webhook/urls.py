"""Outbound URL rules: http/https only, and no internal addresses in production (SSRF).

A URL is checked when an endpoint is created or changed (``url_allowed``: its host read as a
browser or libc reads it, and a name resolved) and again on every delivery (``literal_host_
allowed`` and ``GuardedResolver``), since DNS can change after the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

BLOCKED_MESSAGE = "The url resolves to an address that is not allowed."
RESOLVE_TIMEOUT = 3.0  # seconds; a name that does not answer in time is checked on delivery
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_HEX = frozenset("0123456789abcdefABCDEF")


def address_allowed(address: str | IPAddress) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour  # ::ffff:a.b.c.d, 2002:aabb:ccdd::/48
        if embedded is not None and not address_allowed(embedded):
            return False
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _ipv4_part(part: str) -> int | None:
    """One dotted part as inet_aton and the WHATWG URL parser read it: ``0x`` hex, a
    leading ``0`` octal, else decimal."""
    if part == "":
        return None
    digits, base = part, 10
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    if digits == "":
        return 0
    allowed = _HEX if base == 16 else frozenset("01234567" if base == 8 else "0123456789")
    return int(digits, base) if all(c in allowed for c in digits) else None


def _ends_in_a_number(parts: list[str]) -> bool:
    last = parts[-1]
    if last.isascii() and last.isdigit():
        return True
    return last[:2] in ("0x", "0X") and all(c in _HEX for c in last[2:])


def numeric_host(host: str) -> IPAddress | None:
    """The address a URL's host names by number (IPv6, or IPv4 in any form browsers and
    libc accept: ``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, a trailing
    dot), or None for a name. ``ValueError``: it ends in a number but is no address."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if ":" in host:
        return ipaddress.IPv6Address(host.split("%", 1)[0])  # raises for a bad literal
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not parts or not _ends_in_a_number(parts):
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise ValueError(f"not an IPv4 address: {host}")
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):
        raise ValueError(f"not an IPv4 address: {host}")
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(head))
    return ipaddress.IPv4Address(value)


def host_of(url: str) -> str:
    """The URL's host as a resolver would be given it: percent-decoded, IDNA-mapped (so
    full-width digits and dots are ASCII), lower case."""
    host = unquote(urlsplit(url).hostname or "")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host.lower()


def literal_host_allowed(url: str) -> bool:
    """False for a URL whose host is an address in a refused range, or a local name
    (other names are resolved: ``url_allowed``, and ``GuardedResolver`` on delivery)."""
    host = host_of(url)
    try:
        address = numeric_host(host)
    except ValueError:
        return False
    if address is not None:
        return address_allowed(address)
    name = host.rstrip(".")  # "localhost." is localhost
    return bool(name) and name != "localhost" and not name.endswith(".localhost")


async def url_allowed(url: str) -> bool:
    """``literal_host_allowed``, and every address the name resolves to now is allowed (a
    wildcard DNS name such as ``10.0.0.1.nip.io`` is refused). A name that does not
    resolve, or not within ``RESOLVE_TIMEOUT``, is accepted: each delivery checks again."""
    if not literal_host_allowed(url):
        return False
    host = host_of(url)
    if numeric_host(host) is not None:
        return True
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (OSError, UnicodeError, TimeoutError):
        return True
    return all(address_allowed(str(info[4][0])) for info in infos)


class GuardedResolver(ThreadedResolver):
    """Drops refused addresses from every DNS answer, so a name cannot be pointed (or
    re-pointed, DNS rebinding) at an internal service."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await super().resolve(host, port, family)
        allowed = [r for r in results if address_allowed(str(r["host"]))]
        if not allowed:
            raise OSError(BLOCKED_MESSAGE)
        return allowed


def resolver_kwargs(allow_private: bool) -> dict[str, Any]:
    return {} if allow_private else {"resolver": GuardedResolver()}
