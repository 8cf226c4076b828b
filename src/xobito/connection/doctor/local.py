"""The checks answered from our own records: the connection itself, its secrets, the
webhooks Meta sent us (accepted and rejected), and the templates."""

from __future__ import annotations

from datetime import datetime

from xobito.connection.doctor.report import Check
from xobito.inbound.repository import TrafficSummary
from xobito.kit.time import iso
from xobito.models import WhatsAppConnection

WEBHOOK_PATH = "/webhooks/whatsapp"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"


def connect_hint(subdomain: str) -> str:
    return (
        f"xobito whatsapp connect {subdomain} --provider cloud --waba-id ... "
        f"--phone-number-id ... (or PUT /api/admin/workspaces/{subdomain}/whatsapp)"
    )


def connection_check(conn: WhatsAppConnection | None, subdomain: str) -> Check:
    title = "WhatsApp connection"
    if conn is None:
        return Check(
            "connection",
            "error",
            "Not connected to WhatsApp",
            "This workspace has no WhatsApp connection, so it can neither send nor receive.",
            f"Connect it: {connect_hint(subdomain)}.",
        )
    numbers = list(conn.phone_number_ids)
    facts = {
        "provider": conn.provider,
        "waba_id": conn.waba_id,
        "phone_number_ids": numbers,
        "primary_phone_number_id": conn.primary_phone_number_id,
    }
    if conn.provider == "sandbox":
        return Check(
            "connection",
            "ok",
            "Sandbox provider",
            "Messages are simulated inside Xobito (number ending in 0000 fail, others go "
            "sent → delivered → read); no Meta account is involved, so the checks that ask "
            "Meta are skipped.",
            facts=facts,
        )
    count = len(numbers)
    return Check(
        "connection",
        "ok",
        title,
        f"Meta Cloud API, WABA {conn.waba_id}, {count} number{'s' if count != 1 else ''} "
        f"(primary {conn.primary_phone_number_id}).",
        facts=facts,
    )


def credentials_check(conn: WhatsAppConnection, app_level_secret: bool, subdomain: str) -> Check:
    title = "Access token and app secret"
    if conn.provider == "sandbox":
        return Check("credentials", "skipped", title, "The sandbox needs no Meta credentials.")
    missing = []
    if not conn.access_token:
        missing.append("access token")
    if not conn.app_secret and not app_level_secret:
        missing.append("app secret")
    if missing:
        what = " and ".join(missing)
        consequence = (
            "no message can be sent"
            if not conn.access_token
            else "every webhook from Meta is refused (its signature cannot be checked)"
        )
        return Check(
            "credentials",
            "error",
            f"No {what} stored",
            f"The connection has no {what}, so {consequence}.",
            f"Connect again with them: {connect_hint(subdomain)} (the token and secret from "
            "XOBITO_CONNECT_ACCESS_TOKEN / XOBITO_CONNECT_APP_SECRET).",
            {"missing": missing},
        )
    source = "the connection's" if conn.app_secret else "the server's XOBITO_META_APP_SECRET"
    return Check(
        "credentials",
        "ok",
        title,
        f"An access token is stored, and webhooks are verified with {source} app secret "
        "(secrets are never shown).",
    )


def signatures_check(provider: str, day: TrafficSummary) -> Check:
    title = "Webhook signatures"
    if provider == "sandbox":
        return Check(
            "webhook_signatures",
            "skipped",
            title,
            "Sandbox webhooks are simulated inside Xobito and need no signature.",
        )
    facts = {
        "rejected_24h": day.rejected,
        "accepted_24h": day.accepted,
        "last_rejected_at": iso(day.last_rejected_at),
    }
    if day.rejected == 0:
        return Check(
            "webhook_signatures",
            "ok",
            title,
            "No webhook for this connection's numbers failed the signature check in the "
            "last 24 hours.",
            facts=facts,
        )
    plural = "s" if day.rejected != 1 else ""
    fix = (
        "Copy the App Secret from the Meta App Dashboard (App settings → Basic) of the app "
        "subscribed to this WABA and connect again with it (XOBITO_CONNECT_APP_SECRET)."
    )
    if day.accepted == 0:
        return Check(
            "webhook_signatures",
            "error",
            "Webhooks fail the signature check: the app secret is wrong",
            f"{day.rejected} webhook{plural} from Meta for this connection's numbers were "
            f"refused with 401 in the last 24 hours (the last at {_when(day.last_rejected_at)}),"
            " and none was accepted: their X-Hub-Signature-256 does not match the app secret "
            "we have, so replies and delivery statuses are lost.",
            fix,
            facts,
        )
    return Check(
        "webhook_signatures",
        "warning",
        "Some webhooks failed the signature check",
        f"{day.rejected} webhook{plural} naming this connection's numbers were refused with "
        f"401 in the last 24 hours, while {day.accepted} were accepted. If you changed the app "
        "secret recently, the refused ones came before; otherwise a second Meta app, or "
        "someone else, is posting to this server's webhook URL.",
        f"If Meta's deliveries are among them: {fix}",
        facts,
    )


def inbound_check(
    provider: str, day: TrafficSummary, month: TrafficSummary, sent_today: bool
) -> Check:
    title = "Webhooks from Meta"
    if provider == "sandbox":
        return Check(
            "inbound_webhooks",
            "skipped",
            title,
            "The sandbox feeds its simulated webhooks to Xobito directly; Meta sends none.",
        )
    facts = {"accepted_24h": day.accepted, "last_accepted_at": iso(month.last_accepted_at)}
    if day.accepted:
        return Check(
            "inbound_webhooks",
            "ok",
            title,
            f"{day.accepted} webhook{'s' if day.accepted != 1 else ''} accepted in the last "
            f"24 hours (the last at {_when(day.last_accepted_at)}).",
            facts=facts,
        )
    last = (
        f"The last one came at {_when(month.last_accepted_at)}."
        if month.last_accepted_at is not None
        else "None was seen in the last 30 days."
    )
    fix = (
        f"In the App Dashboard → WhatsApp → Configuration, set the callback URL to "
        f"https://<this server>{WEBHOOK_PATH} with your verify token, subscribe to the "
        "messages field, and make sure the app is subscribed to the WABA."
    )
    if sent_today:
        return Check(
            "inbound_webhooks",
            "error",
            "No webhook from Meta in 24 hours, though messages were sent",
            "Messages were sent in the last 24 hours but no delivery status or reply came "
            f"back: Meta's webhooks are not reaching this server. {last}",
            fix,
            facts,
        )
    return Check(
        "inbound_webhooks",
        "warning",
        "No webhook from Meta in 24 hours",
        f"Meta sent no webhook for this connection in the last 24 hours. That is normal "
        f"for a quiet number; otherwise they are not reaching this server. {last}",
        fix,
        facts,
    )


def templates_check(synced_at: datetime | None, total: int, approved: int, subdomain: str) -> Check:
    title = "Message templates"
    sync = (
        f"xobito template sync {subdomain} (or POST /api/admin/workspaces/{subdomain}/"
        "templates/sync)"
    )
    facts = {"templates": total, "approved": approved, "synced_at": iso(synced_at)}
    if synced_at is None:
        return Check(
            "templates",
            "warning",
            "Templates were never synced",
            "Xobito does not know this account's templates yet, so template messages (the "
            "only ones allowed outside the 24-hour customer care window) are refused.",
            f"Sync them: {sync}.",
            facts,
        )
    if approved == 0:
        return Check(
            "templates",
            "warning",
            "No approved template",
            f"The last sync ({_when(synced_at)}) found {total} template"
            f"{'s' if total != 1 else ''}, none approved: outside the 24-hour customer care "
            "window nothing can be sent.",
            "Create a template in WhatsApp Manager, wait for its approval, then sync again: "
            f"{sync}.",
            facts,
        )
    return Check(
        "templates",
        "ok",
        title,
        f"{approved} of {total} templates approved (last synced {_when(synced_at)}).",
        facts=facts,
    )
