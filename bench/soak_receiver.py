"""The soak's webhook receiver (its own process): checks every delivery's signature and counts
deliveries per event id, so the soak can prove each outbound event arrived exactly once.

    python -m bench.soak_receiver --port P --secrets secrets.json

``secrets.json`` maps a path (``/hook/<subdomain>``) to its endpoint's secret. ``GET /stats``
answers the totals; ``GET /ids`` every event id seen with its delivery count. A delivery whose
Standard Webhooks signature does not verify is answered 400 and counted as invalid.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def make_app(secrets: dict[str, str]) -> web.Application:
    verifiers = {path: Webhook(secret) for path, secret in secrets.items()}
    seen: Counter[str] = Counter()
    invalid: Counter[str] = Counter()
    by_path: Counter[str] = Counter()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        verifier = verifiers.get(request.path)
        event_id = request.headers.get("webhook-id", "")
        try:
            if verifier is None or not event_id:
                raise WebhookVerificationError("unknown endpoint or no id")
            verifier.verify(body, dict(request.headers))
        except WebhookVerificationError:
            invalid[request.path] += 1
            return web.json_response({"ok": False}, status=400)
        seen[event_id] += 1
        by_path[request.path] += 1
        return web.json_response({"ok": True})

    async def stats(request: web.Request) -> web.Response:
        duplicates = sum(n - 1 for n in seen.values() if n > 1)
        return web.json_response(
            {
                "deliveries": sum(seen.values()),
                "distinct": len(seen),
                "duplicates": duplicates,
                "invalid": sum(invalid.values()),
                "by_path": dict(by_path),
            }
        )

    async def ids(request: web.Request) -> web.Response:
        return web.json_response(dict(seen))

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/hook/{name}", hook)
    app.router.add_get("/stats", stats)
    app.router.add_get("/ids", ids)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secrets", type=Path, required=True)
    args = parser.parse_args()
    secrets: dict[str, str] = json.loads(args.secrets.read_text())
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        pass
    web.run_app(make_app(secrets), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
