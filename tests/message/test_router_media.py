"""``POST /messages/media`` (docs/api/messages.md): by URL, by upload, limits and per-type rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.message import media_samples as samples
from tests.message.conftest import CloudTenant, Messaging
from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
MB = 1024 * 1024
PNG = samples.PNG


@pytest.fixture
async def ct(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    ct = await messaging.cloud_tenant()
    await messaging.cloud_inbound(ct, PHONE)
    return ct


async def post(client: httpx.AsyncClient, ct: CloudTenant, **kwargs: Any) -> httpx.Response:
    t = ct.tenant
    return await client.post(t.url("/messages/media"), headers=t.headers, **kwargs)


def by_url(media_type: str, **fields: Any) -> dict[str, Any]:
    url = f"https://cdn.example.com/file.{media_type}"
    return {"phone_number": PHONE, "media_type": media_type, "media_url": url, **fields}


BY_URL = [
    ("image", {"caption": "Look"}, {"caption": "Look"}),
    ("video", {"caption": "Watch"}, {"caption": "Watch"}),
    ("audio", {}, {}),
    (
        "document",
        {"caption": "Your invoice", "filename": "invoice.pdf"},
        {"caption": "Your invoice", "filename": "invoice.pdf"},
    ),
]


@pytest.mark.parametrize(("media_type", "fields", "extra"), BY_URL, ids=[b[0] for b in BY_URL])
async def test_each_type_by_url(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    messaging: Messaging,
    media_type: str,
    fields: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    r = await post(client, ct, json=by_url(media_type, **fields))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["message"] == "Media message sent successfully"
    [sent] = cloud.sent
    assert sent.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "14155551234",
        "type": media_type,
        media_type: {"link": f"https://cdn.example.com/file.{media_type}", **extra},
    }
    assert cloud.schema_violations == []
    assert got["data"]["message_id"] == sent.wamid
    assert got["data"]["message"] == fields.get("caption")
    stored = (await messaging.messages(ct.tenant))[-1]
    assert (stored.type, stored.status, stored.wamid) == (media_type, "sent", sent.wamid)


def upload(media_type: str, name: str, data: bytes, mime: str, **fields: Any) -> dict[str, Any]:
    return {
        "data": {"phone_number": PHONE, "media_type": media_type, **fields},
        "files": {"media_file": (name, data, mime)},
    }


async def test_an_upload_goes_to_meta_media_and_the_send_uses_its_id(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    data = PNG + b"p" * (5 * MB - len(PNG))  # exactly the image limit
    r = await post(client, ct, **upload("image", "pic.png", data, "image/png", caption="Hi"))
    assert r.status_code == 200, r.text
    media_request, send_request = cloud.requests
    assert media_request.path == f"/v23.0/{ct.number}/media"
    assert media_request.form is not None
    assert media_request.form["messaging_product"] == "whatsapp"
    assert media_request.form["file"] == {
        "filename": "pic.png",
        "content_type": "image/png",
        "size": 5 * MB,
    }
    [(media_id, stored)] = cloud.media.items()
    assert (stored.mime_type, stored.data) == ("image/png", data)
    assert send_request.path == f"/v23.0/{ct.number}/messages"
    assert cloud.sent[0].body["image"] == {"id": media_id, "caption": "Hi"}
    assert cloud.schema_violations == []


async def test_a_document_upload_keeps_its_filename(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    form = upload("document", "a.pdf", samples.PDF, "application/pdf", filename="Report.pdf")
    r = await post(client, ct, **form)
    assert r.status_code == 200, r.text
    [(media_id, stored)] = cloud.media.items()
    assert stored.mime_type == "application/pdf"
    assert cloud.sent[0].body["document"] == {"id": media_id, "filename": "Report.pdf"}
    assert cloud.schema_violations == []


async def test_an_undeclared_mime_type_is_read_from_the_bytes(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    r = await post(client, ct, **upload("image", "pic", PNG, "application/octet-stream"))
    assert r.status_code == 200, r.text
    [stored] = cloud.media.values()
    assert stored.mime_type == "image/png"


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# (media type, bytes, the type the client declares, the type Meta must be told)
ACCEPTED = [
    ("image", samples.JPEG, "image/jpeg", "image/jpeg"),
    ("image", samples.PNG, "image/jpeg", "image/png"),  # mislabelled: the bytes win
    ("video", samples.MP4, "video/mp4", "video/mp4"),
    ("video", samples.THREE_GP, "video/mp4", "video/3gpp"),
    ("audio", samples.AAC, "audio/aac", "audio/aac"),
    ("audio", samples.AMR, "audio/amr", "audio/amr"),
    ("audio", samples.MP3, "audio/mp3", "audio/mpeg"),
    ("audio", samples.M4A, "audio/x-m4a", "audio/mp4"),
    ("audio", samples.MP4_MP42, "audio/mp4", "audio/mp4"),  # an MP4 container sent as audio
    ("audio", samples.OGG, "audio/ogg", "audio/ogg"),
    ("document", samples.PDF, "application/octet-stream", "application/pdf"),
    ("document", samples.TEXT, "text/plain", "text/plain"),
    ("document", samples.DOCX, "application/zip", DOCX),
    ("document", samples.XLSX, XLSX, XLSX),
    ("document", samples.PPTX, PPTX, PPTX),
    ("document", samples.DOC, "application/msword", "application/msword"),
    ("document", samples.XLS, "application/vnd.ms-excel", "application/vnd.ms-excel"),
    ("document", samples.PPT, "application/octet-stream", "application/vnd.ms-powerpoint"),
]


@pytest.mark.parametrize(
    ("media_type", "data", "declared", "detected"),
    ACCEPTED,
    ids=[f"{a[0]}-{a[3]}-{i}" for i, a in enumerate(ACCEPTED)],
)
async def test_every_accepted_type_goes_to_meta_as_what_its_bytes_are(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    media_type: str,
    data: bytes,
    declared: str,
    detected: str,
) -> None:
    r = await post(client, ct, **upload(media_type, "file", data, declared))
    assert r.status_code == 200, r.text
    media_request = cloud.requests_to("media")[0]
    assert media_request.form is not None
    assert media_request.form["type"] == detected
    assert media_request.form["file"]["content_type"] == detected
    [(media_id, stored)] = cloud.media.items()
    assert (stored.mime_type, stored.data) == (detected, data)
    assert cloud.sent[0].body[media_type]["id"] == media_id
    assert cloud.schema_violations == []


TYPE_LISTS = {
    "image": "jpeg, png",
    "video": "mp4, 3gpp",
    "audio": "aac, amr, mpeg, mp4, ogg",
    "document": "pdf, txt, doc, docx, xls, xlsx, ppt, pptx",
}
# (media type, bytes, the type the client claims): none of them is what it claims.
DISGUISED = [
    ("image", samples.EXE, "image/jpeg"),
    ("image", samples.GIF, "image/png"),
    ("image", samples.PDF, "image/png"),
    ("video", samples.EXE, "video/mp4"),
    ("video", samples.QUICKTIME, "video/mp4"),
    ("video", samples.M4A, "video/mp4"),
    ("audio", samples.ELF, "audio/mpeg"),
    ("audio", samples.FLAC, "audio/ogg"),
    ("audio", samples.JPEG, "audio/aac"),
    ("document", samples.EXE, "application/pdf"),
    ("document", samples.ZIP, DOCX),
    ("document", samples.OLE2_OTHER, "application/msword"),
    ("document", samples.BINARY, "text/plain"),
    ("document", samples.PNG, "application/pdf"),
]


@pytest.mark.parametrize(
    ("media_type", "data", "claimed"),
    DISGUISED,
    ids=[f"{d[0]}-{i}" for i, d in enumerate(DISGUISED)],
)
async def test_a_file_that_is_not_what_it_claims_is_422_before_meta(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    messaging: Messaging,
    media_type: str,
    data: bytes,
    claimed: str,
) -> None:
    name = "file." + claimed.rsplit("/", 1)[1]
    r = await post(client, ct, **upload(media_type, name, data, claimed))
    assert r.status_code == 422, r.text
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {
            "media_file": [f"The media file must be a file of type: {TYPE_LISTS[media_type]}."]
        },
    }
    assert cloud.requests == []
    assert [m for m in await messaging.messages(ct.tenant) if m.direction == "outbound"] == []


REFUSED_UPLOADS = [
    (
        upload("image", "big.png", PNG + b"p" * (5 * MB + 1 - len(PNG)), "image/png"),
        "The media file may not be greater than 5120 kilobytes.",
    ),
    (
        upload("image", "anim.gif", samples.GIF, "image/gif"),
        "The media file must be a file of type: jpeg, png.",
    ),
    (
        upload("video", "clip.webm", samples.WEBM, "video/webm"),
        "The media file must be a file of type: mp4, 3gpp.",
    ),
    (
        upload("audio", "song.flac", samples.FLAC, "audio/flac"),
        "The media file must be a file of type: aac, amr, mpeg, mp4, ogg.",
    ),
]


@pytest.mark.parametrize(("form", "message"), REFUSED_UPLOADS, ids=range(len(REFUSED_UPLOADS)))
async def test_upload_limits(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    form: dict[str, Any],
    message: str,
) -> None:
    r = await post(client, ct, **form)
    assert r.status_code == 422
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {"media_file": [message]},
    }
    assert cloud.requests == []


INVALID = [
    (
        {"phone_number": PHONE, "media_type": "image"},
        "media_url",
        "The media url field is required when media file is not present.",
    ),
    (by_url("sticker"), "media_type", "The selected media type is invalid."),
    (
        by_url("image", media_url="ftp://e.com/a.png"),
        "media_url",
        "The media url format is invalid.",
    ),
    (
        by_url("audio", caption="Hi"),
        "caption",
        "The caption field is prohibited when media type is audio.",
    ),
    (
        by_url("image", filename="a.png"),
        "filename",
        "The filename field is prohibited unless media type is document.",
    ),
    (
        by_url("image", caption="c" * 1025),
        "caption",
        "The caption may not be greater than 1024 characters.",
    ),
    (
        by_url("document", filename="f" * 256),
        "filename",
        "The filename may not be greater than 255 characters.",
    ),
    (
        by_url("image", caption="a\x00"),
        "caption",
        "The caption must not contain null characters.",
    ),
    (
        by_url("image", phone_number="+493012345"),
        "phone_number",
        "The phone number must be between 10 and 15 digits.",
    ),
    (
        by_url("image", phone_number="+4915123456789012"),
        "phone_number",
        "The phone number must be between 10 and 15 digits.",
    ),
    (
        {"media_type": "image", "media_url": "https://e.com/a.png"},
        "phone_number",
        "The phone number field is required.",
    ),
]


@pytest.mark.parametrize(("body", "field", "message"), INVALID, ids=range(len(INVALID)))
async def test_field_rules(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    r = await post(client, ct, json=body)
    assert r.status_code == 422
    assert r.json()["errors"] == {field: [message]}
    assert cloud.requests == []


async def test_url_and_file_together_are_422(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    form = upload("image", "pic.png", PNG, "image/png", media_url="https://e.com/a.png")
    r = await post(client, ct, **form)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "media_url": ["The media url field prohibits media file from being present."]
    }
    assert cloud.requests == []


@pytest.mark.parametrize("phone", ["+4930123456", "+491512345678901"])
async def test_phone_of_10_and_15_digits_is_accepted(
    client: httpx.AsyncClient, messaging: Messaging, cloud: FakeGraphServer, phone: str
) -> None:
    ct = await messaging.cloud_tenant(enforce_care_window=False)
    r = await post(client, ct, json=by_url("image", phone_number=phone))
    assert r.status_code == 200, r.text
    assert cloud.sent[0].body["to"] == phone.lstrip("+")


async def test_multipart_contact_fields_are_read_like_json(
    client: httpx.AsyncClient, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    ct = await messaging.cloud_tenant(enforce_care_window=False)
    form = upload(
        "image",
        "pic.png",
        PNG,
        "image/png",
        **{"contact[firstname]": "Ann", "contact[lastname]": "Lee"},
    )
    r = await post(client, ct, **form)
    assert r.status_code == 200, r.text
    contact = await messaging.contact(ct.tenant, PHONE)
    assert contact is not None
    assert (contact.firstname, contact.lastname) == ("Ann", "Lee")
    assert r.json()["data"]["contact_created"] is True


async def test_an_upload_meta_refuses_is_a_stored_failed_send(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.fail_next(1, code=100, endpoint="media")
    r = await post(client, ct, **upload("image", "pic.png", PNG, "image/png"))
    assert r.status_code == 500
    assert r.json() == {
        "status": "error",
        "message": "Failed to send message",
        "errors": {"whatsapp": ["100: Invalid parameter"]},
    }
    assert cloud.requests_to("messages") == []
    stored = (await messaging.messages(ct.tenant))[-1]
    assert (stored.type, stored.status, stored.error_code) == ("image", "failed", 100)


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, ct: CloudTenant, factory: Factory
) -> None:
    b = await factory.tenant()
    r = await client.post(b.url("/messages/media"), json=by_url("image"), headers=ct.tenant.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}


async def test_workspace_b_gets_404_for_workspace_a_media_message(
    client: httpx.AsyncClient, ct: CloudTenant, factory: Factory
) -> None:
    wamid = (await post(client, ct, json=by_url("image"))).json()["data"]["message_id"]
    b = await factory.tenant()
    r = await client.get(b.url(f"/messages/{wamid}/status"), headers=b.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Message not found"}
