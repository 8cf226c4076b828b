"""Dashboard fixtures: a browser-like HTTP client (cookies, the page's CSRF token) on the ASGI
app, a team (owner, admin, agent in workspace A; an owner of workspace B), and HTML helpers
that find things the way a person does: by label, by role, by text.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from bs4 import BeautifulSoup, Tag
from fastapi import FastAPI

from tests.factories import PASSWORD, Factory, Tenant
from xobito.models import User

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


class WebClient:
    """One browser: its own cookie jar; posts carry the CSRF token of the last page seen."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf: str | None = None

    def _remember(self, response: httpx.Response) -> httpx.Response:
        found = (
            META_CSRF.search(response.text)
            if "text/html" in response.headers.get("content-type", "")
            else None
        )
        if found:
            self.csrf = found.group(1)
        return response

    async def get(self, path: str, *, htmx: bool = False, **kwargs: Any) -> httpx.Response:
        headers = {"HX-Request": "true"} if htmx else {}
        headers |= kwargs.pop("headers", {})
        return self._remember(await self.http.get(path, headers=headers, **kwargs))

    async def post(
        self,
        path: str,
        data: dict[str, Any] | list[tuple[str, str]] | None = None,
        *,
        csrf: bool = True,
        htmx: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """A form post as the page would send it (urlencoded; ``files=`` for multipart)."""
        if csrf and self.csrf is None:
            await self.get("/app/login")
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        pairs: list[tuple[str, Any]] = []
        for key, value in items:
            if isinstance(value, list | tuple):
                pairs.extend((key, v) for v in value)
            elif value is not None:
                pairs.append((key, value))
        headers = {"Sec-Fetch-Site": "same-origin"}
        if htmx:
            headers |= {"HX-Request": "true", "X-CSRF-Token": self.csrf or ""}
        elif csrf:
            pairs.append(("csrf_token", self.csrf or ""))
        headers |= kwargs.pop("headers", {})
        if "files" in kwargs:  # multipart: httpx wants a mapping of field -> value(s)
            fields: dict[str, list[str]] = {}
            for key, value in pairs:
                fields.setdefault(key, []).append(value)
            response = await self.http.post(path, data=fields, headers=headers, **kwargs)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            response = await self.http.post(
                path, content=urlencode(pairs), headers=headers, **kwargs
            )
        return self._remember(response)

    async def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/app/login")
        response = await self.post("/app/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        await self.get(response.headers["location"], follow_redirects=True)  # the page's token
        return response


MakeClient = Callable[[], Awaitable[WebClient]]


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[MakeClient]:
    """``await browser()``: a new, signed-out browser (separate cookies)."""
    opened: list[httpx.AsyncClient] = []

    async def make() -> WebClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(http)
        return WebClient(http)

    yield make
    for http in opened:
        await http.aclose()


@dataclass
class Team:
    a: Tenant
    b: Tenant
    owner: User
    admin: User
    agent: User
    b_owner: User

    def user(self, role: str) -> User:
        return {"owner": self.owner, "admin": self.admin, "agent": self.agent}[role]


@pytest.fixture
async def team(factory: Factory) -> Team:
    a = await factory.tenant("acme", name="Acme Inc.")
    b = await factory.tenant("globex", name="Globex")
    return Team(
        a,
        b,
        await factory.user(a.workspace, "owner", "owner@acme.example.com", name="Olivia Owner"),
        await factory.user(a.workspace, "admin", "admin@acme.example.com", name="Adam Admin"),
        await factory.user(a.workspace, "agent", "agent@acme.example.com", name="Agnes Agent"),
        await factory.user(b.workspace, "owner", "owner@globex.example.com", name="Gina Globex"),
    )


@pytest.fixture
async def signed_in(browser: MakeClient, team: Team) -> Callable[[str], Awaitable[WebClient]]:
    """``await signed_in("admin")``: a browser signed in as that member of workspace A."""

    async def make(role: str) -> WebClient:
        client = await browser()
        await client.sign_in(team.user(role).email)
        return client

    return make


# -- reading pages like a person ----------------------------------------------------------------


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def field(page: BeautifulSoup, label: str) -> Tag:
    """The form control whose label reads ``label``."""
    for tag in page.find_all("label"):
        if tag.get_text(" ", strip=True).rstrip(" *") == label:
            control = (
                page.find(id=tag.get("for"))
                if tag.get("for")
                else tag.find(["input", "select", "textarea"])
            )
            assert isinstance(control, Tag), f"label {label!r} has no control"
            return control
    raise AssertionError(f"no field labelled {label!r}")


def field_errors(page: BeautifulSoup, label: str) -> list[str]:
    """The messages shown beside a field (what its aria-describedby points at)."""
    control = field(page, label)
    if control.get("aria-invalid") != "true":
        return []
    described = page.find(id=str(control.get("aria-describedby")))
    assert isinstance(described, Tag)
    return [p.get_text(strip=True) for p in described.find_all("p")]


def texts(page: BeautifulSoup, selector: str) -> list[str]:
    return [t.get_text(" ", strip=True) for t in page.select(selector)]


def main_text(page: BeautifulSoup) -> str:
    main = page.find(id="main")
    assert isinstance(main, Tag)
    return main.get_text(" ", strip=True)
