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

from tests.factories import Factory, Tenant
from xobito.app import create_app
from xobito.config import Settings
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
async def seeded(factory: Factory, app: FastAPI, client: httpx.AsyncClient) -> Seeded:
    """A sandbox workspace with a record of each kind, approved templates, one sent message,
    and a token holding every ability with a rate limit that never interferes."""
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
    return Seeded(tenant, ids)


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
    elif path.endswith("/messages/media"):
        case.body = {
            "phone_number": RECIPIENT,
            "media_type": "image",
            "media_url": "https://example.com/picture.jpg",
        }


# Campaign routes (issue 13, still open) are not fuzzed yet: their positive cases need a
# campaign in each state, which this fixture does not build. Listed so that any other new
# route still fails this test until it is fuzzed.
NOT_FUZZED_YET = f"{V1}/campaigns"


def test_every_v1_operation_is_fuzzed(api: Any) -> None:
    documented = {
        (method.upper(), path)
        for path, item in api.raw_schema["paths"].items()
        if path.startswith(V1) and not path.startswith(NOT_FUZZED_YET)
        for method in item
    }
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
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
    assert sum(statuses.values()) >= MAX_EXAMPLES // 2, statuses
    assert all(code < 500 for code in statuses)
    # Authentication never got in the way: every request reached validation or the endpoint.
    assert not {400, 401, 403, 429} & set(statuses), statuses
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= code < 300 for code in statuses), statuses
