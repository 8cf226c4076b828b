"""Laravel's length-aware paginator and its link window (docs/api/README.md)."""

from __future__ import annotations

from typing import Any

import pytest

from xobito.kit.pagination import _window, paginate

PATH = "http://testserver/api/v1/ws/contacts"


def page_of(total: int, page: int, per_page: int = 15, **keep: Any) -> dict[str, Any]:
    start = (page - 1) * per_page
    items = list(range(start + 1, min(total, start + per_page) + 1))
    return paginate(items, total=total, page=page, per_page=per_page, path=PATH, keep=keep)


def labels(body: dict[str, Any]) -> list[str]:
    return [link["label"] for link in body["links"]]


@pytest.mark.parametrize("last", [1, 2, 5, 13])
def test_small_paginators_list_every_page(last: int) -> None:
    for current in (1, last):
        assert _window(current, last) == list(range(1, last + 1))


def test_fourteen_pages_is_the_first_with_an_elision() -> None:
    assert None not in _window(1, 13)
    assert _window(1, 14) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None, 13, 14]


@pytest.mark.parametrize("current", [1, 4, 7])
def test_slider_too_close_to_the_beginning(current: int) -> None:
    assert _window(current, 50) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None, 49, 50]


@pytest.mark.parametrize("current", [44, 47, 50])
def test_slider_too_close_to_the_end(current: int) -> None:
    assert _window(current, 50) == [1, 2, None, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50]


def test_slider_in_the_middle_has_two_elisions() -> None:
    assert _window(8, 50) == [1, 2, None, 5, 6, 7, 8, 9, 10, 11, None, 49, 50]
    assert _window(25, 50) == [1, 2, None, 22, 23, 24, 25, 26, 27, 28, None, 49, 50]
    assert _window(43, 50) == [1, 2, None, 40, 41, 42, 43, 44, 45, 46, None, 49, 50]


def test_window_always_contains_the_current_page_once() -> None:
    for last in (1, 13, 14, 15, 30, 200):
        for current in range(1, last + 1):
            window = _window(current, last)
            assert window.count(current) == 1, (current, last)
            numbers = [n for n in window if n is not None]
            assert numbers == sorted(set(numbers))
            assert numbers[0] == 1 and numbers[-1] == last


def test_every_key_of_the_laravel_paginator() -> None:
    body = page_of(total=40, page=2)
    assert list(body) == [
        "current_page",
        "data",
        "first_page_url",
        "from",
        "last_page",
        "last_page_url",
        "links",
        "next_page_url",
        "path",
        "per_page",
        "prev_page_url",
        "to",
        "total",
    ]
    assert body["current_page"] == 2
    assert body["data"] == list(range(16, 31))
    assert body["from"] == 16
    assert body["to"] == 30
    assert body["total"] == 40
    assert body["last_page"] == 3
    assert body["per_page"] == 15
    assert body["path"] == PATH
    assert body["first_page_url"] == f"{PATH}?page=1"
    assert body["last_page_url"] == f"{PATH}?page=3"
    assert body["prev_page_url"] == f"{PATH}?page=1"
    assert body["next_page_url"] == f"{PATH}?page=3"


def test_links_labels_urls_and_active_flag() -> None:
    body = page_of(total=40, page=2)
    assert body["links"] == [
        {"url": f"{PATH}?page=1", "label": "&laquo; Previous", "active": False},
        {"url": f"{PATH}?page=1", "label": "1", "active": False},
        {"url": f"{PATH}?page=2", "label": "2", "active": True},
        {"url": f"{PATH}?page=3", "label": "3", "active": False},
        {"url": f"{PATH}?page=3", "label": "Next &raquo;", "active": False},
    ]


def test_first_and_last_pages_have_no_prev_or_next() -> None:
    first = page_of(total=40, page=1)
    assert first["prev_page_url"] is None
    assert first["links"][0] == {"url": None, "label": "&laquo; Previous", "active": False}
    last = page_of(total=40, page=3)
    assert last["next_page_url"] is None
    assert last["links"][-1] == {"url": None, "label": "Next &raquo;", "active": False}
    assert last["from"] == 31 and last["to"] == 40


def test_empty_result_is_one_empty_page() -> None:
    body = page_of(total=0, page=1)
    assert body["data"] == []
    assert body["from"] is None and body["to"] is None
    assert body["last_page"] == 1
    assert body["total"] == 0
    assert body["next_page_url"] is None and body["prev_page_url"] is None
    assert labels(body) == ["&laquo; Previous", "1", "Next &raquo;"]


def test_page_past_the_end_is_empty_but_still_points_back() -> None:
    body = paginate([], total=20, page=5, per_page=10, path=PATH, keep={})
    assert body["data"] == []
    assert body["from"] is None and body["to"] is None
    assert body["last_page"] == 2
    assert body["prev_page_url"] == f"{PATH}?page=4"
    assert body["next_page_url"] is None
    assert not any(link["active"] for link in body["links"])


def test_exact_multiple_of_per_page() -> None:
    body = page_of(total=30, page=2)
    assert body["last_page"] == 2
    assert body["to"] == 30
    assert body["next_page_url"] is None


def test_kept_parameters_come_before_page_and_none_is_dropped() -> None:
    keep = {"per_page": 2, "search": "a b&c", "type": None}
    body = paginate([1, 2], total=5, page=1, per_page=2, path=PATH, keep=keep)
    assert body["first_page_url"] == f"{PATH}?per_page=2&search=a+b%26c&page=1"
    assert body["next_page_url"] == f"{PATH}?per_page=2&search=a+b%26c&page=2"
    assert body["last_page_url"] == f"{PATH}?per_page=2&search=a+b%26c&page=3"


def test_elision_links_have_no_url() -> None:
    body = page_of(total=50 * 15, page=25)
    assert labels(body) == [
        "&laquo; Previous",
        "1",
        "2",
        "...",
        "22",
        "23",
        "24",
        "25",
        "26",
        "27",
        "28",
        "...",
        "49",
        "50",
        "Next &raquo;",
    ]
    dots = [link for link in body["links"] if link["label"] == "..."]
    assert dots == [{"url": None, "label": "...", "active": False}] * 2
    assert [link["label"] for link in body["links"] if link["active"]] == ["25"]
