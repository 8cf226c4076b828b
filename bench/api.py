"""Benchmark of the contacts API against a real uvicorn process, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.api [--db sqlite|postgres|both] [--duration 10] [--connections 50]

For each database: a fresh, migrated and seeded database (10,000 contacts), the server started
as ``xobito serve`` runs it (uvicorn, uvloop, httptools, 1 worker) on the bench app factory, and
a separate load-generator process (wrk when installed, else ``bench.loadgen``) measuring
requests/s and p50/p99 latency of the authenticated list, a bare endpoint answering the same
bytes, and contact creation. Then py-spy shows where the list's time goes on PostgreSQL.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench import runner, seed, spy
from xobito.app import create_app
from xobito.config import Settings

PHONE_BASE = 3_000_000_000  # POSTed phones: +1 3000000000 + 100M per load run
GET_PATH = f"/api/v1/{seed.SUBDOMAIN}/contacts?per_page=15"
POST_PATH = f"/api/v1/{seed.SUBDOMAIN}/contacts"
ROUTES = {
    "get": f"GET  {GET_PATH}",
    "bare": "GET  /bench/bare (same bytes; no auth, db, limit)",
    "post": f"POST {POST_PATH} (unique phones)",
}
TITLES = {"sqlite": "SQLite + in-memory rate limiter", "postgres": "PostgreSQL + Redis limiter"}
ERROR_NAMES = {
    "status": "non-2xx answers",
    "timeouts": "timeouts (no answer within 2 s)",
    "read": "socket read errors",
    "write": "socket write errors",
    "connect": "connect errors",
}
P99_TARGET_MS = 25.0
RATIO_TARGET = 0.5


@dataclass
class Measured:
    route: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_kinds: dict[str, int]
    server_cpu_us_per_request: float
    # Average cores used during the measurement by: the server process, the PostgreSQL
    # backends of the bench database, the load generator, and everything else on the machine.
    cores: dict[str, float]


class Bench:
    def __init__(self, args: argparse.Namespace, tool: str, work: Path) -> None:
        self.args = args
        self.tool = tool
        self.work = work
        self.runs = 0
        self.pg_database: str | None = None
        self.source_id = self.status_id = 0

    def load(self, url: str, headers: dict[str, str], duration: float, post: bool) -> runner.Load:
        payload = None
        if post:
            self.runs += 1
            payload = (PHONE_BASE + self.runs * 100_000_000, self.source_id, self.status_id)
        return runner.Load(url, self.args.connections, duration, headers, payload)

    def measure(self, srv: runner.Server, key: str, headers: dict[str, str]) -> Measured:
        url = srv.base_url + {"get": GET_PATH, "bare": "/bench/bare", "post": POST_PATH}[key]
        post = key == "post"
        if self.args.warmup > 0:
            runner.run_load(self.load(url, headers, self.args.warmup, post), self.tool)
        load = self.load(url, headers, self.args.duration, post)
        before = runner.snapshot(srv, self.pg_database)
        result = runner.run_load(load, self.tool, self.args.threads)
        after = runner.snapshot(srv, self.pg_database)
        seconds = result["duration_us"] / 1e6
        kinds = {
            k.removesuffix("_errors"): v
            for k, v in result.items()
            if (k.endswith("_errors") or k == "timeouts") and v
        }
        return Measured(
            route=ROUTES[key],
            requests=result["requests"],
            rps=result["requests"] / seconds,
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
            errors=sum(kinds.values()),
            error_kinds=kinds,
            server_cpu_us_per_request=(after.server - before.server)
            / max(1, result["requests"])
            * 1e6,
            cores=before.cores(after),
        )

    def run_database(self, kind: str) -> tuple[list[Measured], str | None]:
        with seed.database(kind, self.work) as db:
            self.pg_database = db.pg_database
            ids = asyncio.run(seed.seed(db.url))
            self.source_id, self.status_id = ids.source_id, ids.status_id
            headers = {"Authorization": f"Bearer {ids.token}"}
            port = runner.free_port()
            base_url = f"http://127.0.0.1:{port}"
            bare_file = self.work / f"bare-{kind}.json"
            bare_file.write_bytes(asyncio.run(expected_body(db.url, base_url, headers)))
            env = server_env(db, bare_file)
            with runner.server(port, env, self.work) as srv:
                check_same_bytes(srv, headers, bare_file.read_bytes())
                results = [self.measure(srv, key, headers) for key in self.args.routes]
                profile = None
                if kind == "postgres" and self.args.profile:
                    profile = self.profile(srv, headers)
            return results, profile

    def profile(self, srv: runner.Server, headers: dict[str, str]) -> str:
        out = Path(tempfile.gettempdir()) / "xobito-bench-profile-get-postgres.txt"
        seconds = self.args.profile_seconds
        url = srv.base_url + GET_PATH
        runner.run_load(self.load(url, headers, 1, False), self.tool)
        sampler = spy.record(srv.pid, seconds, out)
        load = self.load(url, headers, seconds + 1, False)
        result = runner.run_load(load, self.tool, self.args.threads)
        _, err = sampler.communicate(timeout=seconds + 30)
        if not out.exists():
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')}")
        rps = result["requests"] / (result["duration_us"] / 1e6)
        head = f"GET under py-spy (200 Hz): {rps:.0f} req/s; collapsed stacks: {out}"
        return head + "\n" + spy.summarize(out)


async def expected_body(url: str, base_url: str, headers: dict[str, str]) -> bytes:
    """The list's response body, produced in-process by the same code and the same URL, so the
    bare endpoint can answer exactly these bytes."""
    app = create_app(Settings(database_url=url, redis_url=None))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            resp = await client.get(GET_PATH, headers=headers)
        if resp.status_code != 200:
            raise RuntimeError(f"seeded list answered {resp.status_code}: {resp.text[:300]}")
        return resp.content
    finally:
        await app.state.engine.dispose()


def server_env(db: seed.Database, bare_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "XOBITO_REDIS_URL"}
    env.update(
        XOBITO_DATABASE_URL=db.url,
        XOBITO_REDIS_PREFIX=db.redis_prefix,
        XOBITO_LOG_LEVEL="WARNING",
        XOBITO_BENCH_BARE_BODY=str(bare_file),
    )
    if db.redis_url:
        env["XOBITO_REDIS_URL"] = db.redis_url
    return env


def check_same_bytes(srv: runner.Server, headers: dict[str, str], expected: bytes) -> None:
    status, body = runner.fetch(srv.base_url + GET_PATH, headers)
    _, bare = runner.fetch(srv.base_url + "/bench/bare", {})
    if status != 200 or body != expected or bare != expected:
        raise RuntimeError("the bare endpoint's bytes differ from the authenticated list's")


def table(kind: str, results: list[Measured], args: argparse.Namespace, tool: str) -> str:
    lines = [
        "",
        f"== {TITLES[kind]} == {seed.CONTACTS:,} contacts; {tool}, {args.connections} "
        f"connections, {args.duration:g} s per route after {args.warmup:g} s warm-up",
        f"{'route':<52} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'srv CPU µs/req':>14} {'req/s/core':>10}  cores: server/db/loadgen/other",
    ]
    for m in results:
        c = m.cores
        per_core = 1e6 / m.server_cpu_us_per_request if m.server_cpu_us_per_request else 0.0
        lines.append(
            f"{m.route:<52} {m.rps:7.0f} {m.p50_ms:7.1f} {m.p99_ms:7.1f} {m.errors:6d} "
            f"{m.server_cpu_us_per_request:14.0f} {per_core:10.0f}  "
            f"{c['server']:.2f}/{c['database']:.2f}/{c['loadgen']:.2f}/{c['other']:.2f}"
        )
    by_route = {m.route: m for m in results}
    get, bare = by_route.get(ROUTES["get"]), by_route.get(ROUTES["bare"])
    if get and bare:
        ratio = get.rps / bare.rps
        verdict = "met" if ratio >= RATIO_TARGET else "NOT met"
        lines.append(
            f"GET/bare throughput ratio: {ratio:.2f} (target ≥ {RATIO_TARGET:.2f}: {verdict}); "
            "per server core (bare µs/req ÷ GET µs/req): "
            f"{bare.server_cpu_us_per_request / get.server_cpu_us_per_request:.2f}"
        )
    if get:
        verdict = "met" if get.p99_ms < P99_TARGET_MS else "NOT met"
        scope = "" if kind == "postgres" else " (the target is for PostgreSQL; for reference)"
        lines.append(
            f"GET p99 at {args.connections} connections: {get.p99_ms:.1f} ms "
            f"(target < {P99_TARGET_MS:.0f} ms: {verdict}){scope}"
        )
    for m in results:
        if m.errors:
            kinds = ", ".join(f"{n} {ERROR_NAMES.get(k, k)}" for k, n in m.error_kinds.items())
            lines.append(f"Errors of {m.route.split(' (')[0]}: {kinds}")
    if any(m.cores["other"] > 0.25 for m in results):
        lines.append(
            "Warning: other processes used over a quarter of a core during a measurement "
            "(column 'other'); numbers are noisy, run again on a quiet machine."
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per route")
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument(
        "--routes", default="get,bare,post", help="comma-separated subset of get,bare,post"
    )
    p.add_argument("--no-profile", dest="profile", action="store_false")
    p.add_argument("--profile-seconds", type=float, default=10.0)
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    args.routes = [r for r in args.routes.split(",") if r]
    if unknown := set(args.routes) - set(ROUTES):
        p.error(f"unknown routes: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tool = args.loadgen
    if tool == "auto":
        tool = "wrk" if runner.wrk_path() else "python"
    elif tool == "wrk" and not runner.wrk_path():
        sys.exit("wrk is not installed (apt-get install -y wrk), use --loadgen python")
    name = runner.tool_name(tool)
    print(
        f"Load generator: {name}. This machine has {os.cpu_count()} cores, shared by the server "
        "(1 process), the load generator and PostgreSQL/Redis, so the throughput is a lower "
        "bound of what the server does with a core of its own; 'srv CPU µs/req' is the "
        "server's own cost per request.",
        flush=True,
    )
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    report: dict[str, list[dict[str, object]]] = {}
    profile = None
    with tempfile.TemporaryDirectory(prefix="xobito-bench-") as tmp:
        work = Path(tmp)
        bench = Bench(args, tool, work)
        for kind in kinds:
            idle = runner.background_load()
            print(
                f"\n{TITLES[kind]}: seeding and measuring… (before start, other processes "
                f"kept {idle:.2f} of {os.cpu_count()} cores busy)",
                flush=True,
            )
            results, prof = bench.run_database(kind)
            profile = prof or profile
            report[kind] = [asdict(m) for m in results]
            print(table(kind, results, args, name), flush=True)
        if profile:
            print("\n== Profile of the authenticated GET on PostgreSQL ==\n" + profile)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
