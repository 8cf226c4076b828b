"""What a campaign does with each answer of Meta to one recipient's send.

- accepted → sent, with its wamid;
- ``130429`` (throughput) → the number slows down, the recipient goes back in the queue;
- ``131056`` (pair rate) → only this recipient waits, 4^n seconds;
- ``131048`` (spam rate) and quality or tier problems → the campaign pauses with the reason,
  the recipient stays in the queue;
- 5xx, Meta's transient codes, and connections that never reached Meta → retried with backoff;
- every other refusal → failed with Meta's code and text (retryable only when transient);
- the request left but no answer came back (a read timeout, a dropped connection) → the one
  ambiguous case: Meta may have accepted it. Xobito chooses **at most once**: the recipient
  is failed as ``unknown outcome`` and never resent, not even by "Retry failed" (a second
  message to someone is worse than a missing one; Meta offers no idempotency key to ask).
  A worker killed while its Graph calls were under way leaves the same state behind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

import aiohttp

from xobito.whatsapp.errors import WhatsAppError

THROUGHPUT = 130429
PAIR_RATE = 131056
# Spam rate limit; business account restricted or locked; policy block; payment problems:
# sending more makes the number's standing worse, so the campaign stops for a person to look.
PAUSING = frozenset({131048, 368, 131031, 131042, 130497, 131057})
TRANSIENT = frozenset({1, 2, 4, 80007, 131000, 133004})
MAX_TRANSIENT_ATTEMPTS = 8
MAX_THROUGHPUT_ATTEMPTS = 30
MAX_PAIR_ATTEMPTS = 4
UNKNOWN_OUTCOME = (
    "Unknown outcome: the request reached Meta but its answer was lost (connection dropped, "
    "timeout or worker stopped); not resent, so that no one receives the message twice."
)

Kind = Literal["sent", "retry", "pair", "throttled", "pause", "failed", "unknown"]


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: Kind
    delay: float = 0.0  # retry / pair / throttled: seconds until the next attempt
    retryable: bool = False  # failed: whether "Retry failed" resends it
    code: int | None = None
    text: str | None = None


def never_left(error: WhatsAppError) -> bool:
    """A network failure before the request could reach Meta (nothing was sent)."""
    cause = error.__cause__
    return isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)


def backoff(attempt: int, cap: float = 300.0) -> float:
    ceiling = min(cap, 2.0**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def judge(
    error: WhatsAppError,
    attempts: int,
    pair_attempts: int,
    max_attempts: int = MAX_TRANSIENT_ATTEMPTS,
) -> Verdict:
    """``attempts``: refused calls so far for this recipient (before this one);
    ``pair_attempts``: of which 131056; ``max_attempts``: for transient failures."""
    code, text = error.code, error.describe()
    if code is None and error.http_status is None:
        if never_left(error):
            if attempts + 1 >= max_attempts:
                return Verdict("failed", retryable=True, text=text)
            return Verdict("retry", backoff(attempts + 1), code=None, text=text)
        return Verdict("unknown", text=UNKNOWN_OUTCOME)
    if code == THROUGHPUT:
        if attempts + 1 >= MAX_THROUGHPUT_ATTEMPTS:
            return Verdict("failed", retryable=True, code=code, text=text)
        return Verdict("throttled", 1.0, code=code, text=text)
    if code == PAIR_RATE:
        if pair_attempts + 1 > MAX_PAIR_ATTEMPTS:
            return Verdict("failed", retryable=True, code=code, text=text)
        return Verdict("pair", 4.0 ** (pair_attempts + 1), code=code, text=text)
    if code in PAUSING:
        return Verdict("pause", code=code, text=text)
    status = error.http_status or 0
    if code in TRANSIENT or status >= 500 or status == 429:
        if attempts + 1 >= max_attempts:
            return Verdict("failed", retryable=True, code=code, text=text)
        return Verdict("retry", backoff(attempts + 1), code=code, text=text)
    return Verdict("failed", retryable=False, code=code, text=text)
