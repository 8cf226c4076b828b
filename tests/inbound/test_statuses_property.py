"""The delivery state machine (docs/api/messages.md): its table, and a property over status
sequences.

Meta's statuses arrive duplicated, late and out of order. Whatever the order, the message
ends in the most advanced state the rules allow: ``read`` if a read arrived, else
``delivered``, else ``failed`` (failed applies only from pending/sent), else ``sent``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.inbound.conftest import Line, Meta, at
from xobito.message.statemachine import applies
from xobito.testing.meta_webhooks import StatusName, StatusUpdate, build_status_webhook

MACHINE = ("pending", "sent", "delivered", "read", "failed")
META_STATUSES = ("sent", "delivered", "read", "failed")

# docs/api/messages.md, written out: (current, new) pairs that change the message; every other is
# ignored.
MOVES = {
    ("pending", "sent"),
    ("pending", "delivered"),
    ("pending", "read"),
    ("pending", "failed"),
    ("sent", "delivered"),
    ("sent", "read"),
    ("sent", "failed"),
    ("delivered", "read"),
    ("failed", "delivered"),
    ("failed", "read"),
}


@pytest.mark.parametrize(
    ("current", "new"),
    list(itertools.product((*MACHINE, "received"), (*MACHINE, "deleted", "READ", ""))),
)
def test_applies_over_the_full_table(current: str, new: str) -> None:
    assert applies(current, new) is ((current, new) in MOVES)


# -- the oracle: computed from the rules, not from the processor -------------------------------


@dataclass(frozen=True)
class Final:
    status: str
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None


def first(seq: list[tuple[str, int]], *names: str) -> int | None:
    """Index of the first status among ``names`` in the sequence."""
    return next((i for i, (s, _) in enumerate(seq) if s in names), None)


def oracle(seq: list[tuple[str, int]]) -> Final:
    """Where a ``pending`` message ends after ``seq`` of (status, unix time), in order."""
    names = [s for s, _ in seq]
    if "read" in names:
        status = "read"
    elif "delivered" in names:
        status = "delivered"
    elif "failed" in names:
        status = "failed"
    elif "sent" in names:
        status = "sent"
    else:
        status = "pending"

    def time_of(index: int | None) -> datetime | None:
        return at(seq[index][1]) if index is not None else None

    beyond_sent = first(seq, "delivered", "read", "failed")
    sent = first(seq, "sent")
    sent_at = (
        time_of(sent) if sent is not None and (beyond_sent is None or sent < beyond_sent) else None
    )
    read = first(seq, "read")
    delivered = first(seq, "delivered")
    if delivered is not None and (read is None or delivered < read):
        delivered_at = time_of(delivered)
    else:  # a read proves delivery: its time stands in for a delivered never applied
        delivered_at = time_of(read)
    failed = first(seq, "failed")
    got_through = first(seq, "delivered", "read")
    applied_failure = failed is not None and (got_through is None or failed < got_through)
    return Final(
        status, sent_at, delivered_at, time_of(read), time_of(failed) if applied_failure else None
    )


@st.composite
def status_sequences(draw: Any) -> list[StatusName]:
    """A permutation of sent/delivered/read (and maybe failed), with random duplicates."""
    base: list[StatusName] = ["sent", "delivered", "read"]
    if draw(st.booleans()):
        base.append("failed")
    seq = list(draw(st.permutations(base)))
    for _ in range(draw(st.integers(0, 4))):
        seq.insert(draw(st.integers(0, len(seq))), draw(st.sampled_from(seq)))
    # Sometimes a status never arrives at all (Meta does lose some).
    if draw(st.booleans()):
        seq.pop(draw(st.integers(0, len(seq) - 1)))
    return seq


def test_oracle_examples() -> None:
    """The oracle itself, on cases worked out by hand."""
    assert oracle([("read", 3), ("delivered", 2), ("sent", 1)]) == Final(
        "read", None, at(3), at(3), None
    )
    assert oracle([("sent", 1), ("failed", 2), ("delivered", 3)]) == Final(
        "delivered", at(1), at(3), None, at(2)
    )
    assert oracle([("delivered", 2), ("failed", 4), ("sent", 1)]) == Final(
        "delivered", None, at(2), None, None
    )
    assert oracle([("failed", 5), ("sent", 1), ("failed", 6)]) == Final(
        "failed", None, None, None, at(5)
    )
    assert oracle([]) == Final("pending", None, None, None, None)


class Sequences:
    """One connected workspace for the whole property test; a new message per example."""

    def __init__(self, meta: Meta) -> None:
        self.meta = meta
        self.line: Line | None = None
        self.n = 0

    async def run(self, names: list[StatusName]) -> tuple[list[tuple[str, int]], Any]:
        if self.line is None:
            self.line = await self.meta.line()
        line = self.line
        self.n += 1
        wamid = f"wamid.PROPERTY-{self.n}"
        phone = f"+1415555{self.n:04d}"
        await self.meta.outbound(line, wamid, status="pending", phone=phone)
        seq: list[tuple[str, int]] = []
        for i, name in enumerate(names):
            ts = 1_750_000_000 + 10 * i  # each arrival its own time, to see which applied
            seq.append((name, ts))
            recipient = phone.lstrip("+")
            update = StatusUpdate(wamid, name, recipient, timestamp=ts, error_code=131026)
            payload = build_status_webhook(
                [update], phone_number_id=line.phone_number_id, waba_id=line.waba_id
            )
            await self.meta.deliver(payload, line.app_secret)
        await self.meta.drain()
        return seq, await self.meta.message(wamid)


@pytest.fixture
def sequences(meta: Meta) -> Sequences:
    return Sequences(meta)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(names=status_sequences())
async def test_any_order_ends_in_the_most_advanced_state(
    sequences: Sequences, names: list[StatusName]
) -> None:
    seq, message = await sequences.run(names)
    expected = oracle(seq)
    got = Final(
        message.status, message.sent_at, message.delivered_at, message.read_at, message.failed_at
    )
    assert got == expected, names
    if expected.failed_at is not None:
        assert message.error_code == 131026 and message.error_message is not None
    else:
        assert message.error_code is None and message.error_message is None
