"""Browser tests: Debian's Chromium driven by Playwright (async API) against a real uvicorn
process serving the test database.

* ``live`` is one server process for the whole session (started when the first browser test
  needs it), without the in-process worker: background work a test needs (webhook
  deliveries) is run by the test itself, so the server never touches other tests' rows.
* Each test gets a fresh browser context (cookies), so two people are two contexts.
* Pages are found by accessible names (labels, roles); ``expect`` waits, nothing sleeps.
* Any uncaught script error or Content-Security-Policy violation fails the test.
* A failing test leaves a screenshot and a Playwright trace in ``var/test-artifacts/browser/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import expect as _expect

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.factories import PASSWORD
from tests.servers import Server, running_server
from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.fixtures import fake_graph_server

__all__ = ["fake_graph_server"]

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "browser"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
_expect.set_options(timeout=15_000)  # a loaded 2-core machine; expect returns as soon as true
expect = _expect


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def live(backend: Backend, fake_graph_server: FakeGraphServer) -> Iterator[Server]:
    env = {
        "XOBITO_AUTH_CACHE_SECONDS": "0",
        # Its cloud provider talks to the session's fake Graph API (the doctor's pages).
        "XOBITO_GRAPH_BASE_URL": fake_graph_server.base_url,
        "XOBITO_PASSWORD_HASHING": "fast",
        "XOBITO_SANDBOX_STATUS_DELAY_SECONDS": "0",
    }
    with running_server(backend, ADMIN_KEY, env) as server:
        yield server


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


@pytest.fixture(scope="session")
async def chromium(playwright: Playwright) -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed (scripts/test.sh installs it with apt-get)")
    browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    await browser.close()


class Contexts:
    """Browser contexts of one test; each a separate person (own cookies)."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.opened: list[BrowserContext] = []
        self.problems: list[str] = []

    async def new(self, viewport: dict[str, int] | None = None, **options: Any) -> Page:
        context = await self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport or DESKTOP,
            **options,  # type: ignore[arg-type]
        )
        await context.tracing.start(screenshots=True, snapshots=True)
        self.opened.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.problems.append(f"console: {message.text}")
                if "Content Security Policy" in message.text or "Refused to" in message.text
                else None
            ),
        )
        return page


@pytest.fixture
async def people(
    chromium: Browser, live: Server, request: pytest.FixtureRequest
) -> AsyncIterator[Contexts]:
    contexts = Contexts(chromium, live.url)
    yield contexts
    report = getattr(request.node, "report_call", None)
    failed = report is None or report.failed
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for i, context in enumerate(contexts.opened):
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for j, page in enumerate(context.pages):
                await page.screenshot(path=str(ARTIFACTS / f"{name}-{i}-{j}.png"), full_page=True)
            await context.tracing.stop(path=str(ARTIFACTS / f"{name}-{i}-trace.zip"))
        else:
            await context.tracing.stop()
        await context.close()
    if failed:
        print(f"browser artifacts in {ARTIFACTS}")
    assert not contexts.problems, contexts.problems


@pytest.fixture
async def page(people: Contexts) -> Page:
    """The one person of most tests."""
    return await people.new()


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.goto("/app/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings on the page (needs a context made with
    ``bypass_csp=True``: our CSP refuses injected scripts, as it should)."""
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
