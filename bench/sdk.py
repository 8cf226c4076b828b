"""The SDK's async transports under concurrency: httpx's own pool vs ``httpx-aiohttp``.

    .venv/bin/python -m bench.sdk [--db sqlite|postgres] [--concurrency 50,200] [--duration 10]
    .venv/bin/python -m bench.sdk --url http://127.0.0.1:8000 --subdomain bench --token apitk_...

Without ``--url`` it seeds a fresh database (10,000 contacts, a token the benchmark cannot
rate-limit; ``bench/seed.py``) and starts the server as ``xobito serve`` runs it
(``bench/runner.py``: uvicorn, uvloop, httptools, one worker) in its own process. Then, for each
backend and concurrency level, ``N`` coroutines share one ``xobito_client.AsyncClient``
(a pool of ``N`` connections) and call ``client.contacts.list(per_page=15)`` back to back:
``--warmup`` seconds, then ``--duration`` seconds measured. Reported per run: requests/s,
p50/p99 latency, errors, and the client process's CPU time per request (the transport's cost,
which matters most when client and server share the machine's cores).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from xobito_client import AsyncClient

from bench import runner, seed

Backend = Literal["httpx", "aiohttp"]


@dataclass
class Target:
    url: str
    subdomain: str
    token: str


@dataclass
class Result:
    backend: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu_us: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def measure(
    target: Target, backend: Backend, concurrency: int, warmup: float, duration: float
) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors = 0
    async with AsyncClient(
        target.url,
        target.subdomain,
        target.token,
        http_backend=backend,
        limits=limits,
        max_retries=0,
        timeout=30.0,
    ) as client:

        async def worker(until: float, record: bool) -> None:
            nonlocal errors
            while (now := time.perf_counter()) < until:
                try:
                    await client.contacts.list(per_page=15)
                except Exception:
                    errors += record
                    continue
                if record:
                    latencies.append(time.perf_counter() - now)

        await asyncio.gather(
            *(worker(time.perf_counter() + warmup, False) for _ in range(concurrency))
        )
        cpu0, t0 = time.process_time(), time.perf_counter()
        end = t0 + duration
        await asyncio.gather(*(worker(end, True) for _ in range(concurrency)))
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    done = len(latencies)
    ordered = sorted(latencies) or [0.0]
    return Result(
        backend,
        concurrency,
        done,
        errors,
        seconds,
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        cpu / max(done, 1) * 1e6,
    )


def table(results: list[Result], note: str) -> str:
    lines = [
        "",
        f"== xobito_client.AsyncClient: GET /contacts?per_page=15 == {note}",
        f"{'backend':<10} {'conc':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'client CPU µs/req':>18}",
    ]
    for r in results:
        lines.append(
            f"{r.backend:<10} {r.concurrency:>5} {r.rps:>8.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
            f"{r.errors:>7} {r.client_cpu_us:>18.0f}"
        )
    by = {(r.backend, r.concurrency): r for r in results}
    for c in sorted({r.concurrency for r in results}):
        if ("httpx", c) in by and ("aiohttp", c) in by:
            ratio = by[("aiohttp", c)].rps / max(by[("httpx", c)].rps, 1e-9)
            lines.append(f"aiohttp / httpx at {c}: {ratio:.2f}x req/s")
    return "\n".join(lines)


@contextmanager
def local_server(kind: str) -> Iterator[Target]:
    with tempfile.TemporaryDirectory(prefix="xobito-bench-sdk-") as tmp:
        work = Path(tmp)
        with seed.database(kind, work) as db:
            seeded = asyncio.run(seed.seed(db.url))
            env = {k: v for k, v in os.environ.items() if k != "XOBITO_REDIS_URL"}
            env.update(
                XOBITO_DATABASE_URL=db.url,
                XOBITO_REDIS_PREFIX=db.redis_prefix,
                XOBITO_LOG_LEVEL="WARNING",
            )
            if db.redis_url:
                env["XOBITO_REDIS_URL"] = db.redis_url
            with runner.server(runner.free_port(), env, work) as srv:
                yield Target(srv.base_url, seed.SUBDOMAIN, seeded.token)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--concurrency", default="50,200")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--backends", default="httpx,aiohttp")
    parser.add_argument("--url", help="an already running server (with --subdomain, --token)")
    parser.add_argument("--subdomain", default=seed.SUBDOMAIN)
    parser.add_argument("--token")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    backends: list[Backend] = [b for b in ("httpx", "aiohttp") if b in args.backends.split(",")]

    def run(target: Target) -> list[Result]:
        results = []
        for c in levels:
            for b in backends:
                r = asyncio.run(measure(target, b, c, args.warmup, args.duration))
                print(f"  {b:<8} {c:>4} concurrent: {r.rps:,.0f} req/s", file=sys.stderr)
                results.append(r)
        return results

    if args.url:
        if not args.token:
            parser.error("--url needs --token")
        results = run(Target(args.url, args.subdomain, args.token))
        note = args.url
    else:
        with local_server(args.db) as target:
            results = run(target)
        note = f"{args.db}, {seed.CONTACTS:,} contacts, 1 uvicorn worker"
    note += f"; {args.duration:g} s per run after {args.warmup:g} s warm-up; {os.cpu_count()} cores"
    print(table(results, note))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
