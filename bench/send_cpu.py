"""CPU per ``POST /messages/send``, in process, by ASGI call: where a send's time goes.

    .venv/bin/python -m bench.send_cpu [--requests 3000] [--concurrency 20] [--cprofile]

The real app (PostgreSQL + Redis, cloud provider) is called through ASGI directly, without
HTTP, at a fixed concurrency; the fake Graph API runs in its own process (0 ms). Next to it,
as the baseline, the same number of bare ASGI calls to ``/bench/passthrough`` (the same Graph
call, no auth and no database). Prints process CPU per request for both; ``--cprofile``
adds the top functions of the send run by cumulative time. HTTP parsing, which both routes
share, is left out, so the figures isolate what the send route itself costs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench import seed
from bench.messaging_kit import fake_graph, prepare, server_env


async def call(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif status != 200 and message.get("body"):
            print(status, message["body"][:300])

    await app(scope, receive, send)
    return status


async def run(
    app: Any, path: str, token: str, n: int, conc: int, keyed: bool = False
) -> tuple[float, float]:
    headers = [(b"authorization", f"Bearer {token}".encode())]
    counter = iter(range(n))
    failures = 0

    async def one_worker() -> None:
        nonlocal failures
        for i in counter:
            phone = f"+1{seed.SEED_PHONE_BASE + (i * 7919) % seed.CONTACTS}"
            body = orjson.dumps({"phone_number": phone, "message_body": f"Bench {i}"})
            extra = [(b"idempotency-key", f"bench-{i}-{os.getpid()}".encode())] if keyed else []
            if await call(app, path, body, headers + extra) != 200:
                failures += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one_worker() for _ in range(conc)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if failures:
        raise RuntimeError(f"{failures} of {n} calls to {path} failed")
    return cpu / n * 1e6, n / wall


def by_package(stats: pstats.Stats, requests: int) -> str:
    """Own time (tottime) summed per package or xobito module, in µs per request (under
    cProfile, so inflated; the shares are what matter)."""
    totals: dict[str, float] = {}
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            key = filename.split("site-packages/")[1].split("/")[0]
        elif "/src/xobito/" in filename:
            key = "xobito." + filename.split("/src/xobito/")[1].removesuffix(".py")
        elif filename == "~":
            key = name.split(" of ")[0].strip("<>{}")[:40]
        else:
            key = filename.rsplit("/", 1)[-1]
        totals[key] = totals.get(key, 0.0) + row[2]
    everything = sum(totals.values())
    lines = [f"{'own time by package':40} {'µs/req':>8} {'share':>6}"]
    for key, seconds in sorted(totals.items(), key=lambda kv: -kv[1])[:30]:
        lines.append(f"{key:40} {seconds / requests * 1e6:8.1f} {seconds / everything:6.1%}")
    return "\n".join(lines)


async def measure(args: argparse.Namespace, token: str) -> None:
    from bench.passthrough_app import create_passthrough_app

    app = create_passthrough_app()
    async with app.router.lifespan_context(app):
        send_path = f"/api/v1/{seed.SUBDOMAIN}/messages/send"
        for path in (send_path, "/bench/passthrough"):  # warm-up: pools, caches, statements
            await run(app, path, token, 300, args.concurrency)
        rows = []
        for label, path in (("send", send_path), ("pass-through", "/bench/passthrough")):
            profiler = cProfile.Profile() if args.cprofile and label == "send" else None
            if profiler:
                profiler.enable()
            keyed = args.idempotency_keys and label == "send"
            cpu, rate = await run(app, path, token, args.requests, args.concurrency, keyed)
            if profiler:
                profiler.disable()
                out = io.StringIO()
                profiler.dump_stats(Path(tempfile.gettempdir()) / "xobito-send-cpu.prof")
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats(args.sort).print_stats(45)
                print(out.getvalue())
                print(by_package(stats, args.requests))
            rows.append((label, cpu, rate))
        for label, cpu, rate in rows:
            print(f"{label:14} {cpu:8.0f} µs CPU per request  {rate:7.0f} req/s (in process)")
        print(f"send / pass-through CPU: {rows[0][1] / rows[1][1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--idempotency-keys",
        action="store_true",
        help="every send with its own Idempotency-Key (as the Python client sends them)",
    )
    parser.add_argument("--sort", default="tottime", help="pstats sort key for --cprofile")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xobito-send-cpu-"))
    with seed.database("postgres", work) as db:
        ws = asyncio.run(prepare(db.url))
        with fake_graph(0, work) as fake:
            os.environ.update(server_env(db, fake.base_url))
            import uvloop

            from xobito.config import get_settings

            get_settings.cache_clear()

            uvloop.run(measure(args, ws.token))


if __name__ == "__main__":
    main()
