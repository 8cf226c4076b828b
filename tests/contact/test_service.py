"""ContactService rules, called directly on the app's own database engine (docs/api/contacts.md).

SQLite runs one connection per process, so every test builds its data with the factory
first and only then opens a session (``app.state.sessionmaker``) for the service calls.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.factories import Factory, Tenant
from xobito.contact.listing import filters
from xobito.contact.schemas import group_names
from xobito.contact.service import PLAN_LIMIT, ContactService
from xobito.kit.errors import Forbidden, NotFound, ValidationFailed
from xobito.models import ContactGroup, Group


def body(tenant_labels: tuple[int, int], **fields: object) -> dict[str, object]:
    status_id, source_id = tenant_labels
    return {
        "firstname": "Ann",
        "lastname": "Lee",
        "phone": "+14155551234",
        "type": "lead",
        "status_id": status_id,
        "source_id": source_id,
        **fields,
    }


async def labels(factory: Factory, tenant: Tenant) -> tuple[int, int]:
    return (await factory.status(tenant)).id, (await factory.source(tenant)).id


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (None, []),
        ("", []),
        ("vip", ["vip"]),
        (" vip , new ", ["vip", "new"]),
        ("a,,b, ,c,", ["a", "b", "c"]),
        ("a,b,a, b", ["a", "b"]),
        (",,,", []),
        ("Two Words, x", ["Two Words", "x"]),
    ],
)
def test_group_names(raw: str | None, names: list[str]) -> None:
    assert group_names(raw) == names


async def test_create_get_update_delete(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant()
    ids = await labels(factory, a)
    async with app.state.sessionmaker() as s:
        service = ContactService(s, a.info)
        created = await service.create(body(ids, phone="+1 (415) 555-1234", groups="x, y"))
        assert created["phone"] == "+14155551234"
        assert len(created["group_id"]) == 2
        assert await service.get(created["id"]) == created
        change = {"firstname": "Bo", "lastname": "Li", "phone": "14155551234", "type": "customer"}
        after, before = await service.update(created["id"], change)
        assert before == created
        assert after["firstname"] == "Bo" and after["type"] == "customer"
        assert after["phone"] == "+14155551234"
        assert after["group_id"] == created["group_id"]
        removed = await service.delete(created["id"])
        assert removed["id"] == created["id"] and removed["firstname"] == "Bo"
        with pytest.raises(NotFound, match="Contact not found"):
            await service.get(created["id"])
        # Memberships go with the contact; the groups themselves stay.
        assert await s.scalar(select(func.count()).select_from(ContactGroup)) == 0
        assert await s.scalar(select(func.count()).select_from(Group)) == 2


async def test_create_reports_format_and_database_errors_together(
    app: FastAPI, factory: Factory
) -> None:
    a = await factory.tenant()
    ids = await labels(factory, a)
    await factory.contact(a, phone="+14155551234", email="a@example.com")
    async with app.state.sessionmaker() as s:
        with pytest.raises(ValidationFailed) as info:
            await ContactService(s, a.info).create(
                body(ids, email="a@example.com", status_id=987, firstname=None)
            )
    assert info.value.errors == {
        "firstname": ["The firstname field is required."],
        "phone": ["The phone has already been taken."],
        "email": ["The email has already been taken."],
        "status_id": ["The selected status id is invalid."],
    }
    assert list(info.value.errors) == ["firstname", "phone", "email", "status_id"]


async def test_update_ignores_its_own_phone_but_not_others(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant()
    mine = await factory.contact(a, phone="+14155550001")
    await factory.contact(a, phone="+14155550002")
    base = {"firstname": "A", "lastname": "B", "type": "lead"}
    async with app.state.sessionmaker() as s:
        service = ContactService(s, a.info)
        after, _ = await service.update(mine["id"], base | {"phone": "+1 415 555 0001"})
        assert after["phone"] == "+14155550001"
        with pytest.raises(ValidationFailed) as info:
            await service.update(mine["id"], base | {"phone": "+1 415 555 0002"})
    assert info.value.errors == {"phone": ["The phone has already been taken."]}


async def test_plan_limit(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant(max_contacts=1)
    ids = await labels(factory, a)
    async with app.state.sessionmaker() as s:
        service = ContactService(s, a.info)
        await service.check_plan_limit()
        await service.create(body(ids))
        with pytest.raises(Forbidden) as info:
            await service.check_plan_limit()
        assert info.value.message == PLAN_LIMIT
        assert info.value.status_code == 403
        with pytest.raises(Forbidden):
            await service.create(body(ids, phone="+14155550002"))


async def test_plan_limit_comes_after_validation(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant(max_contacts=1)
    await factory.contact(a)
    async with app.state.sessionmaker() as s:
        with pytest.raises(ValidationFailed):
            await ContactService(s, a.info).create({"firstname": "A"})


async def test_no_plan_limit_when_unset(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant()
    assert a.info.max_contacts is None
    ids = await labels(factory, a)
    async with app.state.sessionmaker() as s:
        service = ContactService(s, a.info)
        for n in range(3):
            await service.create(body(ids, phone=f"+1415555000{n}"))
        await service.check_plan_limit()


async def test_another_workspace_contact_is_not_found(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    theirs = await factory.contact(b)
    async with app.state.sessionmaker() as s:
        service = ContactService(s, a.info)
        with pytest.raises(NotFound):
            await service.get(theirs["id"])
        with pytest.raises(NotFound):
            await service.delete(theirs["id"])
        with pytest.raises(NotFound):
            await service.update(
                theirs["id"], {"firstname": "X", "lastname": "Y", "phone": "+14155550199",
                               "type": "lead"})
    async with app.state.sessionmaker() as s:
        assert await ContactService(s, b.info).get(theirs["id"]) == theirs


async def test_groups_are_created_once_per_workspace(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant()
    ids = await labels(factory, a)
    async with app.state.sessionmaker() as s:
        service = ContactService(s, a.info)
        one = await service.create(body(ids, groups="vip, vip , new"))
        two = await service.create(body(ids, phone="+14155550002", groups="new,vip"))
        assert len(one["group_id"]) == 2
        assert sorted(one["group_id"]) == sorted(two["group_id"])
        assert await s.scalar(select(func.count()).select_from(Group)) == 2


async def test_page_with_filters(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant()
    first = await factory.contact(a, firstname="Ann", type="customer")
    await factory.contact(a, firstname="Bob")
    where = filters(
        search="an",
        type="customer",
        status_id=None,
        source_id=None,
        group_id=None,
        is_opted_out=False,
    )
    async with app.state.sessionmaker() as s:
        service = ContactService(s, a.info)
        items, total = await service.page(1, 15, where)
        assert (items, total) == ([first], 1)
        items, total = await service.page(2, 1, {})
        assert total == 2 and len(items) == 1
        items, total = await service.page(9, 1, {})
        assert items == [] and total == 2
