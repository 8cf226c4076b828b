"""Reading a ``groups`` cell: trimmed names, empty parts and repeats dropped; short cells
are cached (an import repeats them on every row), long ones never are (client input)."""

from __future__ import annotations

from xobito.contact import schemas
from xobito.contact.schemas import group_names


def test_group_names_are_trimmed_deduplicated_and_in_order() -> None:
    assert group_names(" vip, , new ,vip,") == ["vip", "new"]
    assert group_names("") == group_names(None) == []
    names = group_names("a, b")
    names.append("mutated")
    assert group_names("a, b") == ["a", "b"]  # each caller gets its own list


def test_long_cells_are_read_but_not_cached() -> None:
    long = ",".join(f"group {i}" for i in range(2000))
    assert len(long) > schemas.GROUPS_CACHED_LENGTH
    before = schemas._cached_group_names.cache_info().currsize
    assert len(group_names(long)) == 2000
    assert schemas._cached_group_names.cache_info().currsize == before
    group_names("short, cell, 1")
    assert schemas._cached_group_names.cache_info().currsize == before + 1
