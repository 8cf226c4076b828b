"""The checks that ask Meta: the access token, the numbers of the WABA, the webhook
subscription, quality rating and messaging tier (Graph ``GET /{Phone-Number-ID}``,
``GET /{WABA-ID}/phone_numbers``, ``GET /{WABA-ID}/subscribed_apps``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from xobito.connection.doctor.report import Check
from xobito.whatsapp.base import ConnectionInfo, ConnectionInspector
from xobito.whatsapp.errors import WhatsAppError

Failure = Literal["token", "permission", "not_found", "throttled", "unreachable", "other"]

TOKEN_CODES = frozenset({102, 104, 190, 458, 459, 460, 463, 464, 467})
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80007, 130429})
UNREACHABLE_CODES = frozenset({1, 2, 131000, 133004})
NOT_FOUND_SUBCODE = 33  # code 100: "Object with ID ... does not exist, cannot be loaded ..."
PERMISSIONS = "whatsapp_business_messaging and whatsapp_business_management"
BAD_NUMBER_STATUS = frozenset({"BANNED", "RESTRICTED", "DELETED", "UNLINKED", "FLAGGED"})
PENDING_NUMBER_STATUS = frozenset({"PENDING", "MIGRATED", "OFFLINE"})
LOW_TIERS = {"TIER_50": 50, "TIER_250": 250}
TIER_LIMITS = {
    "TIER_50": "50",
    "TIER_250": "250",
    "TIER_1K": "1,000",
    "TIER_10K": "10,000",
    "TIER_100K": "100,000",
    "TIER_UNLIMITED": "unlimited",
}


def classify(exc: WhatsAppError) -> Failure:
    """What kind of trouble a Graph error is, as far as the doctor's advice goes."""
    error = exc.raw.get("error")
    subcode = error.get("error_subcode") if isinstance(error, dict) else None
    code = exc.code
    if code in TOKEN_CODES:
        return "token"
    if code == 10 or code == 3 or (code is not None and 200 <= code <= 299):
        return "permission"
    if code == 803 or (code == 100 and subcode == NOT_FOUND_SUBCODE):
        return "not_found"
    if code in THROTTLE_CODES or exc.http_status == 429:
        return "throttled"
    if code in UNREACHABLE_CODES or exc.http_status is None or exc.http_status >= 500:
        return "unreachable"
    return "other"


def said(exc: WhatsAppError) -> str:
    """Meta's own words, quoted in explanations."""
    if exc.code is None:
        return exc.message
    return f"Meta said: {exc.describe()}"


@dataclass
class GraphFacts:
    """What the calls returned (or how they failed)."""

    primary: dict[str, Any] | None = None
    primary_error: WhatsAppError | None = None
    numbers: list[dict[str, Any]] | None = None
    numbers_error: WhatsAppError | None = None
    apps: list[dict[str, Any]] | None = None
    apps_error: WhatsAppError | None = None


async def _call(coro: Any) -> tuple[Any, WhatsAppError | None]:
    try:
        return await coro, None
    except WhatsAppError as exc:
        return None, exc


async def gather_facts(inspector: ConnectionInspector, info: ConnectionInfo) -> GraphFacts:
    """The token is tried on the primary number first: when Meta refuses it (or cannot be
    reached), the WABA calls would only repeat that."""
    facts = GraphFacts()
    facts.primary, facts.primary_error = await _call(
        inspector.phone_number(info, info.phone_number_id)
    )
    if facts.primary_error is not None and classify(facts.primary_error) in (
        "token",
        "unreachable",
    ):
        return facts
    (facts.numbers, facts.numbers_error), (facts.apps, facts.apps_error) = await asyncio.gather(
        _call(inspector.waba_phone_numbers(info)), _call(inspector.subscribed_apps(info))
    )
    return facts


def _blocked(facts: GraphFacts, check_id: str, title: str) -> Check | None:
    """A Graph check that cannot run because the token or Meta itself failed."""
    exc = facts.primary_error
    if exc is None:
        return None
    kind = classify(exc)
    if kind == "token":
        why = "Skipped: Meta refused the access token (see above)."
    elif kind == "unreachable":
        why = "Skipped: Meta's Graph API could not be reached (see above)."
    else:
        return None
    return Check(check_id, "skipped", title, why)


def access_token_check(facts: GraphFacts, subdomain: str) -> Check:
    title = "Access token"
    exc = facts.primary_error
    if exc is None:
        number = facts.primary or {}
        shown = number.get("display_phone_number") or number.get("id")
        name = number.get("verified_name")
        seen = f"{shown} ({name})" if name else str(shown)
        return Check(
            "access_token",
            "ok",
            title,
            f"Meta accepted the access token; it can read the primary number {seen}.",
        )
    kind = classify(exc)
    reconnect = (
        f"connect again with the new token (xobito whatsapp connect {subdomain} --provider "
        "cloud ..., or PUT /api/admin/workspaces/{subdomain}/whatsapp)"
    ).replace("{subdomain}", subdomain)
    if kind == "token":
        return Check(
            "access_token",
            "error",
            "The access token is invalid or expired",
            "Meta refuses the access token, so no message can be sent. Temporary tokens from "
            f"the App Dashboard expire after 24 hours. {said(exc)}",
            "Create a permanent System User token in Meta Business Settings with the "
            f"{PERMISSIONS} permissions, then {reconnect}.",
            {"meta_code": exc.code},
        )
    if kind == "permission":
        return Check(
            "access_token",
            "error",
            "The access token lacks permissions",
            f"The token is valid but may not use the primary number. {said(exc)}",
            f"Give the token's System User the {PERMISSIONS} permissions and assign it the "
            f"WhatsApp Business Account, then {reconnect}.",
            {"meta_code": exc.code},
        )
    if kind == "not_found":
        return Check(
            "access_token",
            "ok",
            title,
            "Meta accepted the access token, but it cannot see the primary number (see the "
            "phone number check).",
        )
    return _trouble("access_token", title, exc)


def _trouble(check_id: str, title: str, exc: WhatsAppError) -> Check:
    """Throttling, an unreachable Graph API or an unexpected refusal."""
    kind = classify(exc)
    if kind == "throttled":
        return Check(
            check_id,
            "warning",
            f"{title}: Meta is rate limiting",
            f"Meta asked us to slow down, so this could not be checked. {said(exc)}",
            "Run the check again in a few minutes.",
            {"meta_code": exc.code},
        )
    if kind == "unreachable":
        return Check(
            check_id,
            "error",
            "Meta's Graph API cannot be reached",
            f"The request to Meta failed, so sends will fail too. {said(exc)}",
            "Check this server's outbound network access to graph.facebook.com (or "
            "XOBITO_GRAPH_BASE_URL) and Meta's status page, then check again.",
            {"meta_code": exc.code},
        )
    return Check(
        check_id,
        "error",
        f"{title}: Meta refused the request",
        said(exc),
        "Check the WABA id and phone number ids in WhatsApp Manager and connect again.",
        {"meta_code": exc.code},
    )


def numbers_check(facts: GraphFacts, numbers: list[str], waba_id: str) -> Check:
    title = "Phone numbers in the WABA"
    blocked = _blocked(facts, "phone_numbers", title)
    if blocked is not None:
        return blocked
    exc = facts.numbers_error
    if exc is not None:
        kind = classify(exc)
        if kind == "permission":
            return Check(
                "phone_numbers",
                "error",
                f"The access token cannot read WABA {waba_id}",
                f"Meta refuses to list the WhatsApp Business Account's numbers. {said(exc)}",
                f"Give the token's System User the {PERMISSIONS} permissions and assign it "
                "this WhatsApp Business Account in Meta Business Settings.",
                {"meta_code": exc.code},
            )
        if kind == "not_found":
            return Check(
                "phone_numbers",
                "error",
                f"WABA {waba_id} was not found",
                f"Meta does not know this WhatsApp Business Account id, or the token cannot "
                f"see it. {said(exc)}",
                "Copy the WhatsApp Business Account id from WhatsApp Manager (API Setup) and "
                "connect again.",
                {"meta_code": exc.code},
            )
        return _trouble("phone_numbers", title, exc)
    listed = {str(n.get("id")): n for n in facts.numbers or []}
    missing = [n for n in numbers if n not in listed]
    shown = {
        i: str(n["display_phone_number"])
        for i, n in listed.items()
        if n.get("display_phone_number")
    }
    facts_out: dict[str, Any] = {
        "waba_numbers": sorted(listed),
        "missing": missing,
        "display_phone_numbers": shown,  # id → the number Meta displays (the dashboard's)
    }
    if missing:
        known = (
            ", ".join(f"{n.get('display_phone_number')} (id {i})" for i, n in listed.items())
            or "none"
        )
        which = ", ".join(missing)
        return Check(
            "phone_numbers",
            "error",
            f"Phone number id {which} is not in WABA {waba_id}"
            if len(missing) == 1
            else f"Phone number ids {which} are not in WABA {waba_id}",
            f"Meta lists these numbers for the WABA: {known}. Sends from a number that is "
            "not in it fail, and its webhooks come from another account.",
            "Copy the phone number id (not the phone number itself) from WhatsApp Manager "
            "(API Setup) and connect again with the WABA it belongs to.",
            facts_out,
        )
    bad = [
        (i, listed[i].get("status"))
        for i in numbers
        if listed[i].get("status") in BAD_NUMBER_STATUS
    ]
    if bad:
        which = ", ".join(f"{i} is {s}" for i, s in bad)
        return Check(
            "phone_numbers",
            "error",
            "A phone number cannot send",
            f"Meta reports: {which}. A banned, restricted, deleted or unlinked number "
            "cannot send messages.",
            "Open WhatsApp Manager → Account tools → Phone numbers for the reason and the "
            "appeal or re-registration steps.",
            facts_out,
        )
    pending = [
        (i, listed[i].get("status"))
        for i in numbers
        if listed[i].get("status") in PENDING_NUMBER_STATUS
    ]
    sandboxed = [i for i in numbers if listed[i].get("account_mode") == "SANDBOX"]
    if pending or sandboxed:
        parts = [f"{i} is {s}" for i, s in pending]
        parts += [f"{i} is a test number (account mode SANDBOX)" for i in sandboxed]
        return Check(
            "phone_numbers",
            "warning",
            "A phone number is not fully live",
            f"Meta reports: {', '.join(parts)}. Pending numbers cannot send yet; test "
            "numbers only reach the few recipients registered for them.",
            "Finish the number's registration in WhatsApp Manager (or add a real number).",
            facts_out,
        )
    count = len(numbers)
    return Check(
        "phone_numbers",
        "ok",
        title,
        f"{'The number belongs' if count == 1 else f'All {count} numbers belong'} to WABA "
        f"{waba_id}.",
        facts=facts_out,
    )


def subscription_check(facts: GraphFacts, waba_id: str, app_id: str | None) -> Check:
    title = "Webhook subscription"
    blocked = _blocked(facts, "webhook_subscription", title)
    if blocked is not None:
        return blocked
    exc = facts.apps_error
    if exc is not None:
        if classify(exc) == "permission":
            return Check(
                "webhook_subscription",
                "error",
                "The access token cannot read the webhook subscription",
                f"Meta refuses to list the apps subscribed to WABA {waba_id}. {said(exc)}",
                f"Give the token's System User the {PERMISSIONS} permissions on this WABA.",
                {"meta_code": exc.code},
            )
        return _trouble("webhook_subscription", title, exc)
    apps = facts.apps or []
    named = ", ".join(f"{a.get('name') or 'unnamed'} (id {a['id']})" for a in apps)
    facts_out: dict[str, Any] = {"apps": apps, "app_id": app_id}
    subscribe = (
        f"Subscribe your app: POST /{waba_id}/subscribed_apps with this connection's token, "
        "or in the App Dashboard → WhatsApp → Configuration → Webhook fields, subscribe "
        "to messages."
    )
    if not apps:
        return Check(
            "webhook_subscription",
            "error",
            "The app is not subscribed to the WABA's webhooks",
            f"No app is subscribed to WABA {waba_id}, so Meta sends no webhooks for it: no "
            "replies from customers, no delivery statuses, no template updates.",
            subscribe,
            facts_out,
        )
    if app_id is not None and app_id not in {a["id"] for a in apps}:
        return Check(
            "webhook_subscription",
            "error",
            f"Your app {app_id} is not subscribed to the WABA's webhooks",
            f"Meta sends WABA {waba_id}'s webhooks to other apps only: {named}.",
            subscribe,
            facts_out,
        )
    if app_id is None:
        explanation = (
            f"Subscribed to WABA {waba_id}: {named}. Set the connection's app id to check "
            "that one of them is yours."
        )
    else:
        explanation = f"Your app {app_id} receives WABA {waba_id}'s webhooks."
    return Check("webhook_subscription", "ok", title, explanation, facts=facts_out)


def _primary_number(facts: GraphFacts, primary: str) -> dict[str, Any] | None:
    for n in facts.numbers or []:
        if str(n.get("id")) == primary:
            return n
    return facts.primary


def quality_check(facts: GraphFacts, primary: str) -> Check:
    title = "Quality rating"
    blocked = _blocked(facts, "quality_rating", title)
    if blocked is not None:
        return blocked
    number = _primary_number(facts, primary)
    rating = number.get("quality_rating") if number else None
    facts_out = {"quality_rating": rating}
    if rating == "GREEN":
        return Check(
            "quality_rating",
            "ok",
            "Quality rating: high (green)",
            "Customers are receiving your messages well.",
            facts=facts_out,
        )
    if rating == "YELLOW":
        return Check(
            "quality_rating",
            "warning",
            "Quality rating: medium (yellow)",
            "Customers have blocked or reported some of your messages recently. If it drops "
            "to red, Meta may lower your messaging limit.",
            "Send fewer marketing messages, only to people who opted in, and make opting out easy.",
            facts_out,
        )
    if rating == "RED":
        return Check(
            "quality_rating",
            "error",
            "Quality rating: low (red)",
            "Many customers blocked or reported your messages in the last days. Meta may "
            "lower your messaging limit or restrict the number.",
            "Pause marketing sends, review your templates and audience, and only message "
            "customers who asked for it until the rating recovers.",
            facts_out,
        )
    if number is None:
        return Check("quality_rating", "skipped", title, "Meta returned no number to rate.")
    return Check(
        "quality_rating",
        "ok",
        "Quality rating: not rated yet",
        "Meta has not rated this number yet (new numbers start unrated).",
        facts=facts_out,
    )


def tier_check(facts: GraphFacts, primary: str) -> Check:
    title = "Messaging limit"
    blocked = _blocked(facts, "messaging_tier", title)
    if blocked is not None:
        return blocked
    number = _primary_number(facts, primary) if facts.numbers else None
    tier = number.get("messaging_limit_tier") if number else None
    if not isinstance(tier, str):
        return Check(
            "messaging_tier",
            "skipped",
            title,
            "Meta did not report a messaging limit (it is listed with the WABA's numbers).",
        )
    limit = TIER_LIMITS.get(tier, tier)
    facts_out = {"messaging_limit_tier": tier}
    if tier == "TIER_UNLIMITED":
        return Check(
            "messaging_tier",
            "ok",
            "Messaging limit: unlimited",
            "This number may start conversations with any number of customers.",
            facts=facts_out,
        )
    if tier in LOW_TIERS:
        return Check(
            "messaging_tier",
            "warning",
            f"Messaging limit: {limit} customers a day",
            f"This number may start conversations with at most {limit} different customers "
            "in 24 hours (replies to customers who wrote first do not count).",
            "Verify your business in Meta Business Settings and keep the quality rating "
            "high: Meta raises the limit as you message more customers with good quality.",
            facts_out,
        )
    return Check(
        "messaging_tier",
        "ok",
        f"Messaging limit: {limit} customers a day",
        f"This number may start conversations with up to {limit} different customers in 24 hours.",
        facts=facts_out,
    )
