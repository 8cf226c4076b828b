"""``POST /messages/template`` header media (docs/api/messages.md): by URL, and uploads sent to
Meta's
``/{phone-number-id}/media`` first."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.message import media_samples as samples
from tests.message.conftest import CloudTenant, Messaging
from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
KB = 1024
DOCUMENTS = "pdf, txt, doc, docx, xls, xlsx, ppt, pptx"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
async def ct(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    ct = await messaging.cloud_tenant()
    t = ct.tenant
    await messaging.template(t, "promo_image", header={"format": "IMAGE"}, body="Hi {{1}}")
    await messaging.template(
        t, "promo_video", header={"format": "VIDEO"}, body="Watch this.", body_examples=None
    )
    await messaging.template(
        t, "invoice", header={"format": "DOCUMENT"}, body="Your invoice.", body_examples=None
    )
    return ct


async def post(client: httpx.AsyncClient, ct: CloudTenant, **kwargs: Any) -> httpx.Response:
    t = ct.tenant
    return await client.post(t.url("/messages/template"), headers=t.headers, **kwargs)


@pytest.mark.parametrize(
    ("name", "field", "kind"),
    [
        ("promo_image", "header_image_url", "image"),
        ("promo_video", "header_video_url", "video"),
    ],
)
async def test_header_media_by_url(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    name: str,
    field: str,
    kind: str,
) -> None:
    body = {"phone_number": PHONE, "template_name": name, "template_language": "en_US"}
    if name == "promo_image":
        body["field_1"] = "Ann"
    r = await post(client, ct, json={**body, field: f"https://cdn.example.com/h.{kind}"})
    assert r.status_code == 200, r.text
    [header] = cloud.sent[0].body["template"]["components"][:1]
    assert header == {
        "type": "header",
        "parameters": [{"type": kind, kind: {"link": f"https://cdn.example.com/h.{kind}"}}],
    }
    assert cloud.schema_violations == []


async def test_document_header_carries_its_filename(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    body = {
        "phone_number": PHONE,
        "template_name": "invoice",
        "template_language": "en_US",
        "header_document_url": "https://cdn.example.com/inv.pdf",
        "header_document_name": "invoice-7.pdf",
    }
    r = await post(client, ct, json=body)
    assert r.status_code == 200, r.text
    assert cloud.sent[0].body["template"]["components"] == [
        {
            "type": "header",
            "parameters": [
                {
                    "type": "document",
                    "document": {
                        "link": "https://cdn.example.com/inv.pdf",
                        "filename": "invoice-7.pdf",
                    },
                }
            ],
        }
    ]
    assert cloud.schema_violations == []


async def test_missing_header_media_is_422(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    body = {"phone_number": PHONE, "template_name": "promo_video", "template_language": "en_US"}
    r = await post(client, ct, json=body)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "header_video_url": [
            "The header video url or header video file is required by this template."
        ]
    }
    assert cloud.requests == []


def image_form(size: int) -> dict[str, Any]:
    fields = {
        "phone_number": PHONE,
        "template_name": "promo_image",
        "template_language": "en_US",
        "field_1": "Ann",
    }
    return {
        "data": fields,
        "files": {
            "header_image_file": (
                "header.jpg",
                samples.JPEG + b"j" * (size - len(samples.JPEG)),
                "image/jpeg",
            )
        },
    }


async def test_header_upload_goes_to_meta_media_first_and_the_send_uses_its_id(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    r = await post(client, ct, **image_form(5120 * KB))  # exactly at the limit
    assert r.status_code == 200, r.text
    media_request, send_request = cloud.requests
    assert media_request.path == f"/v23.0/{ct.number}/media"
    assert media_request.form is not None
    assert media_request.form["type"] == "image/jpeg"
    assert media_request.form["file"]["size"] == 5120 * KB
    [(media_id, uploaded)] = cloud.media.items()
    assert uploaded.data[:3] == b"\xff\xd8\xff" and len(uploaded.data) == 5120 * KB
    assert send_request.path == f"/v23.0/{ct.number}/messages"
    assert cloud.sent[0].body["template"]["components"][0] == {
        "type": "header",
        "parameters": [{"type": "image", "image": {"id": media_id}}],
    }
    assert cloud.schema_violations == []


async def test_header_upload_over_the_limit_is_422(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    r = await post(client, ct, **image_form(5121 * KB))
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "header_image_file": ["The header image file may not be greater than 5120 kilobytes."]
    }
    assert cloud.requests == []


HEADER_FILES = [
    ("promo_image", "image", samples.EXE, "image/jpeg", "jpeg, png"),
    ("promo_image", "image", samples.GIF, "image/png", "jpeg, png"),
    ("promo_video", "video", samples.ELF, "video/mp4", "mp4, 3gpp"),
    ("invoice", "document", samples.EXE, "application/pdf", DOCUMENTS),
    ("invoice", "document", samples.BINARY, "text/plain", DOCUMENTS),
]


@pytest.mark.parametrize(
    ("name", "medium", "data", "claimed", "kinds"),
    HEADER_FILES,
    ids=[f"{h[1]}-{i}" for i, h in enumerate(HEADER_FILES)],
)
async def test_a_header_file_that_is_not_what_it_claims_is_422_before_meta(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    messaging: Messaging,
    name: str,
    medium: str,
    data: bytes,
    claimed: str,
    kinds: str,
) -> None:
    fields = {"phone_number": PHONE, "template_name": name, "template_language": "en_US"}
    if name == "promo_image":
        fields["field_1"] = "Ann"
    files = {f"header_{medium}_file": ("header", data, claimed)}
    r = await post(client, ct, data=fields, files=files)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == {
        f"header_{medium}_file": [f"The header {medium} file must be a file of type: {kinds}."]
    }
    assert cloud.requests == []
    assert [m for m in await messaging.messages(ct.tenant) if m.direction == "outbound"] == []


@pytest.mark.parametrize(
    ("name", "medium", "data", "detected"),
    [
        ("promo_video", "video", samples.THREE_GP, "video/3gpp"),
        ("invoice", "document", samples.PDF, "application/pdf"),
        ("invoice", "document", samples.DOCX, DOCX),
    ],
    ids=["3gpp", "pdf", "docx"],
)
async def test_a_header_file_goes_to_meta_as_what_its_bytes_are(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    name: str,
    medium: str,
    data: bytes,
    detected: str,
) -> None:
    fields = {"phone_number": PHONE, "template_name": name, "template_language": "en_US"}
    files = {f"header_{medium}_file": ("header", data, "application/octet-stream")}
    r = await post(client, ct, data=fields, files=files)
    assert r.status_code == 200, r.text
    [(media_id, uploaded)] = cloud.media.items()
    assert (uploaded.mime_type, uploaded.data) == (detected, data)
    header = cloud.sent[0].body["template"]["components"][0]
    assert header["parameters"][0][medium]["id"] == media_id
    assert cloud.schema_violations == []


async def test_header_upload_refused_by_meta_is_a_failed_send(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    cloud.fail_next(1, code=100, endpoint="media")
    r = await post(client, ct, **image_form(10 * KB))
    assert r.status_code == 500
    assert r.json() == {
        "status": "error",
        "message": "Failed to send message",
        "errors": {"whatsapp": ["100: Invalid parameter"]},
    }
    assert cloud.requests_to("messages") == []


async def test_workspace_b_gets_404_for_workspace_a_message(
    client: httpx.AsyncClient, ct: CloudTenant, factory: Factory
) -> None:
    body = {
        "phone_number": PHONE,
        "template_name": "invoice",
        "template_language": "en_US",
        "header_document_url": "https://cdn.example.com/inv.pdf",
    }
    wamid = (await post(client, ct, json=body)).json()["data"]["message_id"]
    b = await factory.tenant()
    r = await client.get(b.url(f"/messages/{wamid}/status"), headers=b.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Message not found"}


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, ct: CloudTenant, factory: Factory
) -> None:
    b = await factory.tenant()
    r = await client.post(b.url("/messages/template"), json={}, headers=ct.tenant.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}
