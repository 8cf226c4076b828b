"""Statuses, sources and groups: name length, uniqueness, colour and the single default."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory
from tests.label.test_router import KINDS, Kind, kinds
from xobito.models import Status

NAMED = [k for k in KINDS if k.plural != "statuses"]
named = pytest.mark.parametrize("kind", NAMED, ids=lambda k: k.plural)

TOO_SHORT = "The name must be at least 3 characters."
TOO_LONG = "The name may not be greater than 255 characters."
TAKEN = "The name has already been taken."


def invalid(errors: dict[str, list[str]]) -> dict[str, object]:
    return {"status": "error", "message": "Validation failed", "errors": errors}


@kinds
@pytest.mark.parametrize("body", [{}, {"name": None}, {"name": ""}, {"name": "   "}])
async def test_name_is_required(
    client: httpx.AsyncClient, factory: Factory, kind: Kind, body: dict[str, object]
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url(f"/{kind.plural}"), json=body, headers=t.headers)
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": ["The name field is required."]})


@kinds
async def test_name_must_be_a_string(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url(f"/{kind.plural}"), json={"name": 12345}, headers=t.headers)
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": ["The name must be a string."]})


@pytest.mark.parametrize(("length", "message"), [(1, TOO_SHORT), (2, TOO_SHORT),
                                               (256, TOO_LONG), (1000, TOO_LONG)])  # fmt: skip
async def test_status_name_outside_3_to_255_is_refused(
    client: httpx.AsyncClient, factory: Factory, length: int, message: str
) -> None:
    """docs/api/labels.md: ``min:3|max:255``, two rules with a message each."""
    t = await factory.tenant()
    r = await client.post(t.url("/statuses"), json={"name": "x" * length}, headers=t.headers)
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": [message]})
    existing = await factory.status(t)
    r = await client.put(
        t.url(f"/statuses/{existing.id}"), json={"name": "x" * length}, headers=t.headers
    )
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": [message]})


@pytest.mark.parametrize("length", [3, 255])
async def test_status_name_of_3_and_255_is_accepted(
    client: httpx.AsyncClient, factory: Factory, length: int
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url("/statuses"), json={"name": "y" * length}, headers=t.headers)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["name"] == "y" * length


@named
async def test_source_and_group_name_at_most_255(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url(f"/{kind.plural}"), json={"name": "z" * 256}, headers=t.headers)
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": ["The name may not be greater than 255 characters."]})
    for name in ["z" * 255, "A"]:  # no minimum for sources and groups
        r = await client.post(t.url(f"/{kind.plural}"), json={"name": name}, headers=t.headers)
        assert r.status_code == 201, r.text


@kinds
async def test_name_is_unique_per_workspace(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    await kind.make(factory, a, "Duplicate")
    r = await client.post(a.url(f"/{kind.plural}"), json={"name": "Duplicate"}, headers=a.headers)
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": [TAKEN]})
    # Surrounding whitespace is trimmed before the check.
    r = await client.post(
        a.url(f"/{kind.plural}"), json={"name": "  Duplicate "}, headers=a.headers
    )
    assert r.status_code == 422 and r.json()["errors"] == {"name": [TAKEN]}
    # Another workspace may use the same name.
    r = await client.post(b.url(f"/{kind.plural}"), json={"name": "Duplicate"}, headers=b.headers)
    assert r.status_code == 201, r.text
    listed = await client.get(a.url(f"/{kind.plural}"), headers=a.headers)
    assert listed.json()["data"]["total"] == 1


@kinds
async def test_update_may_keep_its_own_name_but_not_take_another(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    first = await kind.make(factory, t, "First")
    await kind.make(factory, t, "Second")
    url = t.url(f"/{kind.plural}/{first.id}")
    r = await client.put(url, json={"name": "First"}, headers=t.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "First"
    r = await client.put(url, json={"name": "Second"}, headers=t.headers)
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": [TAKEN]})
    shown = await client.get(url, headers=t.headers)
    assert shown.json()["data"]["name"] == "First"


@kinds
async def test_update_requires_the_name(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    obj = await kind.make(factory, t)
    r = await client.put(t.url(f"/{kind.plural}/{obj.id}"), json={}, headers=t.headers)
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": ["The name field is required."]})


@kinds
async def test_malformed_json_is_422(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    r = await client.post(
        t.url(f"/{kind.plural}"),
        content=b'{"name": ',
        headers={**t.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"body": ["The request body must be valid JSON."]})


# -- status colour ----------------------------------------------------------------------------


@pytest.mark.parametrize("color", ["red", "#12345", "#GGGGGG", "123456", "#12345z"])
async def test_bad_color_is_refused(
    client: httpx.AsyncClient, factory: Factory, color: str
) -> None:
    t = await factory.tenant()
    r = await client.post(
        t.url("/statuses"), json={"name": "Colourful", "color": color}, headers=t.headers
    )
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"color": ["The color format is invalid."]})


async def test_color_longer_than_7_gets_the_max_message(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    r = await client.post(
        t.url("/statuses"), json={"name": "Colourful", "color": "#1234567"}, headers=t.headers
    )
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"color": ["The color may not be greater than 7 characters."]})


async def test_all_failing_fields_are_reported_together(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    r = await client.post(
        t.url("/statuses"), json={"name": "ab", "color": "blue"}, headers=t.headers
    )
    assert r.status_code == 422, r.text
    assert r.json() == invalid({"name": [TOO_SHORT], "color": ["The color format is invalid."]})


async def test_color_can_be_changed_and_cleared(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    s = await factory.status(t, "Painted", color="#000000")
    url = t.url(f"/statuses/{s.id}")
    r = await client.put(url, json={"name": "Painted", "color": "#FFFFFF"}, headers=t.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["color"] == "#FFFFFF"
    r = await client.put(url, json={"name": "Painted", "color": None}, headers=t.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["color"] is None


# -- single default status --------------------------------------------------------------------


async def _defaults(session: AsyncSession, workspace_id: int) -> list[int]:
    await session.rollback()  # a fresh snapshot: see what the requests committed
    stmt = select(Status.id).where(Status.workspace_id == workspace_id, Status.isdefault.is_(True))
    return list((await session.execute(stmt)).scalars().all())


async def test_at_most_one_default_status(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    elsewhere = await factory.status(other, "Elsewhere", isdefault=True)
    r = await client.post(
        t.url("/statuses"), json={"name": "First", "isdefault": True}, headers=t.headers
    )
    first = r.json()["data"]["id"]
    assert await _defaults(session, t.workspace.id) == [first]

    r = await client.post(
        t.url("/statuses"), json={"name": "Second", "isdefault": 1}, headers=t.headers
    )
    assert r.status_code == 201, r.text
    second = r.json()["data"]["id"]
    assert r.json()["data"]["isdefault"] == 1
    assert await _defaults(session, t.workspace.id) == [second]
    shown = await client.get(t.url(f"/statuses/{first}"), headers=t.headers)
    assert shown.json()["data"]["isdefault"] == 0

    # Setting it through PUT clears the other again.
    r = await client.put(
        t.url(f"/statuses/{first}"), json={"name": "First", "isdefault": "true"}, headers=t.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["isdefault"] == 1
    assert await _defaults(session, t.workspace.id) == [first]
    # Another workspace's default is untouched.
    assert await _defaults(session, other.workspace.id) == [elsewhere.id]
    total = await session.scalar(select(func.count()).select_from(Status))
    assert total == 3


async def test_isdefault_must_be_boolean(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant()
    r = await client.post(
        t.url("/statuses"), json={"name": "Maybe", "isdefault": "perhaps"}, headers=t.headers
    )
    assert r.status_code == 422, r.text
    assert list(r.json()["errors"]) == ["isdefault"]
