"""Who holds an ``Idempotency-Key`` reservation, and whether that holder still exists.

An owner is ``<machine>/<pid>/<start>/<instance>/<request>``: the machine (boot id and PID
namespace, so two containers never look alike), the process (its PID and start time, so a
reused PID is not mistaken for the dead process), the ``IdempotencyService`` in it and the
request's number there. On the same machine a process that has exited is seen at once
(``/proc``); elsewhere, or without ``/proc``, only the lease's expiry tells.
"""

from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

PROC = Path("/proc")


class Holder(Enum):
    ALIVE = "alive"  # its process runs (its request may or may not)
    GONE = "gone"  # its process has exited: nothing holds the reservation
    UNKNOWN = "unknown"  # another machine, or no way to tell: the lease decides


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _machine() -> str | None:
    boot = _read(PROC / "sys/kernel/random/boot_id")
    try:
        namespace = os.readlink(PROC / "self/ns/pid")  # e.g. "pid:[4026531836]"
    except OSError:
        return None
    if boot is None:
        return None
    return f"{boot}.{namespace.removeprefix('pid:[').removesuffix(']')}"


def start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), or None when there is no such
    process (or no ``/proc``)."""
    stat = _read(PROC / str(pid) / "stat")
    if stat is None:
        return None
    # Field 22; the command name (field 2, in parentheses) may itself contain spaces.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


@dataclass(frozen=True, slots=True)
class Owner:
    machine: str
    pid: int
    started: str
    instance: str
    request: str

    def __str__(self) -> str:
        return f"{self.machine}/{self.pid}/{self.started}/{self.instance}/{self.request}"

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        parts = text.split("/")
        if len(parts) != 5 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2], parts[3], parts[4])


class Lessor:
    """Names the requests of one ``IdempotencyService`` and judges other owners."""

    def __init__(self) -> None:
        self.instance = secrets.token_hex(4)
        self._numbers = itertools.count(1)
        self._pid = -1
        self._machine: str | None = None
        self._started = "-"

    def _refresh(self) -> None:
        # Computed per process: a forked child must not pass for its parent.
        pid = os.getpid()
        if pid != self._pid:
            self._pid, self._machine = pid, _machine()
            self._started = start_time(pid) or "-"

    def new_owner(self) -> str:
        self._refresh()
        machine = self._machine or f"unknown-{self.instance}"
        return str(
            Owner(machine, self._pid, self._started, self.instance, str(next(self._numbers)))
        )

    def is_mine(self, owner: Owner) -> bool:
        self._refresh()
        return (
            owner.pid == self._pid
            and owner.instance == self.instance
            and (owner.machine == (self._machine or f"unknown-{self.instance}"))
        )

    def holder(self, owner: Owner) -> Holder:
        """Whether the process of ``owner`` (another one than this) still runs."""
        self._refresh()
        if self._machine is None or owner.machine != self._machine or owner.started == "-":
            return Holder.UNKNOWN
        started = start_time(owner.pid)
        return Holder.ALIVE if started == owner.started else Holder.GONE
