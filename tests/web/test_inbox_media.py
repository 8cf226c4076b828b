"""A customer's media in the inbox: fetched from Meta (the fake Graph over HTTP, the sandbox)
through the media id with the connection's token, proxied at /app/<sub>/media/<message id>;
the browser never sees the token; size limit; workspace B gets 404."""

from __future__ import annotations

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.message.conftest import (
    ACCESS_TOKEN,
    Messaging,
    cloud,
    fake_graph,
    fake_graph_server,
    messaging,
)
from tests.web.conftest import MakeClient, Team, WebClient, main_text, soup
from xobito.inbound.repository import InboxRepository
from xobito.inbound.scope import EVERYONE
from xobito.models import Message
from xobito.testing.fake_graph import FakeGraphServer
from xobito.whatsapp.base import ConnectionInfo
from xobito.whatsapp.cloud import CloudProvider
from xobito.whatsapp.media import MediaTooLarge, may_receive_token
from xobito.whatsapp.sandbox import SAMPLES, new_wamid
from xobito.whatsapp.webhooks import inbound_payload

__all__ = ["cloud", "fake_graph", "fake_graph_server", "messaging"]  # fixtures used here

ALICE = "+14155550701"
PNG = SAMPLES["1"][2]


async def connect_cloud(messaging: Messaging, subdomain: str) -> dict[str, object]:
    body = messaging.connect_body()
    r = await messaging.client.put(
        f"/api/admin/workspaces/{subdomain}/whatsapp", json=body, headers=messaging.admin
    )
    assert r.status_code == 200, r.text
    return body


async def customer_sends(app: FastAPI, body: dict[str, object], media: dict[str, object]) -> int:
    """A Meta-shaped inbound webhook with ``media``; the stored message's id."""
    numbers = body["phone_number_ids"]
    assert isinstance(numbers, list)
    payload = inbound_payload(
        waba_id=str(body["waba_id"]),
        phone_number_id=numbers[0],
        wamid=new_wamid(),
        wa_id=ALICE.lstrip("+"),
        profile_name="Alice",
        media=media,
    )
    async with app.state.sessionmaker() as s:
        await InboxRepository(s).add(orjson.dumps(payload), EVERYONE)
        await s.commit()
    await app.state.worker.drain()
    async with app.state.sessionmaker() as s:
        found = await s.scalar(select(Message.id).order_by(Message.id.desc()))
        assert found is not None
        return int(found)


async def chat_of(app: FastAPI, message_id: int) -> int:
    async with app.state.sessionmaker() as s:
        chat_id = await s.scalar(select(Message.chat_id).where(Message.id == message_id))
        assert chat_id is not None
        return int(chat_id)


async def test_a_customers_image_is_fetched_with_the_token_and_proxied(
    app: FastAPI, signed_in: object, team: Team, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    body = await connect_cloud(messaging, "acme")
    media_id = cloud.add_media(PNG, "image/png")
    message_id = await customer_sends(
        app, body, {"type": "image", "id": media_id, "mime_type": "image/png", "caption": "Look"}
    )
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    page = await agent.get(f"/app/acme/inbox/{await chat_of(app, message_id)}")
    assert page.status_code == 200, page.text
    img = soup(page).select_one(".bubble-inbound img")
    assert img is not None and img["src"] == f"/app/acme/media/{message_id}"
    assert img["alt"] == "Look"
    assert ACCESS_TOKEN not in page.text and media_id not in page.text
    r = await agent.get(f"/app/acme/media/{message_id}")
    assert r.status_code == 200, r.text
    assert r.content == PNG and r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "content-disposition" not in r.headers
    assert ACCESS_TOKEN.encode() not in r.content
    lookups = [q for q in cloud.requests if q.path == f"/v23.0/{media_id}"]
    downloads = [q for q in cloud.requests if q.path == f"/_fake/media/{media_id}"]
    assert len(lookups) == 1 and len(downloads) == 1
    for q in lookups + downloads:
        assert q.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert cloud.schema_violations == []


async def test_a_document_is_a_download_and_meta_refusing_says_why(
    app: FastAPI, signed_in: object, team: Team, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    body = await connect_cloud(messaging, "acme")
    pdf = SAMPLES["2"][2]
    media_id = cloud.add_media(pdf, "application/pdf", "invoice.pdf")
    message_id = await customer_sends(
        app,
        body,
        {"type": "document", "id": media_id, "mime_type": "application/pdf",
         "filename": "Invoice \"May\".pdf"},
    )  # fmt: skip
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    page = soup(await agent.get(f"/app/acme/inbox/{await chat_of(app, message_id)}"))
    link = page.select_one(f".bubble-inbound a[href='/app/acme/media/{message_id}']")
    assert link is not None and link.has_attr("download")
    assert "Download Invoice" in link.get_text()
    r = await agent.get(f"/app/acme/media/{message_id}")
    assert r.status_code == 200 and r.content == pdf
    assert r.headers["content-disposition"] == 'attachment; filename="Invoice _May_.pdf"'
    cloud.fail_next(code=100, endpoint="media_url", message="Object does not exist")
    r = await agent.get(f"/app/acme/media/{message_id}")
    assert r.status_code == 502
    assert "Meta did not give the file: Object does not exist" in main_text(soup(r))


async def test_larger_than_the_limit_is_not_downloaded(
    app: FastAPI,
    signed_in: object,
    team: Team,
    messaging: Messaging,
    cloud: FakeGraphServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = await connect_cloud(messaging, "acme")
    media_id = cloud.add_media(PNG, "image/png")
    message_id = await customer_sends(
        app, body, {"type": "image", "id": media_id, "mime_type": "image/png"}
    )
    monkeypatch.setattr(app.state.settings, "inbox_media_max_bytes", len(PNG) - 1)
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    r = await agent.get(f"/app/acme/media/{message_id}")
    assert r.status_code == 413
    said = main_text(soup(r))
    assert f"larger than this inbox's limit of {len(PNG) - 1} bytes" in said
    assert "XOBITO_INBOX_MEDIA_MAX_BYTES" in said
    assert not [q for q in cloud.requests if q.path.startswith("/_fake/media/")]
    # Meta's size missing or wrong: the download itself stops at the limit.
    provider = CloudProvider(cloud.base_url)
    try:
        info = await provider.media_info(messaging_info(body), media_id)
        with pytest.raises(MediaTooLarge):
            await provider.download_media(messaging_info(body), info.url, len(PNG) - 1)
        assert await provider.download_media(messaging_info(body), info.url, len(PNG)) == PNG
        # The token goes to Meta's media hosts and the Graph host only.
        with pytest.raises(Exception, match="not one of Meta's hosts"):
            await provider.download_media(messaging_info(body), "https://evil.example/x", 10**6)
        # Nor to the Graph host over plain http when the Graph is https.
        assert not may_receive_token("http://graph.facebook.com/x", "https://graph.facebook.com/v23.0")
        assert may_receive_token("https://graph.facebook.com/x", "https://graph.facebook.com/v23.0")
    finally:
        await provider.close()


def messaging_info(body: dict[str, object]) -> ConnectionInfo:
    numbers = body["phone_number_ids"]
    assert isinstance(numbers, list)
    return ConnectionInfo(numbers[0], str(body["waba_id"]), ACCESS_TOKEN)


async def test_sandbox_serves_a_customers_photo_and_workspace_b_gets_404(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    signed_in: object,
    browser: MakeClient,
    team: Team,
) -> None:
    r = await client.post(
        "/api/admin/workspaces/acme/sandbox/inbound",
        json={"phone_number": ALICE, "media_type": "image", "text": "My photo"},
        headers=admin_headers,
    )
    assert r.status_code == 202, r.text
    await app.state.worker.drain()
    async with app.state.sessionmaker() as s:
        message_id = await s.scalar(select(Message.id).where(Message.type == "image"))
    assert message_id is not None
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    r = await agent.get(f"/app/acme/media/{message_id}")
    assert r.status_code == 200 and r.content == PNG
    globex = await browser()
    await globex.sign_in(team.b_owner.email)
    assert (await globex.get(f"/app/globex/media/{message_id}")).status_code == 404
    assert (await globex.get(f"/app/acme/media/{message_id}")).status_code in (403, 404)
    assert (await agent.get("/app/acme/media/999999")).status_code == 404


async def test_a_customers_video_and_voice_note_play_inline_through_the_proxy(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    signed_in: object,
    browser: MakeClient,
    team: Team,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids: dict[str, int | None] = {}
    for kind, extra in (("video", {"text": "The leak"}), ("audio", {})):
        r = await client.post(
            "/api/admin/workspaces/acme/sandbox/inbound",
            json={"phone_number": ALICE, "media_type": kind, "profile_name": "Alice", **extra},
            headers=admin_headers,
        )
        assert r.status_code == 202, r.text
        await app.state.worker.drain()
        async with app.state.sessionmaker() as s:
            ids[kind] = await s.scalar(select(Message.id).where(Message.type == kind))
        assert ids[kind] is not None
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    page = soup(await agent.get(f"/app/acme/inbox/{await chat_of(app, ids['video'])}"))
    video = page.select_one(".bubble-inbound video")
    audio = page.select_one(".bubble-inbound audio")
    assert video is not None and audio is not None
    assert video["src"] == f"/app/acme/media/{ids['video']}" and video.has_attr("controls")
    assert audio["src"] == f"/app/acme/media/{ids['audio']}" and audio.has_attr("controls")
    assert (video["aria-label"], audio["aria-label"]) == ("The leak", "Audio from Alice")
    for kind, mime, data in (
        ("video", "video/mp4", SAMPLES["3"][2]),
        ("audio", "audio/ogg", SAMPLES["4"][2]),
    ):
        r = await agent.get(f"/app/acme/media/{ids[kind]}")
        assert r.status_code == 200, r.text
        assert (r.headers["content-type"], r.content) == (mime, data)
        assert "content-disposition" not in r.headers  # played in the page, not downloaded
        assert r.headers["x-content-type-options"] == "nosniff"
    # The size limit holds for them as for photos; another workspace never gets them.
    monkeypatch.setattr(app.state.settings, "inbox_media_max_bytes", len(SAMPLES["3"][2]) - 1)
    r = await agent.get(f"/app/acme/media/{ids['video']}")
    assert r.status_code == 413 and "larger than this inbox's limit" in main_text(soup(r))
    assert (await agent.get(f"/app/acme/media/{ids['audio']}")).status_code == 200
    globex = await browser()
    await globex.sign_in(team.b_owner.email)
    for message_id in ids.values():
        assert (await globex.get(f"/app/globex/media/{message_id}")).status_code == 404
        assert (await globex.get(f"/app/acme/media/{message_id}")).status_code in (403, 404)


async def test_a_video_from_meta_is_fetched_with_the_token(
    app: FastAPI, signed_in: object, team: Team, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    body = await connect_cloud(messaging, "acme")
    mp4 = SAMPLES["3"][2]
    media_id = cloud.add_media(mp4, "video/mp4")
    message_id = await customer_sends(
        app, body, {"type": "video", "id": media_id, "mime_type": "video/mp4"}
    )
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    r = await agent.get(f"/app/acme/media/{message_id}")
    assert r.status_code == 200, r.text
    assert (r.headers["content-type"], r.content) == ("video/mp4", mp4)
    downloads = [q for q in cloud.requests if q.path == f"/_fake/media/{media_id}"]
    assert [q.headers["authorization"] for q in downloads] == [f"Bearer {ACCESS_TOKEN}"]


async def test_opened_again_the_media_is_revalidated_not_fetched_from_meta_again(
    app: FastAPI,
    signed_in: object,
    browser: MakeClient,
    team: Team,
    messaging: Messaging,
    cloud: FakeGraphServer,
) -> None:
    body = await connect_cloud(messaging, "acme")
    media_id = cloud.add_media(PNG, "image/png")
    message_id = await customer_sends(
        app, body, {"type": "image", "id": media_id, "mime_type": "image/png"}
    )
    url = f"/app/acme/media/{message_id}"

    def asked_meta() -> int:
        return len([q for q in cloud.requests if q.path == f"/v23.0/{media_id}"])

    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    first = await agent.get(url)
    assert first.status_code == 200 and first.content == PNG
    assert first.headers["cache-control"] == "private, max-age=86400, immutable"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and media_id not in etag
    assert asked_meta() == 1
    for sent in (etag, f"W/{etag}", f'"other", {etag}'):
        again = await agent.get(url, headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b"" and again.headers["etag"] == etag
        assert again.headers["cache-control"] == "private, max-age=86400, immutable"
    assert asked_meta() == 1  # Meta was not asked again
    stale = await agent.get(url, headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.content == PNG and stale.headers["etag"] == etag
    assert asked_meta() == 2
    # Another workspace's member with the right tag still gets nothing: 404 before any 304.
    globex = await browser()
    await globex.sign_in(team.b_owner.email)
    for path in (f"/app/globex/media/{message_id}", url):
        r = await globex.get(path, headers={"If-None-Match": etag})
        assert r.status_code in (403, 404) and "etag" not in r.headers
    assert asked_meta() == 2
