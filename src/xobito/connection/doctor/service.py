"""Running every check of a workspace's WhatsApp connection ("Check connection")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.config import Settings
from xobito.connection.doctor import graph, local
from xobito.connection.doctor.report import Check, DoctorReport
from xobito.connection.doctor.repository import DoctorRepository
from xobito.connection.repository import ConnectionRepository
from xobito.kit.time import utcnow
from xobito.models import WhatsAppConnection, Workspace
from xobito.whatsapp.base import ConnectionInfo, ConnectionInspector

DAY = timedelta(hours=24)
MONTH = timedelta(days=30)  # as long as webhook traffic is kept
GRAPH_CHECKS = {
    "access_token": "Access token",
    "phone_numbers": "Phone numbers in the WABA",
    "webhook_subscription": "Webhook subscription",
    "quality_rating": "Quality rating",
    "messaging_tier": "Messaging limit",
}
ORDER = (
    "connection",
    "credentials",
    "access_token",
    "phone_numbers",
    "webhook_subscription",
    "webhook_signatures",
    "inbound_webhooks",
    "templates",
    "quality_rating",
    "messaging_tier",
)


async def diagnose(
    session: AsyncSession,
    workspace: Workspace,
    providers: Mapping[str, object],
    settings: Settings,
    *,
    now: datetime | None = None,
) -> DoctorReport:
    """Every check of the workspace's connection, in a fixed order. Our own records are
    read first, then Meta is asked (``providers[conn.provider]`` must be a
    ``ConnectionInspector`` for that); the report's ``status`` is its worst check's."""
    now = now or utcnow()
    conn = await ConnectionRepository(session).for_workspace(workspace.id)
    sub = workspace.subdomain
    checks = [local.connection_check(conn, sub)]
    if conn is not None:
        repo = DoctorRepository(session, workspace.id)
        day, month = await repo.traffic(now - DAY), await repo.traffic(now - MONTH)
        sent_today = await repo.sent_since(now - DAY)
        total, approved = await repo.templates()
        checks += [
            local.credentials_check(conn, bool(settings.meta_app_secret), sub),
            local.signatures_check(conn.provider, day),
            local.inbound_check(conn.provider, day, month, sent_today),
            local.templates_check(conn.templates_synced_at, total, approved, sub),
        ]
        checks += await _graph_checks(conn, providers.get(conn.provider), sub)
    checks.sort(key=lambda c: ORDER.index(c.id))
    return DoctorReport(workspace.id, sub, conn.provider if conn else None, now, tuple(checks))


async def _graph_checks(conn: WhatsAppConnection, provider: object, subdomain: str) -> list[Check]:
    primary = conn.primary_phone_number_id or ""
    if conn.provider == "sandbox":
        return _sandbox(primary)
    if not conn.access_token or not conn.waba_id or not primary:
        return _skipped("Skipped: the connection has no access token.")
    if not isinstance(provider, ConnectionInspector):
        return _skipped(f"Skipped: the {conn.provider} provider cannot be inspected.")
    info = ConnectionInfo(primary, conn.waba_id, conn.access_token)
    facts = await graph.gather_facts(provider, info)
    return [
        graph.access_token_check(facts, subdomain),
        graph.numbers_check(facts, list(conn.phone_number_ids), conn.waba_id),
        graph.subscription_check(facts, conn.waba_id, conn.app_id),
        graph.quality_check(facts, primary),
        graph.tier_check(facts, primary),
    ]


def _skipped(why: str) -> list[Check]:
    return [Check(i, "skipped", title, why) for i, title in GRAPH_CHECKS.items()]


def _sandbox(number: str) -> list[Check]:
    """What the sandbox can truthfully say: its number is its own; Meta's ratings and
    limits do not exist for it."""
    no_meta = "The sandbox does not talk to Meta"
    return [
        Check("access_token", "skipped", "Access token", f"{no_meta}: no token is used."),
        Check(
            "phone_numbers",
            "ok",
            "Sandbox number",
            f"The sandbox number {number} belongs to this workspace.",
            facts={"phone_number_ids": [number]},
        ),
        Check(
            "webhook_subscription",
            "skipped",
            "Webhook subscription",
            f"{no_meta}: its webhooks are simulated inside Xobito.",
        ),
        Check(
            "quality_rating",
            "skipped",
            "Quality rating",
            f"{no_meta}: only Meta rates real numbers.",
        ),
        Check(
            "messaging_tier",
            "skipped",
            "Messaging limit",
            f"{no_meta}: the sandbox has no messaging limit.",
        ),
    ]
