"""One exception class per status family, all raised from real server answers."""

from __future__ import annotations

import httpx
import pytest
from tests.factories import Factory
from tests.message.conftest import Messaging
from tests.sdk.conftest import MakeClient, Scripted
from xobito_client import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    XobitoError,
)

from xobito.testing.fake_graph import FakeGraphServer


async def test_unknown_subdomain_is_bad_request(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant()
    with pytest.raises(BadRequestError) as caught:
        await sdk(subdomain="no-such-workspace", token=t.token).contacts.list()
    assert caught.value.status == 400
    assert caught.value.errors == "Invalid tenant subdomain"


async def test_invalid_token_is_authentication_error(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant()
    with pytest.raises(AuthenticationError) as caught:
        await sdk(t, token="apitk_" + "x" * 64).statuses.list()
    err = caught.value
    assert isinstance(err, APIStatusError) and isinstance(err, XobitoError)
    assert (err.status, err.message) == (401, "Invalid API token")
    assert err.body == {"status": "error", "message": "Invalid API token"}
    assert err.response is not None and err.response.status_code == 401


async def test_missing_ability_is_permission_denied(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant(abilities=["contacts.read"])
    with pytest.raises(PermissionDeniedError) as caught:
        await sdk(t).groups.create("Nope")
    assert caught.value.message == "Token does not have the required ability: groups.create"


async def test_plan_limit_is_permission_denied(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant(max_contacts=1)
    await factory.contact(t)
    status, source = await factory.status(t), await factory.source(t)
    with pytest.raises(PermissionDeniedError, match="Contact limit exceeded"):
        await sdk(t).contacts.create(
            firstname="A",
            phone="+14155550111",
            type="lead",
            source_id=source.id,
            status_id=status.id,
        )


async def test_not_found(sdk: MakeClient, factory: Factory) -> None:
    client = sdk(await factory.tenant())
    with pytest.raises(NotFoundError) as caught:
        await client.groups.get(999)
    assert (caught.value.status, caught.value.message) == (404, "Group not found")


async def test_validation_error_lists_every_field(sdk: MakeClient, factory: Factory) -> None:
    client = sdk(await factory.tenant())
    with pytest.raises(ValidationError) as caught:
        await client.contacts.create(
            firstname="", phone="12", type="lead", source_id=999, status_id=999, email="nope"
        )
    err = caught.value
    assert (err.status, err.message) == (422, "Validation failed")
    assert err.errors == {
        "firstname": ["The firstname field is required."],
        "phone": ["The phone format is invalid."],
        "email": ["The email must be a valid email address."],
        "source_id": ["The selected source id is invalid."],
        "status_id": ["The selected status id is invalid."],
    }


async def test_per_page_over_100_is_a_validation_error(sdk: MakeClient, factory: Factory) -> None:
    with pytest.raises(ValidationError) as caught:
        await sdk(await factory.tenant()).contacts.list(per_page=101)
    assert list(caught.value.errors) == ["per_page"]


async def test_oversized_body_is_payload_too_large(sdk: MakeClient, factory: Factory) -> None:
    client = sdk(await factory.tenant())
    with pytest.raises(PayloadTooLargeError) as caught:
        await client.contacts.create(
            firstname="Big",
            phone="+14155550112",
            type="lead",
            source_id=1,
            status_id=1,
            description="x" * (2 * 1024 * 1024),
        )
    assert caught.value.status == 413


async def test_rate_limit_error_carries_retry_after(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant(rate_limit_max=2)
    client = sdk(t, max_retries=0)
    await client.statuses.list()
    await client.statuses.list()
    with pytest.raises(RateLimitError) as caught:
        await client.statuses.list()
    err = caught.value
    assert err.status == 429 and err.message == "Too many requests"
    assert err.body is not None and err.retry_after == err.body["retry_after"]
    assert err.response is not None
    assert err.response.headers["retry-after"] == str(err.retry_after)
    assert 1 <= (err.retry_after or 0) <= 60


async def test_meta_failure_is_server_error_and_never_resent(
    sdk: MakeClient, messaging: Messaging, cloud: FakeGraphServer, asgi: httpx.ASGITransport
) -> None:
    ct = await messaging.cloud_tenant()
    await messaging.patch_workspace(ct.tenant, enforce_care_window=False)
    cloud.fail_next(1, code=131026)
    spy = Scripted(asgi)
    client = sdk(ct.tenant, transport=spy)
    with pytest.raises(ServerError) as caught:
        await client.messages.send_text("+14155551234", "Hello")
    err = caught.value
    assert (err.status, err.message) == (500, "Failed to send message")
    [whatsapp] = err.errors["whatsapp"]
    assert whatsapp.startswith("131026: ")
    # The 500 is retried once, with the same key, and the server replays the stored failure.
    assert [s.status for s in spy.sent] == [500, 500]
    assert len({s.headers["idempotency-key"] for s in spy.sent}) == 1
    assert err.response is not None and err.response.headers["idempotent-replayed"] == "true"
    assert len(cloud.requests_to("messages")) == 1  # Meta was asked once
    [stored] = await messaging.messages(ct.tenant)
    assert stored.status == "failed"


async def test_connection_error_after_retries(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    spy = Scripted(asgi, ["connect-error"] * 3)
    client = sdk(await factory.tenant(), transport=spy, max_retries=2)
    with pytest.raises(APIConnectionError) as caught:
        await client.sources.list()
    assert caught.value.status is None
    assert len(spy.sent) == 3
    assert len(client.sleeps.calls) == 2


class _Timeout(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)


async def test_timeout_is_api_timeout_error(sdk: MakeClient, factory: Factory) -> None:
    client = sdk(await factory.tenant(), transport=_Timeout(), max_retries=1)
    with pytest.raises(APITimeoutError):
        await client.phone.validate("+14155550100")
    assert len(client.sleeps.calls) == 1
