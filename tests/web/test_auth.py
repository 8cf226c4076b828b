"""Sign-in, sign-out, sessions, throttling, CSRF and security headers of the dashboard."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import PASSWORD
from tests.web.conftest import MakeClient, Team, field, field_errors, main_text, soup
from xobito.config import Settings
from xobito.jobs.maintenance import purge
from xobito.kit.time import utcnow
from xobito.models import User, UserSession
from xobito.web.auth import FAILED
from xobito.web.csrf import FAILED as CSRF_FAILED


async def test_login_page_has_labelled_fields_and_sets_no_session(browser: MakeClient) -> None:
    client = await browser()
    r = await client.get("/app/login")
    assert r.status_code == 200
    page = soup(r)
    assert field(page, "Email").get("type") == "email"
    assert field(page, "Password").get("type") == "password"
    assert page.find("button", string="Sign in")
    assert "xobito_session" not in r.cookies
    assert "xobito_anon" in r.cookies  # the CSRF secret of the pages before sign-in


async def test_sign_in_lands_on_the_workspace_and_sign_out_ends_the_session(
    browser: MakeClient, team: Team, session: AsyncSession
) -> None:
    client = await browser()
    r = await client.sign_in(team.owner.email)
    assert r.headers["location"] == "/app/"
    cookie = client.http.cookies["xobito_session"]
    r = await client.get("/app/")
    assert (r.status_code, r.headers["location"]) == (303, "/app/acme/contacts")

    r = await client.post("/app/logout")
    assert (r.status_code, r.headers["location"]) == (303, "/app/login")
    assert (await session.execute(select(UserSession))).scalars().all() == []
    # The old cookie, replayed, no longer opens anything.
    replay = await browser()
    replay.http.cookies.set("xobito_session", cookie, path="/app")
    r = await replay.get("/app/acme/contacts")
    assert r.status_code == 303
    assert r.headers["location"] == "/app/login?next=%2Fapp%2Facme%2Fcontacts"


async def test_unknown_email_and_wrong_password_get_the_same_answer(
    browser: MakeClient, team: Team
) -> None:
    client = await browser()
    await client.get("/app/login")
    wrong = await client.post("/app/login", {"email": team.owner.email, "password": "nope-nope"})
    unknown = await client.post(
        "/app/login", {"email": "who@acme.example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 422
    assert field_errors(soup(wrong), "Email") == field_errors(soup(unknown), "Email") == [FAILED]
    assert "xobito_session" not in client.http.cookies


async def test_missing_fields_are_named(browser: MakeClient) -> None:
    client = await browser()
    r = await client.post("/app/login", {"email": "", "password": ""})
    assert r.status_code == 422
    page = soup(r)
    assert field_errors(page, "Email") == ["The email field is required."]
    assert field_errors(page, "Password") == ["The password field is required."]


async def test_brute_force_is_throttled_per_account(browser: MakeClient, team: Team) -> None:
    client = await browser()
    await client.get("/app/login")
    statuses = []
    for _ in range(5):
        r = await client.post("/app/login", {"email": team.owner.email, "password": "guess-123"})
        statuses.append(r.status_code)
    assert statuses == [422, 422, 422, 422, 429]
    assert "Too many sign-in attempts. Try again in 15 minutes." in field_errors(soup(r), "Email")
    # Even the right password is refused now, without being checked.
    r = await client.post("/app/login", {"email": team.owner.email, "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert "xobito_session" not in client.http.cookies
    # Another account from the same browser is not locked out by this one.
    other = await client.post("/app/login", {"email": team.admin.email, "password": PASSWORD})
    assert other.status_code == 303


async def test_the_last_attempt_is_announced(browser: MakeClient, team: Team) -> None:
    client = await browser()
    await client.get("/app/login")
    for _ in range(3):
        await client.post("/app/login", {"email": team.agent.email, "password": "guess-123"})
    r = await client.post("/app/login", {"email": team.agent.email, "password": "guess-123"})
    assert field_errors(soup(r), "Email") == [
        FAILED,
        "One attempt left before sign-in is paused for 15 minutes.",
    ]


async def test_a_successful_sign_in_clears_the_account_count(
    browser: MakeClient, team: Team
) -> None:
    client = await browser()
    await client.get("/app/login")
    for _ in range(4):
        await client.post("/app/login", {"email": team.agent.email, "password": "guess-123"})
    await client.sign_in(team.agent.email)
    again = await browser()
    await again.get("/app/login")
    r = await again.post("/app/login", {"email": team.agent.email, "password": "guess-123"})
    assert r.status_code == 422  # a fresh window: five more tries


async def test_expired_sessions_redirect_to_sign_in(
    browser: MakeClient, team: Team, session: AsyncSession
) -> None:
    idle = await browser()
    await idle.sign_in(team.owner.email)
    absolute = await browser()
    await absolute.sign_in(team.admin.email)
    rows = (await session.execute(select(UserSession).order_by(UserSession.id))).scalars().all()
    long_ago = utcnow() - timedelta(hours=9)  # idle limit: 8 h
    await session.execute(
        update(UserSession).where(UserSession.id == rows[0].id).values(last_seen_at=long_ago)
    )
    await session.execute(
        update(UserSession)
        .where(UserSession.id == rows[1].id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()
    for client in (idle, absolute):
        r = await client.get("/app/acme/contacts")
        assert r.status_code == 303
        assert r.headers["location"].startswith("/app/login?next=")
    # The worker's maintenance deletes them.
    settings = Settings(password_hashing="fast", _env_file=None)  # type: ignore[call-arg]
    assert (await purge(session, settings, utcnow()))["user_sessions"] == 2
    await session.commit()
    assert (await session.execute(select(UserSession))).scalars().all() == []


async def test_htmx_requests_without_a_session_are_sent_to_sign_in(browser: MakeClient) -> None:
    client = await browser()
    r = await client.get("/app/acme/contacts", htmx=True)
    assert r.status_code == 401
    assert r.headers["HX-Redirect"].startswith("/app/login")


async def test_next_only_leads_inside_the_dashboard(browser: MakeClient, team: Team) -> None:
    for target, expected in (
        ("/app/account", "/app/account"),
        ("https://evil.example/app/", "/app/"),
        ("//evil.example/app/", "/app/"),
        ("/api/v1/acme/contacts", "/app/"),
    ):
        client = await browser()
        await client.get("/app/login")
        r = await client.post(
            "/app/login", {"email": team.owner.email, "password": PASSWORD, "next": target}
        )
        assert r.headers["location"] == expected, target


async def test_csrf_missing_or_wrong_is_403_and_changes_nothing(
    browser: MakeClient, team: Team, session: AsyncSession
) -> None:
    client = await browser()
    await client.sign_in(team.owner.email)
    for data, headers in (
        ({"name": "Mallory"}, {}),
        ({"name": "Mallory", "csrf_token": "0" * 64}, {}),
        ({"name": "Mallory", "csrf_token": client.csrf}, {"Sec-Fetch-Site": "cross-site"}),
        ({"name": "Mallory", "csrf_token": client.csrf}, {"Sec-Fetch-Site": "same-site"}),
    ):
        r = await client.post("/app/account/profile", data, csrf=False, headers=headers)
        assert r.status_code == 403, (data, headers)
        assert CSRF_FAILED in main_text(soup(r))
    r = await client.http.post(
        "/app/account/profile",
        data={"name": "Mallory", "csrf_token": client.csrf or ""},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert (await session.get(User, team.owner.id)).name == "Olivia Owner"  # type: ignore[union-attr]
    # The real form, from the page, works.
    r = await client.post("/app/account/profile", {"name": "Olivia O."})
    assert r.status_code == 303
    await session.rollback()
    assert (await session.get(User, team.owner.id)).name == "Olivia O."  # type: ignore[union-attr]


async def test_csrf_failure_for_htmx_is_a_toast(browser: MakeClient, team: Team) -> None:
    client = await browser()
    await client.sign_in(team.owner.email)
    r = await client.http.post(
        "/app/account/profile",
        data={"name": "x"},
        headers={"HX-Request": "true", "X-CSRF-Token": "wrong"},
    )
    assert r.status_code == 403
    assert r.headers["HX-Retarget"] == "#toasts"
    assert CSRF_FAILED in r.text
    assert "<html" not in r.text


async def test_the_csrf_token_rotates_at_sign_in(browser: MakeClient, team: Team) -> None:
    client = await browser()
    await client.get("/app/login")
    before = client.csrf
    await client.sign_in(team.owner.email)
    assert client.csrf and client.csrf != before
    # The pre-sign-in token no longer posts as the signed-in user.
    r = await client.post("/app/account/profile", {"name": "x", "csrf_token": before}, csrf=False)
    assert r.status_code in (303, 403)  # the anonymous cookie still matches its own token
    # ...but it cannot be used from another browser, whose cookies differ.
    other = await browser()
    await other.sign_in(team.admin.email)
    r = await other.post("/app/account/profile", {"name": "x", "csrf_token": before}, csrf=False)
    assert r.status_code == 403


async def test_security_headers_on_pages_redirects_and_errors(
    browser: MakeClient, team: Team
) -> None:
    client = await browser()
    for r in (
        await client.get("/app/login"),
        await client.get("/app/acme/contacts"),  # redirect
        await client.get("/app/no/such/page"),
    ):
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert r.headers["Cache-Control"] == "no-store"
    page = await (await browser()).get("/app/login")
    assert "<script>" not in page.text  # every script is a file (CSP)
    assert page.cookies.get("xobito_anon")
    header = page.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/app" in header


async def test_pages_are_html_and_the_api_stays_json(browser: MakeClient) -> None:
    client = await browser()
    page = await client.get("/app/definitely-not-here/at-all")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    api = await client.http.get("/api/v1/acme/nowhere")
    assert api.headers["content-type"].startswith("application/json")
    assert api.json() == {"status": "error", "message": "Not found"}
