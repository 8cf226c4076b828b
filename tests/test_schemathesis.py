"""Property-based run of every /api/v1 operation against its own OpenAPI description.

schemathesis generates requests from /openapi.json (valid ones, then invalid ones) for a
seeded workspace, sends them to the ASGI app, and checks: no 5xx, every status code and
content type is documented, and every body matches its documented schema.

The app under test is created here rather than taken from the ``app`` fixture: schemathesis
drives ASGI apps from its own event-loop thread, and database connections belong to one loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python import asgi as schemathesis_asgi
from sqlalchemy import update

from tests.factories import Factory, Tenant
from xobito.app import create_app
from xobito.campaign.engine import CampaignEngine
from xobito.campaign.pacing import MemoryPacer
from xobito.campaign.starting import start
from xobito.config import Settings
from xobito.kit.time import utcnow
from xobito.models import Campaign, Contact, Template
from xobito.template.service import TemplateService

V1 = "/api/v1/{subdomain}"
RECORDS = {"contacts": "contact_id", "statuses": "record_id", "sources": "record_id"}
OPERATIONS = [
    *(
        (method, f"{V1}/{plural}{suffix}")
        for plural, param in (*RECORDS.items(), ("groups", "record_id"))
        for method, suffix in (
            ("GET", ""),
            ("POST", ""),
            ("GET", f"/{{{param}}}"),
            ("PUT", f"/{{{param}}}"),
            ("DELETE", f"/{{{param}}}"),
        )
    ),
    ("GET", f"{V1}/templates"),
    ("GET", f"{V1}/templates/{{template_id}}"),
    ("POST", f"{V1}/messages/send"),
    ("POST", f"{V1}/messages/template"),
    ("POST", f"{V1}/messages/media"),
    ("GET", f"{V1}/messages/{{message_id}}/status"),
    ("POST", f"{V1}/phone/validate"),
    # Beyond Xobito v1: the team inbox.
    ("GET", f"{V1}/chats"),
    ("GET", f"{V1}/chats/{{chat_id}}"),
    ("GET", f"{V1}/chats/{{chat_id}}/messages"),
    ("POST", f"{V1}/chats/{{chat_id}}/assign"),
    ("POST", f"{V1}/chats/{{chat_id}}/resolve"),
    ("POST", f"{V1}/chats/{{chat_id}}/reopen"),
    ("GET", f"{V1}/messages/{{message_id}}/timeline"),
    # Beyond Xobito v1: campaigns and their settings.
    ("GET", f"{V1}/campaigns"),
    ("POST", f"{V1}/campaigns"),
    ("GET", f"{V1}/campaigns/{{campaign_id}}"),
    ("DELETE", f"{V1}/campaigns/{{campaign_id}}"),
    *(
        ("POST", f"{V1}/campaigns/{{campaign_id}}/{action}")
        for action in ("start", "pause", "resume", "cancel", "retry-failed")
    ),
    ("GET", f"{V1}/campaigns/{{campaign_id}}/recipients"),
    ("GET", f"{V1}/campaigns/{{campaign_id}}/failures"),
    ("GET", f"{V1}/campaigns/{{campaign_id}}/report.csv"),
    ("GET", f"{V1}/campaigns/opt-out"),
    ("PUT", f"{V1}/campaigns/opt-out"),
    ("GET", f"{V1}/campaigns/numbers/{{phone_number_id}}"),
    ("PUT", f"{V1}/campaigns/numbers/{{phone_number_id}}"),
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 25
PHONES = st.integers(0, 9998).map(lambda n: f"+1 (415) 555-{n:04d}")  # 0000 fails in sandbox
RECIPIENT = "+14155550123"


@dataclass
class Seeded:
    tenant: Tenant
    ids: dict[str, Any]  # what an existing record is called, per path parameter / kind


@pytest.fixture
async def seeded(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient, request: pytest.FixtureRequest
) -> Seeded:
    """A sandbox workspace with a record of each kind, approved templates, one sent message,
    and a token holding every ability with a rate limit that never interferes; for campaign
    routes, campaigns in each state too (they take a worker's run: seconds)."""
    tenant = await factory.tenant(
        subdomain="fuzz", token_fields={"rate_limit_max": 1_000_000}, enforce_care_window=False
    )
    status = await factory.status(tenant, "Qualified")
    source = await factory.source(tenant, "Website")
    group = await factory.group(tenant, "Customers")
    contact = await factory.contact(
        tenant, status_id=status.id, source_id=source.id, groups="Customers"
    )
    async with app.state.sessionmaker() as session:
        service = TemplateService(session, tenant.workspace.id)
        await service.sync(app.state.providers)
        await session.commit()
        templates, _ = await service.page(1, 1)
    sent = await client.post(
        tenant.url("/messages/send"),
        headers=tenant.headers,
        json={"phone_number": RECIPIENT, "message_body": "hello"},
    )
    assert sent.status_code == 200, sent.text
    ids = {
        "contacts": contact["id"],
        "statuses": status.id,
        "sources": source.id,
        "groups": group.id,
        "templates": templates[0].id,
        "messages": sent.json()["data"]["message_id"],
    }
    if request.node.callspec.params["path"].startswith(f"{V1}/campaigns"):
        ids |= await seed_campaigns(factory, app, client, tenant, status.id, source.id)
    return Seeded(tenant, ids)


# The seeded campaigns (by name) each state change is allowed from.
ACCEPTS = {
    "start": ("draft",),
    "pause": ("running", "scheduled"),
    "resume": ("paused", "paused_before_start"),
    "cancel": ("draft", "scheduled", "running", "paused"),
    "retry-failed": ("completed",),
}
CAMPAIGN = {"name": "Spring sale", "template_name": "hello_world", "template_language": "en_US",
            "audience": {"all": True}}


async def seed_campaigns(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient, tenant: Tenant,
    status_id: int, source_id: int,
) -> dict[str, Any]:
    """A campaign in each state, with recipients where it started: ``campaigns`` (their ids by
    name) and ``numbers`` (the sending number). The completed one has a sent, a failed (the
    sandbox refuses numbers ending in 0000) and an excluded (opted out) recipient."""
    await factory.contact(tenant, phone="+14155550000", status_id=status_id, source_id=source_id)
    stopped = await factory.contact(
        tenant, phone="+14155550100", status_id=status_id, source_id=source_id
    )
    async with app.state.sessionmaker() as session:  # as a STOP keyword leaves it
        await session.execute(
            update(Contact).where(Contact.id == stopped["id"]).values(is_opted_out=True)
        )
        await session.commit()

    async def create(**body: Any) -> int:
        r = await client.post(tenant.url("/campaigns"), headers=tenant.headers,
                              json={**CAMPAIGN, **body})
        assert r.status_code == 201, r.text
        return int(r.json()["data"]["id"])

    async def act(campaign_id: int, action: str) -> None:
        r = await client.post(tenant.url(f"/campaigns/{campaign_id}/{action}"),
                              headers=tenant.headers)
        assert r.status_code == 200, r.text

    completed = await create(name="Completed")
    engine = CampaignEngine(app.state.sessionmaker, app.state.providers, app.state.settings,
                            pacer=MemoryPacer(), poll_seconds=0.05)
    try:
        await engine.drain()
    finally:
        await engine.close()
    later = (utcnow() + timedelta(days=7)).isoformat()
    ids = {
        "completed": completed,
        "draft": await create(name="Draft", draft=True),
        "scheduled": await create(name="Scheduled", scheduled_at=later),
        "paused_before_start": await create(name="Paused early", scheduled_at=later),
        "running": await create(name="Running"),
        "paused": await create(name="Paused"),
        "cancelled": await create(name="Cancelled", scheduled_at=later),
        "failed": await create(name="Failed"),
    }
    async with app.state.sessionmaker() as session:  # what the worker does when it starts them
        await session.execute(
            update(Template).where(Template.workspace_id == tenant.workspace.id,
                                   Template.template_name == "hello_world")
            .values(status="PAUSED")
        )
        failed = await session.get(Campaign, ids["failed"])
        assert failed is not None and not await start(session, failed, utcnow())
        await session.execute(
            update(Template).where(Template.workspace_id == tenant.workspace.id,
                                   Template.template_name == "hello_world")
            .values(status="APPROVED")
        )
        for name in ("running", "paused"):
            campaign = await session.get(Campaign, ids[name])
            assert campaign is not None and await start(session, campaign, utcnow())
        await session.commit()
    for name in ("paused", "paused_before_start"):
        await act(ids[name], "pause")
    await act(ids["cancelled"], "cancel")
    r = await client.get(tenant.url(f"/campaigns/{completed}"), headers=tenant.headers)
    shown = r.json()["data"]
    assert shown["state"] == "completed", shown
    assert shown["counts"] | {"delivered": 0, "read": 0} == {
        "total": 4, "excluded": 1, "sent": 2, "delivered": 0, "read": 0, "failed": 1,
        "replied": 0, "pending": 0,
    }, shown
    return {"campaigns": ids, "numbers": shown["from_phone_number_id"]}


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[Any]:
    app = create_app(settings)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        schemathesis_asgi.shutdown_lifespans()  # runs the app's shutdown: engine disposed


def steer(case: Any, data: st.DataObject, seeded: Seeded, path: str) -> None:
    """Half the time, aim a valid case at the seeded records, so successes get checked too.

    Random ids almost never name a record and random phones almost never parse; this keeps
    the case valid against the schema while making 2xx responses likely.
    """
    kind = path.removeprefix(V1 + "/").split("/")[0]
    if not data.draw(st.booleans(), label="steer"):
        return
    for name in ("contact_id", "record_id", "template_id", "message_id"):
        if name in case.path_parameters:
            case.path_parameters[name] = seeded.ids[kind]
    if "campaign_id" in case.path_parameters:
        by_state = seeded.ids["campaigns"]
        accepting = [by_state[k] for k in ACCEPTS.get(path.rsplit("/", 1)[-1], ())]
        choices = st.sampled_from(sorted(by_state.values()))
        if accepting:  # half of these in a state the action is allowed from
            choices = st.one_of(st.sampled_from(accepting), choices)
        case.path_parameters["campaign_id"] = data.draw(choices, label="campaign")
    if "phone_number_id" in case.path_parameters:
        case.path_parameters["phone_number_id"] = seeded.ids["numbers"]
    if not isinstance(case.body, dict):
        return
    if kind == "contacts":
        case.body["phone"] = data.draw(PHONES, label="phone")
        case.body["status_id"] = seeded.ids["statuses"]
        case.body["source_id"] = seeded.ids["sources"]
    elif path.endswith("/messages/send"):
        case.body = {"phone_number": RECIPIENT, "message_body": case.body.get("message_body")}
    elif path.endswith("/messages/template"):
        case.body = {
            "phone_number": RECIPIENT,
            "template_name": "hello_world",
            "template_language": "en_US",
        }
    elif path == f"{V1}/campaigns":
        name = case.body.get("name")
        case.body = {**CAMPAIGN, "name": name if isinstance(name, str) and name else "Sale",
                     "draft": data.draw(st.booleans(), label="draft")}
    elif path.endswith("/messages/media"):
        case.body = {
            "phone_number": RECIPIENT,
            "media_type": "image",
            "media_url": "https://example.com/picture.jpg",
        }


def test_every_v1_operation_is_fuzzed(api: Any) -> None:
    documented = {
        (method.upper(), path)
        for path, item in api.raw_schema["paths"].items()
        if path.startswith(V1)
        for method in item
    }
    assert documented == set(OPERATIONS)


# Nothing to vary: one valid request, and no invalid one to make.
NO_INPUT = {("GET", f"{V1}/campaigns/opt-out")}
CASES = [
    pytest.param(method, path, mode, id=f"{method}-{path}-{mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if not (mode is GenerationMode.NEGATIVE and (method, path) in NO_INPUT)
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_conforms_to_its_schema(
    api: Any, seeded: Seeded, method: str, path: str, mode: GenerationMode
) -> None:
    tenant = seeded.tenant
    statuses: Counter[int] = Counter()
    strategy = api[path][method].as_strategy(
        generation_mode=mode,
        path_parameters={"subdomain": tenant.workspace.subdomain},
        headers=tenant.headers,
    )

    @seed(20260416)
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        case.path_parameters["subdomain"] = tenant.workspace.subdomain
        case.headers = {**(case.headers or {}), **tenant.headers}
        if mode is GenerationMode.POSITIVE:
            steer(case, data, seeded, path)
        response = case.call_and_validate(checks=CHECKS)
        statuses[response.status_code] += 1

    run()
    assert sum(statuses.values()) >= (1 if (method, path) in NO_INPUT else MAX_EXAMPLES // 2), (
        statuses
    )
    assert all(code < 500 for code in statuses)
    # Authentication never got in the way: every request reached validation or the endpoint.
    assert not {400, 401, 403, 429} & set(statuses), statuses
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= code < 300 for code in statuses), statuses
