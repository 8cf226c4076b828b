"""Outbound URL rules: http/https only, and no internal addresses in production (SSRF)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

BLOCKED_MESSAGE = "The url resolves to an address that is not allowed."


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def literal_host_allowed(url: str) -> bool:
    """False for a URL whose host is an IP literal in a refused range (names are resolved
    and checked on every connection by ``GuardedResolver``)."""
    host = urlsplit(url).hostname or ""
    try:
        return address_allowed(host)
    except ValueError:
        return host not in ("localhost",) and not host.endswith(".localhost")


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
