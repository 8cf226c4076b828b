"""Query and path parameters shared by list and record endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

# Ids are 32-bit integers on every backend; a larger one names no record.
MAX_ID = 2**31 - 1

Page = Annotated[int, Query(ge=1, le=1_000_000_000, description="1-based page number")]
PerPage = Annotated[int | None, Query(ge=1, le=100, description="Items per page (max 100)")]
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]
