"""``AsyncClient`` resources against the real app, in-process: contacts, statuses, sources,
groups, templates, phone validation; typed records; workspace isolation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from tests.factories import Factory
from tests.message.conftest import Messaging
from tests.sdk.conftest import MakeClient
from xobito_client import (
    AuthenticationError,
    Contact,
    Group,
    NotFoundError,
    Page,
    PhoneValidation,
    Source,
    Status,
    Template,
)


async def test_contact_crud_round_trip(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant()
    client = sdk(t)
    source = await client.sources.create("Website")
    status = await client.statuses.create("Qualified", color="#00AA00", isdefault=True)

    created = await client.contacts.create(
        firstname="Ada",
        lastname="Lovelace",
        phone="+1 (415) 555-0100",
        email="ada@example.com",
        type="lead",
        source_id=source.id,
        status_id=status.id,
        groups=["VIP", "Newsletter"],
        city="London",
    )
    assert isinstance(created, Contact)
    assert created.phone == "+14155550100"  # stored E.164
    assert created.tenant_id == t.workspace.id
    assert created.is_enabled is True and created.is_opted_out is False
    assert isinstance(created.created_at, datetime)
    groups = [g.name async for g in client.groups.iter()]
    assert groups == ["VIP", "Newsletter"]  # auto-created from the comma-joined names
    assert len(created.group_id) == 2

    fetched = await client.contacts.get(created.id)
    assert fetched == created

    updated = await client.contacts.update(
        created.id,
        firstname="Augusta",
        lastname="King",
        phone="+14155550100",
        type="customer",
        source_id=None,
        groups="VIP",
    )
    assert (updated.firstname, updated.type, updated.source_id) == ("Augusta", "customer", None)
    assert updated.status_id == status.id  # not given: kept
    assert len(updated.group_id) == 1

    await client.contacts.delete(created.id)
    with pytest.raises(NotFoundError) as caught:
        await client.contacts.get(created.id)
    assert caught.value.message == "Contact not found"


async def test_contact_list_filters_are_sent(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant()
    await factory.contact(t, firstname="Grace", type="customer")
    lead = await factory.contact(t, firstname="Linus", type="lead")
    client = sdk(t)

    page = await client.contacts.list(type="lead")
    assert isinstance(page, Page)
    assert [c.id for c in page.data] == [lead["id"]]
    assert (page.total, page.current_page, page.from_, page.to) == (1, 1, 1, 1)
    assert [c.firstname for c in (await client.contacts.list(search="grac")).data] == ["Grace"]
    assert (await client.contacts.list(is_opted_out=True)).data == []
    assert (await client.contacts.list(status_id=lead["status_id"])).total == 1


async def test_status_crud(sdk: MakeClient, factory: Factory) -> None:
    client = sdk(await factory.tenant())
    first = await client.statuses.create("Lead in", isdefault=True)
    second = await client.statuses.create("Customer", color="#123456")
    assert isinstance(first, Status) and first.isdefault is True
    assert (second.color, second.isdefault) == ("#123456", False)

    moved = await client.statuses.update(second.id, "Customers", isdefault=True)
    assert (moved.name, moved.isdefault) == ("Customers", True)
    assert (await client.statuses.get(first.id)).isdefault is False  # one default only

    await client.statuses.delete(first.id)
    assert [s.name for s in (await client.statuses.list()).data] == ["Customers"]
    with pytest.raises(NotFoundError, match="Status not found"):
        await client.statuses.delete(first.id)


@pytest.mark.parametrize(
    ("resource", "model", "thing"), [("sources", Source, "Source"), ("groups", Group, "Group")]
)
async def test_named_label_crud(
    sdk: MakeClient, factory: Factory, resource: str, model: type[Any], thing: str
) -> None:
    client = sdk(await factory.tenant())
    labels = getattr(client, resource)
    one = await labels.create("Referral")
    assert isinstance(one, model) and one.name == "Referral"
    renamed = await labels.update(one.id, "Partner referral")
    assert renamed.name == "Partner referral" and renamed.id == one.id
    assert (await labels.get(one.id)).name == "Partner referral"
    page = await labels.list(per_page=5)
    assert (page.per_page, [x.id for x in page.data]) == (5, [one.id])
    await labels.delete(one.id)
    with pytest.raises(NotFoundError, match=f"{thing} not found"):
        await labels.get(one.id)


async def test_templates_list_and_get(
    sdk: MakeClient, factory: Factory, messaging: Messaging
) -> None:
    t = await factory.tenant()
    order = await messaging.template(t, "order_update")
    await messaging.template(t, "promo", status="PENDING", category="MARKETING")
    client = sdk(t)

    page = await client.templates.list()
    assert [x.template_name for x in page.data] == ["order_update", "promo"]
    one = await client.templates.get(order.id)
    assert isinstance(one, Template)
    assert (one.status, one.language, one.body_params_count) == ("APPROVED", "en_US", 2)
    assert [x.status async for x in client.templates.iter(per_page=1)] == ["APPROVED", "PENDING"]


async def test_phone_validate(sdk: MakeClient, factory: Factory) -> None:
    client = sdk(await factory.tenant())
    valid = await client.phone.validate("+91 98765 43210")
    assert isinstance(valid, PhoneValidation)
    assert valid.format_valid is True
    assert (valid.country_code, valid.country, valid.e164) == ("91", "India", "+919876543210")
    invalid = await client.phone.validate("+12")
    assert invalid.format_valid is False and invalid.e164 is None
    assert invalid.reason == "Number is too short to be valid"


async def test_workspace_b_gets_404_for_workspace_a_record(
    sdk: MakeClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    contact = await factory.contact(a)
    status = await factory.status(a)
    client_b = sdk(b)
    with pytest.raises(NotFoundError):
        await client_b.contacts.get(contact["id"])
    with pytest.raises(NotFoundError):
        await client_b.statuses.update(status.id, "Taken over")
    assert (await client_b.contacts.list()).total == 0


async def test_token_of_a_on_b_subdomain_is_401(sdk: MakeClient, factory: Factory) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    client = sdk(subdomain=b.workspace.subdomain, token=a.token)
    with pytest.raises(AuthenticationError) as caught:
        await client.contacts.list()
    assert (caught.value.status, caught.value.message) == (401, "Invalid API token")
    assert client.sleeps.calls == []  # a 401 is never retried
