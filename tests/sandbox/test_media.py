"""A sandbox customer's video and voice note (``media_type`` on ``sandbox/inbound``, and the
CLI's ``--media-type``): Meta-shaped webhooks, stored as video/audio messages whose media the
sandbox serves as Meta would (the inbox side: tests/web/test_inbox_media.py)."""

from __future__ import annotations

import asyncio
import hashlib

import httpx
import orjson
from fastapi import FastAPI
from sqlalchemy import select

from tests.cli.test_cli import Cli, cli
from tests.message.conftest import Messaging
from tests.sandbox.test_router import admin_url
from xobito.models import InboxEvent
from xobito.testing import meta_schema
from xobito.whatsapp.base import ConnectionInfo
from xobito.whatsapp.sandbox import SAMPLES, SandboxProvider

__all__ = ["cli"]  # a fixture used here

PHONE = "+14155551299"
MP4, OGG = SAMPLES["3"][2], SAMPLES["4"][2]


async def queued_body(messaging: Messaging) -> dict[str, object]:
    """The newest webhook body waiting in the inbox (before the worker takes it)."""
    await messaging.session.rollback()
    raw = await messaging.session.scalar(select(InboxEvent.body).order_by(InboxEvent.id.desc()))
    assert raw is not None
    body: dict[str, object] = orjson.loads(raw)
    return body


def the_message(body: dict[str, object]) -> dict[str, object]:
    entry = body["entry"]
    assert isinstance(entry, list)
    found: dict[str, object] = entry[0]["changes"][0]["value"]["messages"][0]
    return found


def test_the_samples_are_real_mp4_and_ogg_opus_files() -> None:
    assert MP4[4:8] == b"ftyp" and b"avc1" in MP4 and b"mp4a" in MP4  # H.264 + AAC
    assert OGG.startswith(b"OggS") and b"OpusHead" in OGG
    assert len(MP4) < 50_000 and len(OGG) < 50_000
    assert SAMPLES["3"][:2] == ("video", "video/mp4")
    assert SAMPLES["4"][:2] == ("audio", "audio/ogg; codecs=opus")


async def test_a_video_and_a_voice_note_are_metas_webhooks_and_stored_as_such(
    client: httpx.AsyncClient, messaging: Messaging, admin_headers: dict[str, str], app: FastAPI
) -> None:
    t = await messaging.sandbox_tenant()
    sent = [
        ({"media_type": "video", "text": "The leak"}, "video", MP4),
        ({"media_type": "audio"}, "audio", OGG),
    ]
    for extra, kind, data in sent:
        body = {"phone_number": PHONE, "profile_name": "Vic", **extra}
        r = await client.post(admin_url(t, "/inbound"), json=body, headers=admin_headers)
        assert r.status_code == 202, r.text
        webhook = await queued_body(messaging)
        message = the_message(webhook)
        assert message["type"] == kind
        media = message[kind]
        assert isinstance(media, dict)
        validator = meta_schema.inbound_media_validator(kind)
        assert list(validator.iter_errors(media)) == []  # Meta's shape for it
        assert media["sha256"] == hashlib.sha256(data).hexdigest()
        # The sandbox serves the sample for that id, as Meta's GET /{media-id} and its URL.
        provider = SandboxProvider()
        info = await provider.media_info(ConnectionInfo("1", "1", ""), media["id"])
        assert info.mime_type == media["mime_type"] and info.file_size == len(data)
        assert await provider.download_media(ConnectionInfo("1", "1", ""), info.url, 10**6) == data
    # A voice note without "voice" is not Meta's (the check can fail).
    without_voice = {k: v for k, v in media.items() if k != "voice"}
    assert not meta_schema.inbound_media_validator("audio").is_valid(without_voice)
    assert the_message(webhook)["audio"] == {  # no caption
        "id": media["id"],
        "mime_type": "audio/ogg; codecs=opus",
        "sha256": hashlib.sha256(OGG).hexdigest(),
        "voice": True,
    }
    await app.state.worker.drain()
    stored = [(m.type, (m.payload or {}).get("media")) for m in await messaging.messages(t)]
    assert [kind for kind, _ in stored] == ["video", "audio"]
    video, audio = (media for _, media in stored)
    assert video is not None and audio is not None
    assert (video["mime_type"], video["caption"]) == ("video/mp4", "The leak")
    assert (audio["mime_type"], audio["caption"]) == ("audio/ogg; codecs=opus", None)


async def test_a_voice_note_has_no_caption_and_other_kinds_are_refused(
    client: httpx.AsyncClient, messaging: Messaging, admin_headers: dict[str, str]
) -> None:
    t = await messaging.sandbox_tenant()
    body = {"phone_number": PHONE, "media_type": "audio", "text": "Hello?"}
    r = await client.post(admin_url(t, "/inbound"), json=body, headers=admin_headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "text": ["A voice note has no caption: leave text out with media type audio."]
    }
    body = {"phone_number": PHONE, "media_type": "sticker"}
    r = await client.post(admin_url(t, "/inbound"), json=body, headers=admin_headers)
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"media_type"}


async def test_the_cli_simulates_a_video_and_a_voice_note(
    cli: Cli, messaging: Messaging, app: FastAPI
) -> None:
    t = await messaging.sandbox_tenant()
    sub = t.workspace.subdomain
    base = ["sandbox", "inbound", sub, "--phone-number", PHONE, "--wait", "0"]
    await asyncio.to_thread(cli.ok, *base, "--media-type", "video", "--text", "Look")
    await asyncio.to_thread(cli.ok, *base, "--media-type", "audio")
    refused = await asyncio.to_thread(cli, *base, "--media-type", "audio", "--text", "Hi")
    assert refused.exit_code != 0
    assert "A voice note has no caption" in refused.output
    await app.state.worker.drain()
    stored = [(m.type, m.text) for m in await messaging.messages(t)]
    assert [kind for kind, _ in stored] == ["video", "audio"]
