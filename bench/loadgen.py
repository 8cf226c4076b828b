"""Built-in load generator (aiohttp), used by ``bench.api`` when ``wrk`` is not installed.

Runs as its own process: ``python -m bench.loadgen --url URL [--method POST --phone-base N
--source-id S --status-id T] [--header 'K: V'] --connections 50 --duration 10``. Every
connection is one coroutine sending requests back to back on a keep-alive connection, like wrk.
Prints one ``BENCH_RESULT {json}`` line with the same keys as ``bench/wrk/report.lua``.

It is Python, so it needs far more CPU per request than wrk: on a 2-core machine it takes a
good part of the CPU the server would otherwise get, and the numbers are lower than wrk's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable

import aiohttp


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def body_maker(args: argparse.Namespace) -> Callable[[int, int], bytes | None]:
    if args.method != "POST":
        return lambda _conn, _n: None

    def make(conn: int, n: int) -> bytes:
        phone = args.phone_base + conn * 1_000_000 + n
        return json.dumps(
            {
                "firstname": "Bench",
                "lastname": "Load",
                "phone": f"+1{phone}",
                "type": "lead",
                "source_id": args.source_id,
                "status_id": args.status_id,
            }
        ).encode()

    return make


async def run(args: argparse.Namespace) -> dict[str, int]:
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    if args.method == "POST":
        headers["Content-Type"] = "application/json"
    make_body = body_maker(args)
    latencies: list[float] = []
    counts = {"bytes": 0, "status_errors": 0, "read_errors": 0, "timeouts": 0}
    connector = aiohttp.TCPConnector(limit=args.connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        deadline = start + args.duration

        async def connection(conn: int) -> None:
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                sent = time.perf_counter()
                try:
                    async with session.request(
                        args.method, args.url, data=make_body(conn, n), headers=headers
                    ) as resp:
                        body = await resp.read()
                        if resp.status >= 400:
                            counts["status_errors"] += 1
                except TimeoutError:
                    counts["timeouts"] += 1
                    continue
                except aiohttp.ClientError:
                    counts["read_errors"] += 1
                    continue
                latencies.append(time.perf_counter() - sent)
                counts["bytes"] += len(body)

        await asyncio.gather(*(connection(c) for c in range(args.connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()

    def us(pct: float) -> int:
        return int(percentile(latencies, pct) * 1e6)

    return {
        "requests": len(latencies),  # answered requests, as wrk counts them
        "duration_us": int(elapsed * 1e6),
        "bytes": counts["bytes"],
        "connect_errors": 0,
        "read_errors": counts["read_errors"],
        "write_errors": 0,
        "status_errors": counts["status_errors"],
        "timeouts": counts["timeouts"],
        "p50_us": us(50),
        "p90_us": us(90),
        "p99_us": us(99),
        "max_us": int((latencies[-1] if latencies else 0) * 1e6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET", choices=["GET", "POST"])
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--phone-base", type=int, default=3_000_000_000)
    parser.add_argument("--source-id", type=int, default=0)
    parser.add_argument("--status-id", type=int, default=0)
    args = parser.parse_args()
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:  # uvloop ships with uvicorn[standard]; plain asyncio otherwise
        result = asyncio.run(run(args))
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
