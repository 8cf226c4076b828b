"""The delivery state machine (docs/api/messages.md): which status updates move a message."""

from __future__ import annotations

import pytest

from xobito.message.statemachine import STATES, applies

ORDER = ["pending", "sent", "delivered", "read"]

FORWARD = [(a, b) for i, a in enumerate(ORDER) for b in ORDER[i + 1 :]]
BACKWARD_OR_SAME = [(a, b) for i, a in enumerate(ORDER) for b in ORDER[: i + 1]]


@pytest.mark.parametrize(("current", "new"), FORWARD)
def test_forward_moves_apply(current: str, new: str) -> None:
    assert applies(current, new) is True


@pytest.mark.parametrize(("current", "new"), BACKWARD_OR_SAME)
def test_duplicates_and_regressions_are_ignored(current: str, new: str) -> None:
    assert applies(current, new) is False


@pytest.mark.parametrize(("current", "expected"), [("pending", True), ("sent", True)])
def test_failed_applies_from_pending_or_sent(current: str, expected: bool) -> None:
    assert applies(current, "failed") is expected


@pytest.mark.parametrize("current", ["delivered", "read", "failed"])
def test_failed_does_not_apply_after_delivery_or_twice(current: str) -> None:
    assert applies(current, "failed") is False


@pytest.mark.parametrize(("new", "expected"), [("delivered", True), ("read", True)])
def test_delivery_after_a_failure_report_applies(new: str, expected: bool) -> None:
    assert applies("failed", new) is expected


@pytest.mark.parametrize("new", ["pending", "sent"])
def test_failed_is_not_undone_by_pending_or_sent(new: str) -> None:
    assert applies("failed", new) is False


@pytest.mark.parametrize("new", ["deleted", "warning", "", "READ"])
def test_unknown_statuses_never_apply(new: str) -> None:
    for current in STATES:
        assert applies(current, new) is False
