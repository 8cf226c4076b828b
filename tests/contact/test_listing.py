"""The PostgreSQL list renders records in SQL; it must equal ``contact_record`` exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.backends import Backend
from tests.factories import Factory
from xobito.contact.listing import filters
from xobito.contact.service import ContactService
from xobito.models import Contact


@pytest.fixture(autouse=True)
def _postgres_only(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("the JSON rendering is PostgreSQL's (run with XOBITO_TEST_BACKEND=postgres)")


async def test_sql_rendering_equals_contact_record(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant()
    await factory.contact(a, firstname="Zoë \"Q\" \\ \u2603", lastname="O'Brien", groups="b, a",
                          email="zoe@example.com", company="ACME\nLtd", country_id=-5,
                          assigned_id=2**31 - 1, description="tab\there", zip="00000",
                          city="Zürich", state="ZH", address="Line 1\r\nLine 2",
                          website="https://example.com")
    await factory.contact(a)  # every optional field null, no groups
    async with app.state.sessionmaker() as s:
        await s.execute(update(Contact).where(Contact.id == 2).values(
            is_opted_out=True, opted_out_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)))
        await s.commit()
    for page, per_page, given in ((1, 15, {}), (2, 1, {}), (1, 15, filters(
            search="zo", type=None, status_id=None, source_id=None, group_id=None,
            is_opted_out=None)), (5, 15, {})):
        async with app.state.read_sessionmaker() as s:
            service = ContactService(s, a.info)
            expected, total = await service.page(page, per_page, given)
            fragment, count, sql_total = await service.page_for_response(page, per_page, given)
        assert isinstance(fragment, orjson.Fragment)
        assert orjson.loads(orjson.dumps(fragment)) == expected
        assert (count, sql_total) == (len(expected), total)
