"""Who a campaign reaches: exclusions counted by reason before the first send, variables
filled from contact fields with fallbacks, CSV audiences with bad rows reported."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from tests.campaign.conftest import Campaigns, new_phone
from xobito.models import Contact


def digits(phone: str) -> str:
    return phone.lstrip("+")


async def csv_campaign(
    campaigns: Campaigns, ct: Any, text: str, **fields: str
) -> tuple[int, dict[str, Any]]:
    status = await campaigns.factory.status(ct.tenant)
    source = await campaigns.factory.source(ct.tenant)
    data = {
        "name": "CSV",
        "template_name": "promo",
        "template_language": "en_US",
        "variables": '{"field_1": {"type": "csv", "column": "name", "fallback": "friend"},'
        ' "field_2": {"type": "csv", "column": "code"}}',
        "csv_status_id": str(status.id),
        "csv_source_id": str(source.id),
        "rate_per_second": "1000",
        **fields,
    }
    r = await campaigns.client.post(
        ct.tenant.url("/campaigns"),
        data=data,
        files={"csv_file": ("audience.csv", text.encode(), "text/csv")},
        headers=ct.tenant.headers,
    )
    body: dict[str, Any] = r.json()
    return r.status_code, body


async def test_opted_out_duplicate_and_invalid_are_excluded_and_counted(
    campaigns: Campaigns,
) -> None:
    ct = await campaigns.tenant()
    keep, stopped = await campaigns.contacts(ct, 2)
    await campaigns.messaging.set_contact(stopped["id"], is_opted_out=True)
    bad = await campaigns.contacts(ct, 1)
    # A stored number that is possible but not valid (an unassigned US area code).
    async with campaigns.app.state.sessionmaker() as s:
        await s.execute(update(Contact).where(Contact.id == bad[0]["id"]).values(
            phone="+11005550100"))
        await s.commit()
    text = "phone,name,code\n" + "\n".join(
        [f"{keep['phone']},Kim,A1", f"{keep['phone']},Kim again,A2",
         f"{stopped['phone']},Sam,B1", "+11005550199,Nobody,C1", "12,Short,D1"]
    )
    status, body = await csv_campaign(campaigns, ct, text)
    assert status == 201, body
    created = body["data"]
    await campaigns.engine().drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["exclusions"] == {
        "opted_out": 1, "duplicate": 1, "invalid": 2, "missing_variable": 0
    }
    assert shown["counts"]["excluded"] == 4 and shown["counts"]["sent"] == 1
    assert shown["counts"]["total"] == 5
    assert campaigns.graph.sent_counts() == {digits(keep["phone"]): 1}
    (sent,) = campaigns.graph.sent
    params = sent.body["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["Kim", "A1"], "the first row of a repeated number"
    # An audience by filters: the opted-out contact and the invalid number are excluded.
    campaigns.graph.reset()
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["exclusions"]["opted_out"] == 1 and shown["exclusions"]["invalid"] == 1
    assert campaigns.graph.sent_counts() == {digits(keep["phone"]): 1}


async def test_csv_bad_rows_are_reported_and_new_contacts_created(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    fresh = new_phone()
    text = (
        "Phone,Name,Code\n"
        f"{fresh},Lee,Z9\n"
        ",Nobody,X\n"
        "+12125550000,too,many,cells\n"
        f"{new_phone()},{'x' * 2000},Y\n"
    )
    status, body = await csv_campaign(campaigns, ct, text)
    assert status == 201, body
    report = body["data"]["csv"]
    assert report["rows"] == 4 and report["accepted"] == 1 and report["bad_rows"] == 3
    assert report["errors"] == [
        {"line": 3, "message": "The phone field is required."},
        {"line": 4, "message": "The row has 4 columns; the header has 3."},
        {"line": 5, "message": "A value is longer than 1024 characters or not text."},
    ]
    contact = await campaigns.messaging.contact(ct.tenant, fresh)
    assert contact is not None and contact.firstname == fresh and contact.type == "lead"
    await campaigns.engine().drain()
    assert campaigns.graph.sent_counts() == {digits(fresh): 1}


async def test_csv_without_a_phone_column_or_a_used_column_is_refused(
    campaigns: Campaigns,
) -> None:
    ct = await campaigns.tenant()
    status, body = await csv_campaign(campaigns, ct, "mobile,name\n+12125550101,A\n")
    assert status == 422
    assert body["errors"]["csv_file"] == ["The csv file must have a phone column."]
    status, body = await csv_campaign(campaigns, ct, "phone,name\n+12125550101,A\n")
    assert body["errors"]["csv_file"] == [
        "The csv file has no column code (used by the variables)."
    ]
    status, body = await csv_campaign(
        campaigns, ct, "phone,name,code\n", csv_status_id="", csv_source_id=""
    )
    assert body["errors"]["csv_status_id"] == [
        "The csv status id field is required when csv file is present."
    ]


async def test_variables_fill_from_contact_fields_with_fallbacks(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    with_company, without_company = await campaigns.contacts(ct, 2)
    await campaigns.messaging.set_contact(with_company["id"], company="Acme")
    body = {
        "variables": {
            "field_1": {"type": "contact", "field": "firstname"},
            "field_2": {"type": "contact", "field": "company", "fallback": "your team"},
        }
    }
    created = await campaigns.create(ct, **body)
    await campaigns.engine().drain()
    texts = {
        m.wa_id: [p["text"] for p in m.body["template"]["components"][0]["parameters"]]
        for m in campaigns.graph.sent
    }
    assert texts == {
        digits(with_company["phone"]): [with_company["firstname"], "Acme"],
        digits(without_company["phone"]): [without_company["firstname"], "your team"],
    }
    # Without a fallback, a contact whose field is empty is excluded, not sent a blank.
    campaigns.graph.reset()
    body["variables"]["field_2"] = {"type": "contact", "field": "company"}
    created = await campaigns.create(ct, **body)
    await campaigns.engine().drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["exclusions"]["missing_variable"] == 1
    assert campaigns.graph.sent_counts() == {digits(with_company["phone"]): 1}
