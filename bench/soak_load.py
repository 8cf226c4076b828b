"""The soak's load (its own process): a paced mix of API calls and signed Meta webhooks.

    python -m bench.soak_load --plan plan.json --out result.json

Open loop at ``rate`` requests/s for ``seconds``: a request is started when it is due, whether
or not earlier ones have been answered (up to ``MAX_IN_FLIGHT``), so a slow server shows as
latency and a backlog instead of as a lower offered rate. The mix (``MIX``) is lists,
searches, creates and updates of contacts, sends with and without ``Idempotency-Key`` (some
keys repeated: a replay, or 409 while the first is in flight), status polls and inbound
customer messages; every accepted send is then followed by Meta's ``delivered`` and ``read``
status webhooks, and a share of all webhooks is delivered twice, as Meta redelivers. When the
time is up, the statuses still scheduled are sent at once, so every accepted send can end
``read``. Each minute one ``SOAK_MINUTE {json}`` line goes to stdout (requests, statuses,
p50/p99 per route); the result file lists what the verification needs.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from xobito.testing.meta_webhooks import (
    SIGNATURE_HEADER,
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
    sign_payload,
)

MAX_IN_FLIGHT = 1000
KEEPALIVE = 3.0  # seconds an idle connection is kept; below the server's keep-alive (5 s)
REDELIVER = 0.2  # share of Meta webhooks delivered twice
RETRY_AFTER = 5.0  # seconds before a webhook that was not answered 200 is delivered again
FLUSH_LIMIT = 300.0  # seconds Meta's last webhooks may take to be accepted after the load
NEW_RECIPIENT = 0.1  # share of sends to a number no contact has yet
REUSED_KEY = 0.25  # share of keyed sends that repeat an earlier key with the same body
MIX = {  # share of the API calls (status webhooks come on top, two per accepted send)
    "GET /contacts": 0.22,
    "GET /contacts?search": 0.10,
    "POST /contacts": 0.08,
    "PUT /contacts/{id}": 0.08,
    "POST /messages/send": 0.16,
    "POST /messages/send +key": 0.08,
    "GET /messages/{id}/status": 0.12,
    "POST /webhooks/whatsapp message": 0.08,
}
STATUS_ROUTE = "POST /webhooks/whatsapp status"
ROUTES = [*MIX, STATUS_ROUTE]


def api_rate(rate: float) -> float:
    """The API calls' share of ``rate``, given the webhooks each kind brings along."""
    total = sum(MIX.values())
    sends = (MIX["POST /messages/send"] + MIX["POST /messages/send +key"]) / total
    inbound = MIX["POST /webhooks/whatsapp message"] / total
    return rate / (1 + sends * 2 * (1 + REDELIVER) + inbound * REDELIVER)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


@dataclass
class Tenant:
    subdomain: str
    token: str
    phone_number_id: str
    waba_id: str
    app_secret: str
    status_id: int
    source_id: int
    contacts: list[tuple[int, str]]  # (id, E.164) of seeded contacts
    sent: list[str] = field(default_factory=list)  # wamids of accepted sends
    inbound: set[str] = field(default_factory=set)  # wamids of customer messages sent
    keys: list[tuple[str, bytes]] = field(default_factory=list)  # (key, body) used so far


class Load:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.base = plan["base_url"]
        self.rate = float(plan["rate"])
        self.seconds = float(plan["seconds"])
        self.tenants = [Tenant(**t) for t in plan["tenants"]]
        self.rng = random.Random(plan.get("seed", 7))
        self.numbers = itertools.count(1)
        self.scheduled: list[tuple[float, int, Tenant, bytes]] = []  # (due, n, tenant, body)
        self.in_flight = 0
        self.minute: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[int] = Counter()
        self.total: Counter[str] = Counter()
        self.errors: list[str] = []
        self.shed = 0
        self.retried = 0
        self.undelivered = 0
        self.tasks: set[asyncio.Task[None]] = set()

    # ---- requests ---------------------------------------------------------------------------

    async def request(
        self, route: str, method: str, url: str, tenant: Tenant | None, **kwargs: Any
    ) -> tuple[int, Any, dict[str, str]]:
        headers = kwargs.pop("headers", {})
        if tenant is not None:
            headers["Authorization"] = f"Bearer {tenant.token}"
        started = time.perf_counter()
        try:
            async with self.http.request(method, self.base + url, headers=headers, **kwargs) as r:
                raw = await r.read()
                status = r.status
                answer_headers = dict(r.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, raw, answer_headers = 0, b"", {}
            if len(self.errors) < 20:
                self.errors.append(f"{route}: {exc!r}")
        self.minute[route].append(time.perf_counter() - started)
        self.statuses[status] += 1
        self.total[f"{status // 100}xx" if status else "transport"] += 1
        if status >= 500 and len(self.errors) < 20:
            self.errors.append(f"{route}: {status} {raw[:300]!r}")
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        return status, body, answer_headers

    async def post_webhook(self, route: str, tenant: Tenant, raw: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_payload(raw, tenant.app_secret),
        }
        status, _, _ = await self.request(
            route, "POST", "/webhooks/whatsapp", None, data=raw, headers=headers
        )
        if status != 200:  # as Meta does: the delivery is retried until it is accepted
            self.retried += 1
            self.schedule(time.monotonic() + RETRY_AFTER, tenant, raw)

    def schedule(self, due: float, tenant: Tenant, raw: bytes) -> None:
        heapq.heappush(self.scheduled, (due, next(self.numbers), tenant, raw))

    def later(self, tenant: Tenant, raw: bytes, after: float) -> None:
        """A Meta webhook ``after`` seconds from now; redelivered later now and then."""
        now = time.monotonic()
        self.schedule(now + after, tenant, raw)
        if self.rng.random() < REDELIVER:
            self.schedule(now + after + self.rng.uniform(2, 15), tenant, raw)

    # ---- the mix ----------------------------------------------------------------------------

    async def one(self, route: str) -> None:
        t = self.rng.choice(self.tenants)
        api = f"/api/v1/{t.subdomain}"
        rng = self.rng
        if route == "GET /contacts":
            await self.request(
                route, "GET", f"{api}/contacts?per_page=15&page={rng.randint(1, 50)}", t
            )
        elif route == "GET /contacts?search":
            await self.request(route, "GET", f"{api}/contacts?search=First{rng.randint(1, 999)}", t)
        elif route == "POST /contacts":
            n = next(self.numbers)
            body = {
                "firstname": f"Soak{n}",
                "lastname": "Created",
                "phone": f"+1{4_000_000_000 + n}",
                "type": "lead",
                "status_id": t.status_id,
                "source_id": t.source_id,
                "groups": rng.choice(["soak", "soak, vip", ""]),
            }
            await self.request(route, "POST", f"{api}/contacts", t, json=body)
        elif route == "PUT /contacts/{id}":
            contact_id, phone = rng.choice(t.contacts)
            body = {
                "firstname": f"Updated{rng.randint(1, 10**6)}",
                "lastname": "Soak",
                "phone": phone,
                "type": rng.choice(["lead", "customer"]),
            }
            await self.request(route, "PUT", f"{api}/contacts/{contact_id}", t, json=body)
        elif route.startswith("POST /messages/send"):
            await self.send(route, t, keyed=route.endswith("+key"))
        elif route == "GET /messages/{id}/status":
            if t.sent:
                wamid = rng.choice(t.sent[-500:])
                await self.request(route, "GET", f"{api}/messages/{wamid}/status", t)
        else:  # an inbound customer message
            n = next(self.numbers)
            phone = rng.choice(t.contacts)[1] if rng.random() < 0.8 else f"+1{5_000_000_000 + n}"
            wamid = f"wamid.soak-in-{t.subdomain}-{n}"
            t.inbound.add(wamid)
            payload = build_text_message_webhook(
                phone.lstrip("+"),
                f"Customer message {n}",
                wamid=wamid,
                phone_number_id=t.phone_number_id,
                waba_id=t.waba_id,
            )
            raw = orjson.dumps(payload)
            await self.post_webhook(route, t, raw)
            if rng.random() < REDELIVER:
                self.schedule(time.monotonic() + rng.uniform(1, 10), t, raw)

    async def send(self, route: str, t: Tenant, *, keyed: bool) -> None:
        rng = self.rng
        headers: dict[str, str] = {"Content-Type": "application/json"}
        if keyed and t.keys and rng.random() < REUSED_KEY:
            key, raw = rng.choice(t.keys[-200:])
        else:
            n = next(self.numbers)
            if rng.random() < NEW_RECIPIENT:
                phone = f"+1{6_000_000_000 + n}"
            else:
                phone = rng.choice(t.contacts)[1]
            raw = orjson.dumps({"phone_number": phone, "message_body": f"Soak message {n}"})
            key = f"soak-{n}"
            if keyed:
                t.keys.append((key, raw))
        if keyed:
            headers["Idempotency-Key"] = key
        status, body, answer = await self.request(
            route, "POST", f"/api/v1/{t.subdomain}/messages/send", t, data=raw, headers=headers
        )
        if status != 200 or not isinstance(body, dict):
            return
        wamid = body["data"]["message_id"]
        if answer.get("Idempotent-Replayed") == "true":
            return  # already scheduled by the first answer
        t.sent.append(wamid)
        recipient = str(body["data"]["phone"]).lstrip("+")
        for status_name, after in (("delivered", rng.uniform(1, 3)), ("read", rng.uniform(3, 6))):
            update = StatusUpdate(wamid, status_name, recipient)  # type: ignore[arg-type]
            payload = build_status_webhook(
                [update], phone_number_id=t.phone_number_id, waba_id=t.waba_id
            )
            self.later(t, orjson.dumps(payload), after)

    # ---- pacing -----------------------------------------------------------------------------

    def start(self, coro: Any) -> None:
        if self.in_flight >= MAX_IN_FLIGHT:
            self.shed += 1
            coro.close()
            return
        self.in_flight += 1
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.in_flight -= 1
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and len(self.errors) < 20:
            self.errors.append(f"load: {task.exception()!r}")

    def report(self, minute: int, seconds: float) -> None:
        routes = {
            name: [len(v), round(percentile(v, 50) * 1000, 1), round(percentile(v, 99) * 1000, 1)]
            for name, v in self.minute.items()
        }
        line = {
            "minute": minute,
            "seconds": round(seconds, 1),
            "requests": sum(len(v) for v in self.minute.values()),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "routes": routes,
            "in_flight": self.in_flight,
            "scheduled": len(self.scheduled),
            "shed": self.shed,
        }
        print("SOAK_MINUTE " + json.dumps(line), flush=True)
        self.minute.clear()
        self.statuses.clear()

    async def run(self) -> None:
        # Idle connections are dropped before uvicorn's 5 s keep-alive closes them: reusing
        # one the server is closing at that moment fails the request ("connection reset").
        connector = aiohttp.TCPConnector(
            limit=MAX_IN_FLIGHT, force_close=False, keepalive_timeout=KEEPALIVE
        )
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as self.http:
            names, weights = list(MIX), list(MIX.values())
            per_second = api_rate(self.rate)
            begun = time.monotonic()
            started, minute, minute_start = 0, 1, begun
            while (now := time.monotonic()) - begun < self.seconds:
                due = int((now - begun) * per_second) - started
                for route in self.rng.choices(names, weights, k=max(0, due)):
                    self.start(self.one(route))
                started += max(0, due)
                # Meta's webhooks wait (as Meta's retries do) while the load is at its
                # in-flight cap instead of being shed: a dropped status would be a false loss.
                while (
                    self.scheduled
                    and self.scheduled[0][0] <= now
                    and self.in_flight < MAX_IN_FLIGHT
                ):
                    _, _, tenant, raw = heapq.heappop(self.scheduled)
                    self.start(self.post_webhook(STATUS_ROUTE, tenant, raw))
                if now - minute_start >= 60:
                    self.report(minute, now - minute_start)
                    minute, minute_start = minute + 1, now
                await asyncio.sleep(0.005)
            # Time is up: no new calls; what Meta still owes goes out when due (retried
            # until accepted, for FLUSH_LIMIT at most), and everything is answered.
            flush_end = time.monotonic() + FLUSH_LIMIT
            while (self.tasks or self.scheduled) and (now := time.monotonic()) < flush_end:
                while self.scheduled and self.scheduled[0][0] <= now and self.in_flight < 256:
                    _, _, tenant, raw = heapq.heappop(self.scheduled)
                    self.start(self.post_webhook(STATUS_ROUTE, tenant, raw))
                if now - minute_start >= 60:
                    self.report(minute, now - minute_start)
                    minute, minute_start = minute + 1, now
                await asyncio.sleep(0.01)
            self.undelivered = len(self.scheduled)
            self.report(minute, time.monotonic() - minute_start)

    def result(self) -> dict[str, Any]:
        return {
            "totals": dict(self.total),
            "shed": self.shed,
            "retried": self.retried,
            "undelivered": self.undelivered,
            "errors": self.errors,
            "tenants": {
                t.subdomain: {"sent": sorted(set(t.sent)), "inbound": sorted(t.inbound)}
                for t in self.tenants
            },
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    load = Load(json.loads(args.plan.read_text()))
    try:
        import uvloop

        uvloop.run(load.run())
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        asyncio.run(load.run())
    args.out.write_text(json.dumps(load.result()))


if __name__ == "__main__":
    main()
