"""A customer's media in the inbox, in Chromium against a real server: the sandbox customer's
photo is displayed (fetched through the server's media proxy), a document is a download."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.web.browser.conftest import Contexts, axe_violations, expect, sign_in
from tests.web.browser.test_inbox import ANN, Customer
from tests.web.conftest import Team


async def test_an_image_from_the_customer_is_displayed(
    people: Contexts,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    for kind, caption in (("image", "The parcel arrived broken"), ("document", "My receipt")):
        r = await client.post(
            "/api/admin/workspaces/acme/sandbox/inbound",
            json={"phone_number": ANN, "media_type": kind, "text": caption,
                  "profile_name": "Ann Able"},
            headers=admin_headers,
        )  # fmt: skip
        assert r.status_code == 202, r.text
    await app.state.worker.drain()
    chat_id = await Customer(app, client, admin_headers).chat_id(team.a.workspace.id)
    page = await people.new(bypass_csp=True)  # axe is injected as a script
    await sign_in(page, team.agent.email)
    await page.goto(f"/app/acme/inbox/{chat_id}")
    image = page.get_by_role("img", name="The parcel arrived broken")
    await expect(image).to_be_visible()
    # Decoded by the browser: the bytes came through the proxy, not a broken-image icon.
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.bubble-inbound img')].some(i => i.complete)"
    )
    assert await image.evaluate("i => i.naturalWidth") == 32
    assert "/media/" in (await image.get_attribute("src") or "")
    assert await axe_violations(page) == []
    link = page.get_by_role("link", name="Download sample.pdf")
    await expect(link).to_be_visible()
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    assert download.suggested_filename == "sample.pdf"
    assert (await download.path()).read_bytes().startswith(b"%PDF-")


async def test_a_video_and_a_voice_note_from_the_customer_play(
    people: Contexts,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    for kind, extra in (("video", {"text": "The leak"}), ("audio", {})):
        r = await client.post(
            "/api/admin/workspaces/acme/sandbox/inbound",
            json={"phone_number": ANN, "media_type": kind, "profile_name": "Ann Able", **extra},
            headers=admin_headers,
        )
        assert r.status_code == 202, r.text
    await app.state.worker.drain()
    chat_id = await Customer(app, client, admin_headers).chat_id(team.a.workspace.id)
    page = await people.new(bypass_csp=True)  # axe is injected as a script
    await sign_in(page, team.agent.email)
    await page.goto(f"/app/acme/inbox/{chat_id}")
    for selector, mime in (("video", "video/mp4"), ("audio", "audio/ogg")):
        element = page.locator(f".bubble-inbound {selector}[controls]")
        await expect(element).to_be_visible()
        # The browser decoded the file's metadata (HAVE_METADATA, a 2-second duration): the
        # proxy gave it playable bytes, not an error page (which leaves ``error`` set).
        await element.evaluate(
            """m => m.readyState >= 1 || new Promise((ok, fail) => {
                 m.addEventListener('loadedmetadata', ok, {once: true});
                 m.addEventListener('error', () => fail(new Error('media error ' + m.error.code)),
                                    {once: true});
                 if (m.error) fail(new Error('media error ' + m.error.code));
               })"""
        )
        assert abs(await element.evaluate("m => m.duration") - 2.0) < 0.2
        assert await element.evaluate("m => m.error") is None
        src = await element.get_attribute("src")
        assert src is not None and "/media/" in src
        proxied = await page.request.get(src)
        assert proxied.status == 200 and proxied.headers["content-type"] == mime
    video = page.locator(".bubble-inbound video")
    assert await video.evaluate("v => v.videoWidth") == 96
    await expect(page.get_by_label("The leak")).to_be_visible()
    await expect(page.get_by_label("Audio from Ann Able")).to_be_visible()
    assert await axe_violations(page) == []
