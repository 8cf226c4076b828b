"""Every dashboard route by every persona, from the app's own route table.

A route without an entry in ``EXPECT`` fails the test: whoever adds a page says here who may
use it and how to make the records its path names. For each workspace route:

* signed out → sent to sign-in;
* owner / admin / agent of workspace A → allowed from the route's role up, else 403 naming
  the role;
* a member of another workspace only, at A's address → 404 (not theirs to know about);
* A's owner with workspace B's record ids in A's address → 404;
* every POST without, or with a wrong, CSRF token → 403, and nothing in the database changed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory, Tenant
from tests.web.conftest import MakeClient, Team, WebClient
from tests.web.routes import web_routes
from xobito.account.invitations import InvitationService
from xobito.account.schemas import rank
from xobito.campaign.service import CampaignService
from xobito.chat.canned import CannedReplyService
from xobito.contact.uploads import ImportService
from xobito.models import (
    ActivityEntry,
    ApiToken,
    Campaign,
    Contact,
    ContactImport,
    Group,
    Job,
    Membership,
    Message,
    Source,
    Status,
    Template,
    User,
    UserSession,
    WebhookEndpoint,
)
from xobito.template.schemas import from_meta
from xobito.testing.meta_templates import make_template
from xobito.webhook.forward_service import ForwardService
from xobito.webhook.service import WebhookService

Params = dict[str, Any]
Maker = Callable[["World", Tenant], Awaitable[Params]]


@dataclass
class World:
    app: FastAPI
    factory: Factory
    client: httpx.AsyncClient
    admin: dict[str, str]
    n: int = 0

    def next(self) -> int:
        self.n += 1
        return self.n


async def contact(w: World, t: Tenant) -> Params:
    record = await w.factory.contact(t, phone=f"+1415556{w.next():04d}")
    return {"contact_id": record["id"]}


def label(kind: str) -> Maker:
    async def make(w: World, t: Tenant) -> Params:
        name = f"{kind} {w.next()}"
        made = await getattr(w.factory, kind)(t, name)
        return {"record_id": made.id}

    return make


async def template(w: World, t: Tenant) -> Params:
    values = from_meta(make_template(f"tpl_{w.next()}"))
    async with w.app.state.sessionmaker() as s:
        row = Template(workspace_id=t.workspace.id, **values)
        s.add(row)
        await s.commit()
        return {"template_id": row.id}


async def api_token(w: World, t: Tenant) -> Params:
    _, token_id = await w.factory.token(t.workspace)
    return {"token_id": token_id}


def webhook(service: type[WebhookService], with_event: bool = False) -> Maker:
    """An endpoint; ``with_event``: and a test event sent to it (``event_id``, a form field)."""

    async def make(w: World, t: Tenant) -> Params:
        async with w.app.state.sessionmaker() as s:
            svc = service(s, t.workspace.id, w.app.state.settings)
            endpoint, _ = await svc.create({"url": f"http://127.0.0.1:9/h{w.next()}"})
            made: Params = {"endpoint_id": endpoint.id}
            if with_event:
                made["event_id"] = await svc.test(endpoint.id)
            await s.commit()
            return made

    return make


async def chat(w: World, t: Tenant, **extra: Any) -> Params:
    """A customer writes to the workspace: a conversation with one inbound message."""
    phone = f"+1415557{w.next():04d}"
    r = await w.client.post(
        f"/api/admin/workspaces/{t.workspace.subdomain}/sandbox/inbound",
        json={"phone_number": phone, "text": "Hello", "profile_name": "Customer", **extra},
        headers=w.admin,
    )
    assert r.status_code == 202, r.text
    await w.app.state.worker.drain()
    async with w.app.state.sessionmaker() as s:
        row = (
            await s.execute(
                select(Message.chat_id, Message.id)
                .where(Message.workspace_id == t.workspace.id)
                .order_by(Message.id.desc())
                .limit(1)
            )
        ).one()
    return {"chat_id": row.chat_id, "message_id": row.id}


async def photo(w: World, t: Tenant) -> Params:
    """A customer's photo (the sandbox serves it)."""
    return {"message_id": (await chat(w, t, media_type="image"))["message_id"]}


async def canned_reply(w: World, t: Tenant) -> Params:
    async with w.app.state.sessionmaker() as s:
        reply = await CannedReplyService(s, t.workspace.id).create(
            {"shortcut": f"reply{w.next()}", "body": "Thanks!"}
        )
        await s.commit()
        return {"reply_id": reply.id}


async def membership(w: World, t: Tenant) -> Params:
    user = await w.factory.user(t.workspace, "agent", f"member{w.next()}@example.com")
    async with w.app.state.sessionmaker() as s:
        found = await s.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id, Membership.workspace_id == t.workspace.id
            )
        )
        return {"membership_id": found}


async def invitation(w: World, t: Tenant) -> Params:
    async with w.app.state.sessionmaker() as s:
        invite, _ = await InvitationService(s, w.app.state.settings).create(
            t.workspace.id,
            {"email": f"invitee{w.next()}@example.com", "role": "agent"},
            actor_role="owner",
            invited_by=None,
        )
        await s.commit()
        return {"invitation_id": invite.id}


async def campaign(w: World, t: Tenant) -> Params:
    """A campaign scheduled far ahead (its template made for it), to every contact."""
    n = w.next()
    async with w.app.state.sessionmaker() as s:
        s.add(Template(workspace_id=t.workspace.id, **from_meta(make_template(f"camp_{n}"))))
        await s.flush()
        made = await CampaignService(s, t.info).create({
            "name": f"Campaign {n}", "template_name": f"camp_{n}", "template_language": "en_US",
            "variables": {"field_1": "Jane", "field_2": "#1"}, "audience": {"all": True},
            "scheduled_at": "2099-01-01T00:00:00Z",
        })
        await s.commit()
        return {"campaign_id": made.id}


async def contact_import(w: World, t: Tenant) -> Params:
    async with w.app.state.sessionmaker() as s:
        file = io.BytesIO(b"firstname,phone\nAnn,+14155550101\n")
        imp = await ImportService(s, t.info).upload("a.csv", file, None)
        await s.commit()
        return {"import_id": imp.id}


@dataclass(frozen=True)
class Expect:
    """``role``: the lowest workspace role allowed; ``"user"``: any signed-in user (no
    workspace in the path); ``"public"``: no session needed. ``params``: makes the records
    the path names, in a given workspace."""

    role: str
    params: Maker | None = None
    # An endless response (an event stream): only the refusals are checked, since an ASGI
    # test transport buffers a whole response (the streams have their own tests).
    stream: bool = False


EXPECT: dict[str, Expect] = {
    # signing in and out, invitations, password resets
    "web.login": Expect("public"),
    "web.login.submit": Expect("public"),
    "web.logout": Expect("public"),
    "web.invitation": Expect("public"),
    "web.invitation.accept": Expect("public"),
    "web.reset": Expect("public"),
    "web.reset.submit": Expect("public"),
    # the signed-in user's own pages
    "web.home": Expect("user"),
    "web.account": Expect("user"),
    "web.account.profile": Expect("user"),
    "web.account.password": Expect("user"),
    "web.workspace": Expect("agent"),
    # contacts
    "web.contacts": Expect("agent"),
    "web.contacts.new": Expect("admin"),
    "web.contacts.create": Expect("admin"),
    "web.contacts.bulk": Expect("agent"),
    "web.contacts.edit": Expect("agent", contact),
    "web.contacts.update": Expect("agent", contact),
    "web.contacts.delete": Expect("admin", contact),
    "web.contacts.import": Expect("admin"),
    "web.contacts.import.upload": Expect("admin"),
    "web.contacts.import.show": Expect("admin", contact_import),
    "web.contacts.import.preview": Expect("admin", contact_import),
    "web.contacts.import.start": Expect("admin", contact_import),
    "web.contacts.import.errors": Expect("admin", contact_import),
    "web.contacts.export": Expect("admin"),
    # templates
    "web.templates": Expect("agent"),
    "web.templates.sync": Expect("admin"),
    "web.templates.show": Expect("agent", template),
    # campaigns
    "web.campaigns": Expect("agent"),
    "web.campaigns.new": Expect("admin"),
    "web.campaigns.preview": Expect("admin"),
    "web.campaigns.create": Expect("admin"),
    "web.campaigns.show": Expect("agent", campaign),
    "web.campaigns.report": Expect("admin", campaign),
    **{
        f"web.campaigns.{action}": Expect("admin", campaign)
        for action in ("start", "pause", "resume", "cancel", "retry_failed")
    },
    # settings
    "web.tokens": Expect("admin"),
    "web.tokens.create": Expect("admin"),
    "web.tokens.revoke": Expect("admin", api_token),
    "web.activity": Expect("admin"),
    "web.team": Expect("admin"),
    "web.team.invite": Expect("admin"),
    "web.team.revoke": Expect("admin", invitation),
    "web.team.role": Expect("admin", membership),
    "web.team.remove": Expect("admin", membership),
    "web.team.reset": Expect("admin", membership),
    "web.whatsapp": Expect("admin"),
    "web.whatsapp.check": Expect("admin"),
    "web.whatsapp.connect": Expect("admin"),
    # the inbox and its live events
    "web.events": Expect("agent", stream=True),
    "web.inbox": Expect("agent"),
    "web.inbox.list": Expect("agent"),
    "web.inbox.chat": Expect("agent", chat),
    "web.inbox.messages": Expect("agent", chat),
    "web.inbox.header": Expect("agent", chat),
    "web.inbox.composer": Expect("agent", chat),
    "web.inbox.timeline": Expect("agent", chat),
    "web.inbox.template_preview": Expect("agent", chat),
    "web.inbox.send": Expect("agent", chat),
    "web.inbox.retry": Expect("agent", chat),
    "web.inbox.assign": Expect("agent", chat),
    "web.inbox.resolve": Expect("agent", chat),
    "web.inbox.reopen": Expect("agent", chat),
    "web.media": Expect("agent", photo),
    "web.inbox_settings": Expect("admin"),
    "web.inbox_settings.update": Expect("admin"),
    "web.canned.create": Expect("admin"),
    "web.canned.edit": Expect("admin", canned_reply),
    "web.canned.update": Expect("admin", canned_reply),
    "web.canned.delete": Expect("admin", canned_reply),
}
for _name, _service in (("webhooks", WebhookService), ("forwards", ForwardService)):
    EXPECT |= {
        f"web.{_name}": Expect("admin"),
        f"web.{_name}.create": Expect("admin"),
        **{
            f"web.{_name}.{action}": Expect("admin", webhook(_service))
            for action in ("show", "update", "rotate", "test", "delete")
        },
        f"web.{_name}.redeliver": Expect("admin", webhook(_service, with_event=True)),
    }
for _kind, _plural in (("status", "statuses"), ("source", "sources"), ("group", "groups")):
    EXPECT |= {
        f"web.{_plural}": Expect("agent"),
        f"web.{_plural}.new": Expect("admin"),
        f"web.{_plural}.create": Expect("admin"),
        f"web.{_plural}.edit": Expect("admin", label(_kind)),
        f"web.{_plural}.update": Expect("admin", label(_kind)),
        f"web.{_plural}.delete": Expect("admin", label(_kind)),
    }

ROLES = ("agent", "admin", "owner")
PARAM = re.compile(r"\{(\w+)\}")


def address(path: str, subdomain: str, params: Params) -> str:
    values = {"subdomain": subdomain, "secret": "not-a-real-secret", **params}
    missing = set(PARAM.findall(path)) - values.keys()
    assert not missing, f"{path}: no value for {sorted(missing)} (add a params maker)"
    return "/app" + PARAM.sub(lambda m: str(values[m.group(1)]), path)


async def call(
    client: WebClient, route: Any, method: str, params: Params, **kwargs: Any
) -> httpx.Response:
    """The route at workspace A's address with ``params`` in its path; the params its path
    does not name are the form's fields (a POST) or the query (a GET)."""
    url = address(route.path, "acme", params)
    extra = {k: str(v) for k, v in params.items() if "{" + k + "}" not in route.path}
    if method == "GET":
        return await client.get(url, params=extra, **kwargs)
    return await client.post(url, extra, **kwargs)


async def counts(session: AsyncSession) -> dict[str, int]:
    await session.rollback()
    out = {}
    for model in (
        Contact, Status, Source, Group, Template, ContactImport, Job, ActivityEntry, User,
        UserSession, ApiToken, WebhookEndpoint, Message, Campaign,
    ):  # fmt: skip
        out[model.__name__] = int(
            await session.scalar(select(func.count()).select_from(model)) or 0
        )
    return out


async def test_every_route_by_role_by_workspace_and_csrf(
    app: FastAPI,
    browser: MakeClient,
    team: Team,
    factory: Factory,
    session: AsyncSession,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    routes = [(r, m) for r in web_routes(app) for m in sorted(r.methods) if m != "HEAD"]
    unknown = sorted({r.name for r, _ in routes} - EXPECT.keys())
    assert not unknown, f"routes with no expectation in EXPECT: {unknown}"
    world = World(app, factory, client, admin_headers)
    people: dict[str, WebClient] = {}
    for role in ROLES:
        people[role] = await browser()
        await people[role].sign_in(team.user(role).email)
    outsider = await browser()
    await outsider.sign_in(team.b_owner.email)
    anonymous = await browser()
    await anonymous.get("/app/login")
    problems: list[str] = []
    shared: dict[tuple[Any, int], Params] = {}

    def check(ok: bool, route: Any, method: str, who: str, r: httpx.Response) -> None:
        if not ok:
            problems.append(f"{method} {route.path} ({route.name}) as {who}: {r.status_code}")

    for route, method in routes:
        expect = EXPECT[route.name]
        if expect.role == "public":
            r = await call(anonymous, route, method, {})
            check(r.status_code < 500, route, method, "anonymous", r)
            continue

        async def params(t: Tenant, expect: Expect = expect, method: str = method) -> Params:
            """Records for one request: fresh ones for a POST (it may delete them), shared
            ones for reading."""
            if expect.params is None:
                return {}
            key = (expect.params, t.workspace.id)
            if method != "GET" or key not in shared:
                made = await expect.params(world, t)
                if method != "GET":
                    return made
                shared[key] = made
            return shared[key]

        # Signed out: to sign-in, whatever the method.
        r = await call(anonymous, route, method, await params(team.a))
        check(
            r.status_code == 303 and r.headers["location"].startswith("/app/login"),
            route,
            method,
            "anonymous",
            r,
        )
        if expect.role == "user":
            for who, client in (*people.items(), ("outsider", outsider)):
                r = await call(client, route, method, {})
                check(r.status_code not in (401, 403, 404) and r.status_code < 500, route,
                      method, who, r)  # fmt: skip
            continue

        for role in ROLES:
            if expect.stream and rank(role) >= rank(expect.role):
                continue
            r = await call(people[role], route, method, await params(team.a))
            if rank(role) >= rank(expect.role):
                allowed = r.status_code not in (401, 403, 404) and r.status_code < 500
                check(allowed, route, method, role, r)
            else:
                needed = f"This page needs the {expect.role} role or higher."
                check(r.status_code == 403 and needed in r.text, route, method, role, r)
        # A member of workspace B only, at A's address.
        r = await call(outsider, route, method, await params(team.a))
        check(r.status_code == 404, route, method, "outsider", r)
        # A's owner, B's records.
        if expect.params is not None:
            theirs = await params(team.b)
            r = await call(people["owner"], route, method, theirs)
            check(r.status_code == 404, route, method, "owner with B's ids", r)
        # CSRF: missing or wrong token, nothing changes.
        if method == "POST":
            url = address(route.path, "acme", await params(team.a))
            before = await counts(session)
            owner = people["owner"]
            for body in ({}, {"csrf_token": "0" * 64}):
                r = await owner.post(url, body, csrf=False)
                check(r.status_code == 403, route, method, f"owner, CSRF {body or 'missing'}", r)
            r = await owner.post(url, {"csrf_token": owner.csrf}, csrf=False,
                                 headers={"Sec-Fetch-Site": "cross-site"})  # fmt: skip
            check(r.status_code == 403, route, method, "owner, cross-site", r)
            after = await counts(session)
            if after != before:
                problems.append(f"POST {route.path}: a refused CSRF changed {before} → {after}")
    assert not problems, "\n".join(problems)
