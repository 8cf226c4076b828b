"""The delivery state machine (docs/api/messages.md): statuses only ever move a message forward.

Meta's status webhooks arrive duplicated, late and out of order; an update that would not
move the message forward is ignored (and still acknowledged).
"""

from __future__ import annotations

RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
STATES = (*RANK, "failed")


def applies(current: str, new: str) -> bool:
    """Whether a status ``new`` reported for a message now in ``current`` changes it.

    Only messages inside the machine move: an inbound message (``received``) never does.
    """
    if current not in STATES:
        return False
    if new == "failed":
        return current in ("pending", "sent")
    if new not in RANK:
        return False
    if current == "failed":
        # A late "delivered"/"read" proves the failure report wrong: the message got through.
        return new in ("delivered", "read")
    return RANK[new] > RANK.get(current, -1)
