"""``/docs`` and ``/redoc``: served from the package's own files, so they work offline."""

from __future__ import annotations

import re
import shutil
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Request, Route, async_playwright

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.health.test_router import metric
from tests.servers import running_server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_pages_load_only_files_of_this_server(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in r.text
    assert "http://" not in r.text and "https://" not in r.text  # no CDN, no web fonts
    assert r.headers["content-security-policy"].startswith("default-src 'self';")
    urls = asset_urls(r.text)
    assert len(urls) == (3 if page == "/docs" else 2)  # bundle (+ css) + favicon
    for url in urls:
        assert re.fullmatch(r"/static/vendor/[\w./-]+\?v=[0-9a-f]{12}", url), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert len(asset.content) > 500


async def test_a_stale_or_missing_version_must_revalidate(client: httpx.AsyncClient) -> None:
    path = "/static/vendor/swagger-ui/swagger-ui.css"
    assert (await client.get(path)).headers["cache-control"] == "no-cache"
    assert (await client.get(f"{path}?v=000000000000")).headers["cache-control"] == "no-cache"
    missing = await client.get("/static/vendor/nothing.js")
    assert missing.status_code == 404
    assert missing.json() == {"status": "error", "message": "Not found"}
    assert (await client.get("/static/../config.py")).status_code == 404


async def test_metrics_label_documentation_routes_by_path(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    docs = await client.get("/docs")
    for path in ("/redoc", "/openapi.json", *asset_urls(docs.text)):
        assert (await client.get(path)).status_code == 200
    after = (await client.get("/metrics")).text
    name = "xobito_http_requests_total"
    for route, count in (("/docs", 1), ("/redoc", 1), ("/openapi.json", 1), ("/static/{path}", 3)):
        labels = {"method": "GET", "route": route, "status": "200"}
        assert metric(after, name, **labels) - metric(before, name, **labels) == count, route
    assert metric(after, name, method="GET", route="unmatched", status="200") == metric(
        before, name, method="GET", route="unmatched", status="200"
    )


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
async def test_both_pages_render_in_a_browser_with_no_internet(backend: Backend) -> None:
    """Every request that does not go to the server itself is refused, as on a closed network;
    both pages must still render the API."""
    with running_server(backend, ADMIN_KEY) as server:
        origin = urlsplit(server.url).netloc
        refused: list[str] = []
        failed: list[tuple[str, str | None]] = []

        async def only_this_server(route: Route, request: Request) -> None:
            if urlsplit(request.url).netloc == origin:
                await route.continue_()
            else:
                refused.append(request.url)
                await route.abort()

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page()
                await page.route("**/*", only_this_server)
                page.on(
                    "requestfailed", lambda request: failed.append((request.url, request.failure))
                )

                await page.goto(f"{server.url}/docs")
                await page.get_by_role("heading", name=re.compile("^Xobito")).wait_for()
                send = page.locator('[id^="operations-messages-messages_template"]')
                await send.wait_for()
                await send.locator("button.opblock-summary-control").click()
                await page.get_by_text("header_field_1").first.wait_for()
                assert await page.locator(".opblock").count() > 40

                await page.goto(f"{server.url}/redoc")
                await page.get_by_role("heading", name=re.compile("^Xobito")).wait_for()
                await page.get_by_text("/api/v1/{subdomain}/messages/template").first.wait_for()
            finally:
                await browser.close()
    assert refused == []  # nothing went past the server...
    # ...and all the browser did not load is what the pages' policy kept it from asking for
    # (ReDoc's credit image, which it then hides).
    assert {failure for _, failure in failed} <= {"csp"}, failed
