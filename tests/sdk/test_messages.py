"""``messages.*`` and what reaches Meta: every send kind against a cloud workspace whose Graph
API is the fake server, file uploads as multipart, and the status endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.message.conftest import CloudTenant, Messaging
from tests.sdk.conftest import MakeClient
from xobito_client import AsyncClient, MessageStatus, NotFoundError, SentMessage, ValidationError

from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
async def ct(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    ct = await messaging.cloud_tenant()
    await messaging.patch_workspace(ct.tenant, enforce_care_window=False)
    return ct


@pytest.fixture
def client(sdk: MakeClient, ct: CloudTenant) -> AsyncClient:
    return sdk(ct.tenant)


async def test_send_text_creates_the_contact(
    client: AsyncClient, cloud: FakeGraphServer, messaging: Messaging, ct: CloudTenant
) -> None:
    sent = await client.messages.send_text(
        PHONE, "Hello there", contact={"firstname": "Ann", "groups": ["VIP", "Beta"]}
    )
    assert isinstance(sent, SentMessage)
    [meta] = cloud.sent
    assert sent.message_id == meta.wamid
    assert meta.body["type"] == "text" and meta.body["text"]["body"] == "Hello there"
    assert (sent.phone, sent.message, sent.status, sent.contact_created) == (
        PHONE,
        "Hello there",
        "sent",
        True,
    )
    assert sent.sent_at is not None and sent.whatsapp_response is not None
    contact = await messaging.contact(ct.tenant, PHONE)
    assert contact is not None and contact.firstname == "Ann"
    assert sent.contact_id == contact.id
    assert [g.name async for g in client.groups.iter()] == ["VIP", "Beta"]


async def test_send_interactive(client: AsyncClient, cloud: FakeGraphServer) -> None:
    sent = await client.messages.send_interactive(
        PHONE,
        "Pick one",
        [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
        header="Question",
        footer="Reply below",
    )
    interactive = cloud.sent[0].body["interactive"]
    assert interactive["type"] == "button"
    assert [b["reply"]["id"] for b in interactive["action"]["buttons"]] == ["yes", "no"]
    assert interactive["header"]["text"] == "Question"
    assert interactive["footer"]["text"] == "Reply below"
    assert sent.message == "Pick one"


async def test_send_cta_url(client: AsyncClient, cloud: FakeGraphServer) -> None:
    await client.messages.send_cta_url(
        PHONE, "See your order", "Open", "https://shop.example.com/o/1", footer="Thanks"
    )
    interactive = cloud.sent[0].body["interactive"]
    assert interactive["type"] == "cta_url"
    assert interactive["action"]["parameters"] == {
        "display_text": "Open",
        "url": "https://shop.example.com/o/1",
    }


async def test_send_template_with_body_and_button_params(
    client: AsyncClient, cloud: FakeGraphServer, messaging: Messaging, ct: CloudTenant
) -> None:
    await messaging.template(
        ct.tenant,
        "order_ready",
        body="Hi {{1}}, order {{2}} is ready.",
        buttons=[{"type": "QUICK_REPLY", "text": "Thanks"}],
    )
    sent = await client.messages.send_template(
        PHONE,
        "order_ready",
        "en_US",
        body_params=["Ann", "#42"],
        button_params={0: "THANKS_42"},
    )
    template = cloud.sent[0].body["template"]
    assert (template["name"], template["language"]["code"]) == ("order_ready", "en_US")
    body = next(c for c in template["components"] if c["type"] == "body")
    assert [p["text"] for p in body["parameters"]] == ["Ann", "#42"]
    button = next(c for c in template["components"] if c["type"] == "button")
    assert button["parameters"][0]["payload"] == "THANKS_42"
    assert sent.message_id == cloud.sent[0].wamid


async def test_send_template_header_upload_is_multipart(
    client: AsyncClient, cloud: FakeGraphServer, messaging: Messaging, ct: CloudTenant
) -> None:
    await messaging.template(ct.tenant, "promo_image", header={"format": "IMAGE"}, body="Hi {{1}}")
    await client.messages.send_template(
        PHONE,
        "promo_image",
        "en_US",
        body_params=["Ann"],
        header_image_file=("banner.png", PNG),
        contact={"firstname": "Ann"},
    )
    [upload] = cloud.media.values()
    assert (upload.filename, upload.mime_type, upload.data) == ("banner.png", "image/png", PNG)
    [header] = cloud.sent[0].body["template"]["components"][:1]
    assert header["parameters"][0]["image"] == {"id": upload.media_id}
    contact = await messaging.contact(ct.tenant, PHONE)
    assert contact is not None and contact.firstname == "Ann"  # contact[firstname] field


async def test_send_media_by_url(client: AsyncClient, cloud: FakeGraphServer) -> None:
    sent = await client.messages.send_media(
        PHONE,
        "document",
        media_url="https://cdn.example.com/invoice.pdf",
        caption="Your invoice",
        filename="invoice.pdf",
    )
    document = cloud.sent[0].body["document"]
    assert document == {
        "link": "https://cdn.example.com/invoice.pdf",
        "caption": "Your invoice",
        "filename": "invoice.pdf",
    }
    assert sent.message_id == cloud.sent[0].wamid


async def test_send_media_uploads_a_file_from_a_path(
    client: AsyncClient, cloud: FakeGraphServer, tmp_path: Path
) -> None:
    picture = tmp_path / "photo.png"
    picture.write_bytes(PNG)
    await client.messages.send_media(PHONE, "image", file=picture, caption="Look")
    [upload] = cloud.media.values()
    assert (upload.filename, upload.mime_type, upload.data) == ("photo.png", "image/png", PNG)
    image = cloud.sent[0].body["image"]
    assert image == {"id": upload.media_id, "caption": "Look"}


async def test_send_media_from_an_open_file(
    client: AsyncClient, cloud: FakeGraphServer, tmp_path: Path
) -> None:
    picture = tmp_path / "scan.png"
    picture.write_bytes(PNG)
    with picture.open("rb") as f:
        await client.messages.send_media(PHONE, "image", file=f)
    [upload] = cloud.media.values()
    assert (upload.filename, upload.data) == ("scan.png", PNG)


async def test_send_validation_error_carries_the_errors_map(
    client: AsyncClient, cloud: FakeGraphServer
) -> None:
    with pytest.raises(ValidationError) as caught:
        await client.messages.send_cta_url(PHONE, "x" * 4097, "Open", "ftp://nope")
    err = caught.value
    assert err.status == 422 and err.message == "Validation failed"
    assert err.errors == {
        "message_body": ["The message body may not be greater than 4096 characters."],
        "button_url": ["The button url format is invalid."],
    }
    assert cloud.sent == []


async def test_message_status(client: AsyncClient, cloud: FakeGraphServer) -> None:
    sent = await client.messages.send_text(PHONE, "Track me")
    status = await client.messages.status(sent.message_id)
    assert isinstance(status, MessageStatus)
    assert (status.message_id, status.delivery_status, status.source) == (
        sent.message_id,
        "sent",
        "chat",
    )
    assert status.statuses["read"] == "Recipient opened/read the message"
    with pytest.raises(NotFoundError, match="Message not found"):
        await client.messages.status("wamid.unknown/with+slash=")
