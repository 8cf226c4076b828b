"""What every dashboard list shares: reading the page and size from the query string
leniently (a hand-edited URL shows page 1, never an error page), and the numbers the
pagination partial (``_pagination.html``) shows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

PER_PAGE_CHOICES = (25, 50, 100)


def int_param(
    query: Mapping[str, str], name: str, *, low: int = 1, high: int = 2**31 - 1
) -> int | None:
    raw = query.get(name)
    if raw is None or not raw.strip().lstrip("-").isdigit():
        return None
    value = int(raw)
    return value if low <= value <= high else None


@dataclass(frozen=True, slots=True)
class Pagination:
    page: int
    per_page: int
    total: int

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    def window(self) -> list[int | None]:
        """Page numbers around the current one, ``None`` for a gap."""
        pages = sorted(
            {
                1,
                self.last_page,
                *range(max(1, self.page - 2), min(self.last_page, self.page + 2) + 1),
            }
        )
        out: list[int | None] = []
        for n in pages:
            if out and isinstance(out[-1], int) and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out


def page_params(query: Mapping[str, str], default_size: int = 25) -> tuple[int, int]:
    page = int_param(query, "page", high=1_000_000) or 1
    size = int_param(query, "per_page")
    return page, size if size in PER_PAGE_CHOICES else default_size
