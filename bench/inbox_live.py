"""The inbox's live events under load: 500 SSE clients on two API processes while 200
inbound messages/s arrive as signed Meta webhooks; and the API's send and list throughput
without and with the streams open, in the same run.

    .venv/bin/python -m bench.inbox_live [--clients 500] [--rate 200] [--seconds 20]

Processes: two ``uvicorn xobito.app:create_app`` API servers (ports A, B) and one
``xobito worker`` (stores the inbound messages), on a fresh PostgreSQL database with Redis
(the streams of both API processes are woken through Redis pub/sub), the fake Graph API as
Meta; SSE clients in two client processes (half on each server, one signed-in agent).

Measured: for every inbound message, from the moment its webhook POST was answered 200 to
the moment each client received its ``message`` event: p50 / p99 / max over all (message,
client) pairs; events lost (a client that never got one). Then req/s and p50/p99 of
``POST /messages/send`` and ``GET /chats`` on server B for ``--phase-seconds`` each, four
times in this order: without streams; with the 500 streams open but watching another
workspace (idle); with the load on the streams' own workspace (each send is an event to
every stream: the fan-out's cost, and the SSE clients', on the same cores); without again.
The two "without" runs bracket the idle one, so drift shows as their difference. Both
servers are warmed for 2 s and the database ANALYZEd first (the statistics a running
installation has). The machine's load average and each process's CPU are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench import runner, seed
from bench.messaging_kit import fake_graph
from bench.soak import cpu_seconds, process, wait_ready
from xobito.account.service import UserService
from xobito.auth.abilities import ABILITIES
from xobito.auth.service import TokenService
from xobito.config import Settings
from xobito.connection.service import ConnectionService
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.testing.meta_webhooks import sign_payload
from xobito.whatsapp.webhooks import inbound_payload
from xobito.workspace.service import WorkspaceService

SUB, NUMBER, WABA, SECRET = "live", "106540352249001", "419561257919001", "bench-live-secret"
OTHER, OTHER_NUMBER, OTHER_WABA = "other", "106540352249002", "419561257919002"
EMAIL, PASSWORD = "agent@live.example.com", "bench-password-123"
MESSAGE_ID = re.compile(rb'^event: message\ndata: \{"chat":\d+,"message":(\d+)', re.M)


async def seed_workspace(url: str) -> dict[str, str]:
    """The streams' workspace (``SUB``, with the agent) and ``OTHER`` (API load the streams
    do not watch); each one's API token."""
    engine = make_engine(url)
    settings = Settings(_env_file=None, password_hashing="fast")  # type: ignore[call-arg]
    tokens: dict[str, str] = {}
    try:
        async with make_sessionmaker(engine)() as s:
            for sub, number, waba in ((SUB, NUMBER, WABA), (OTHER, OTHER_NUMBER, OTHER_WABA)):
                ws = await WorkspaceService(s).create({"subdomain": sub, "name": f"{sub} bench"})
                _, tokens[sub] = await TokenService(s).create(
                    ws,
                    {
                        "name": "bench",
                        "abilities": list(ABILITIES),
                        "rate_limit_max": seed.TOKEN_RATE_LIMIT,
                    },
                )
                ws = await WorkspaceService(s).update(sub, {"enforce_care_window": False})
                await ConnectionService(s).connect(
                    ws,
                    {
                        "provider": "cloud",
                        "waba_id": waba,
                        "phone_number_ids": [number],
                        "access_token": "bench-access-token",
                        "app_secret": SECRET,
                        "verify_token": "bench-verify",
                    },
                )
                if sub == SUB:
                    await UserService(s, settings).create(
                        ws,
                        {"email": EMAIL, "role": "agent", "password": PASSWORD, "name": "Agent"},
                    )
            await s.commit()
            return tokens
    finally:
        await engine.dispose()


async def sign_in(base: str) -> str:
    # The CSRF cookie must come back: aiohttp's jar drops cookies of IP hosts (unsafe) and
    # Secure ones over http (XOBITO_ENV=production) unless told the origin is trusted.
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base])
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{base}/app/login") as r:
            page = await r.text()
        token = re.search(r'<meta name="csrf-token" content="([^"]*)">', page)
        assert token is not None
        form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
        headers = {"Sec-Fetch-Site": "same-origin"}
        async with http.post(
            f"{base}/app/login", data=form, headers=headers, allow_redirects=False
        ) as r:
            assert r.status == 303, await r.text()
            return r.cookies["xobito_session"].value


# ---- SSE clients (in their own processes) ---------------------------------------------------


def clients_main(base: str, cookie: str, count: int, out: str, ready: Any, stop: Any) -> None:
    import uvloop

    received = uvloop.run(_clients(base, cookie, count, ready, stop))
    Path(out).write_text(json.dumps(received))


async def _clients(
    base: str, cookie: str, count: int, ready: Any, stop: Any
) -> list[list[tuple[int, float]]]:
    received: list[list[tuple[int, float]]] = [[] for _ in range(count)]
    opened = 0
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookies={"xobito_session": cookie}
    ) as http:

        async def one(n: int) -> None:
            nonlocal opened
            async with http.get(f"{base}/app/{SUB}/events") as r:
                assert r.status == 200, r.status
                opened += 1
                buffer = b""
                async for chunk in r.content.iter_any():
                    now = time.time()
                    buffer += chunk
                    cut = buffer.rfind(b"\n\n")
                    if cut < 0:
                        continue
                    done, buffer = buffer[: cut + 2], buffer[cut + 2 :]
                    received[n].extend((int(m), now) for m in MESSAGE_ID.findall(done))

        tasks = [asyncio.create_task(one(n)) for n in range(count)]
        while opened < count:
            await asyncio.sleep(0.05)
            for t in tasks:
                if t.done() and t.exception():
                    raise t.exception()  # type: ignore[misc]
        ready.set()
        await asyncio.to_thread(stop.wait)
        for t in tasks:
            t.cancel()
    return received


class Streams:
    """``count`` SSE streams, half on each server, in two client processes, open for the
    ``with`` block; what each received is in ``outs`` afterwards."""

    def __init__(self, bases: list[str], cookie: str, count: int, work: Path) -> None:
        work.mkdir(exist_ok=True)
        ctx = mp.get_context("spawn")
        self.stop = ctx.Event()
        self.ready = [ctx.Event(), ctx.Event()]
        half = count // 2
        self.outs = [str(work / f"clients-{i}.json") for i in (0, 1)]
        self.procs = [
            ctx.Process(
                target=clients_main,
                args=(
                    bases[i],
                    cookie,
                    half if i == 0 else count - half,
                    self.outs[i],
                    self.ready[i],
                    self.stop,
                ),
            )
            for i in (0, 1)
        ]

    def __enter__(self) -> Streams:
        try:
            for p in self.procs:
                p.start()
            for r in self.ready:
                if not r.wait(120):
                    raise RuntimeError("SSE clients did not connect")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for p in self.procs:
            if p.pid is None:
                continue  # never started
            p.join(60)
            if p.is_alive():
                p.terminate()
                p.join(10)


# ---- load -----------------------------------------------------------------------------------


async def post_inbound(base: str, rate: int, seconds: float) -> dict[str, float]:
    """``rate`` signed webhooks a second (one message each, new senders); returns each
    wamid's accepted time (the 200's arrival)."""
    accepted: dict[str, float] = {}
    total = int(rate * seconds)
    bodies = []
    for i in range(total):
        wamid = f"wamid.BENCHLIVE{i:08d}"
        body = json.dumps(
            inbound_payload(
                waba_id=WABA,
                phone_number_id=NUMBER,
                wamid=wamid,
                wa_id=f"1415{7000000 + i % 2000}",
                profile_name=f"Customer {i % 2000}",
                text=f"hello {i}",
            )
        ).encode()
        bodies.append((wamid, body, sign_payload(body, SECRET)))
    async with aiohttp.ClientSession() as http:
        start = time.monotonic()

        async def post(wamid: str, body: bytes, sig: str) -> None:
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sig}
            async with http.post(f"{base}/webhooks/whatsapp", data=body, headers=headers) as r:
                assert r.status == 200, await r.text()
                accepted[wamid] = time.time()

        tasks = []
        for i, (wamid, body, sig) in enumerate(bodies):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(wamid, body, sig)))
        await asyncio.gather(*tasks)
    return accepted


async def throughput(
    base: str, token: str, seconds: float, sub: str = OTHER, connections: int = 16
) -> dict[str, dict[str, float]]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    out: dict[str, dict[str, float]] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        for name, method, path in (
            ("POST /messages/send", "POST", f"/api/v1/{sub}/messages/send"),
            ("GET /chats", "GET", f"/api/v1/{sub}/chats?per_page=15"),
        ):
            latencies: list[float] = []
            errors = 0
            end = time.monotonic() + seconds
            counter = iter(range(10**9))

            async def worker(
                method: str = method,
                path: str = path,
                end: float = end,
                counter: Any = counter,
                latencies: list[float] = latencies,
            ) -> None:
                nonlocal errors
                while time.monotonic() < end:
                    n = next(counter)  # 500 numbers: the warm-up made their contacts
                    body = (
                        json.dumps(
                            {"phone_number": f"+1415{8000000 + n % 500}", "message_body": "Hi"}
                        )
                        if method == "POST"
                        else None
                    )
                    t0 = time.perf_counter()
                    async with http.request(method, base + path, data=body, headers=headers) as r:
                        await r.read()
                        if r.status != 200:
                            errors += 1
                    latencies.append(time.perf_counter() - t0)

            await asyncio.gather(*(worker() for _ in range(connections)))
            latencies.sort()
            out[name] = {
                "rps": len(latencies) / seconds,
                "p50_ms": latencies[len(latencies) // 2] * 1000,
                "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
                "errors": errors,
            }
    return out


async def analyze(url: str) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def wamid_ids(url: str) -> dict[str, tuple[int, float]]:
    """Each inbound wamid's message id and when the worker stored it (its ``created_at``)."""
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT id, wamid, created_at FROM messages WHERE wamid LIKE 'wamid.BENCHLIVE%'"
        )
        return {r["wamid"]: (r["id"], r["created_at"].timestamp()) for r in rows}
    finally:
        await conn.close()


async def wait_stored(url: str, total: int, limit: float = 120) -> float:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    start = time.monotonic()
    try:
        while time.monotonic() - start < limit:
            n = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE wamid LIKE 'wamid.BENCHLIVE%'"
            )
            if n >= total:
                return time.monotonic() - start
            await asyncio.sleep(0.2)
        return -1
    finally:
        await conn.close()


def env_for(db: seed.Database, graph: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XOBITO_")}
    env.update(
        XOBITO_ENV="production",
        XOBITO_DATABASE_URL=db.url,
        XOBITO_REDIS_URL=db.redis_url or seed.REDIS_URL,
        XOBITO_REDIS_PREFIX=db.redis_prefix,
        XOBITO_WORKER_IN_PROCESS="false",
        XOBITO_GRAPH_BASE_URL=graph,
        XOBITO_LOG_LEVEL="WARNING",
        XOBITO_PUBLIC_URL="http://127.0.0.1",
        XOBITO_META_APP_SECRET=SECRET,
    )
    return env


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process (backends come and go: a lower bound)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in {"postgres", "postmaster"}:
                    total += cpu_seconds(int(entry.name))
            except (OSError, ValueError):
                continue
    return total


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--phase-seconds", type=float, default=10)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="xobito-inbox-live-"))
    with seed.database("postgres", work) as db, fake_graph(0, work) as graph:
        tokens = asyncio.run(seed_workspace(db.url))
        env = env_for(db, graph.base_url)
        ports = [runner.free_port(), runner.free_port()]
        py = sys.executable
        serve = [
            [
                py,
                "-m",
                "uvicorn",
                "xobito.app:create_app",
                "--factory",
                "--port",
                str(p),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--log-level",
                "warning",
            ]
            for p in ports
        ]
        with (
            process(serve[0], work / "a.log", env) as pid_a,
            process(serve[1], work / "b.log", env) as pid_b,
            process([py, "-m", "xobito.cli.main", "worker"], work / "worker.log", env) as pid_w,
            contextlib.ExitStack() as clients,
        ):
            bases = [f"http://127.0.0.1:{p}" for p in ports]
            for base, name in zip(bases, ("a", "b"), strict=True):
                wait_ready(f"{base}/healthz", work / f"{name}.log")
            pids = {"api A": pid_a, "api B": pid_b, "worker": pid_w}
            servers = dict(pids)
            print(
                f"# inbox live bench: {args.clients} SSE clients, {args.rate} inbound/s"
                f" for {args.seconds:g} s; load {os.getloadavg()}"
            )
            for base in bases:  # warm both (statement caches, pools), then compare on B
                for sub in (SUB, OTHER):
                    asyncio.run(throughput(base, tokens[sub], min(2.0, args.phase_seconds), sub))
            # The statistics a running installation has: planned on a fresh database's empty
            # tables, GET /chats's newest-message query fell from 37 to 5 req/s over three
            # phases (a plan for one row, kept by the prepared statement, on thousands).
            asyncio.run(analyze(db.url))
            cookie = asyncio.run(sign_in(bases[0]))
            half = args.clients // 2

            def phase(label: str, sub: str, extra: dict[str, int]) -> None:
                watched = {**servers, "this script": os.getpid(), **extra}
                start = {k: cpu_seconds(v) for k, v in watched.items()}
                pg_start = postgres_cpu()
                phases[label] = asyncio.run(
                    throughput(bases[1], tokens[sub], args.phase_seconds, sub)
                )
                used = {k: cpu_seconds(v) - start[k] for k, v in watched.items()}
                phase_cpu[label] = {**used, "PostgreSQL": postgres_cpu() - pg_start}

            streams = clients.enter_context(Streams(bases, cookie, args.clients, work / "live"))
            procs, outs = streams.procs, streams.outs
            for i, p in enumerate(procs):  # the load generator's own share of the cores
                pids[f"clients {'AB'[i]}"] = p.pid or 0
            pids["this script"] = os.getpid()
            cpu0 = {k: cpu_seconds(v) for k, v in pids.items()}
            pg0 = postgres_cpu()
            t0 = time.monotonic()
            accepted = asyncio.run(post_inbound(bases[0], args.rate, args.seconds))
            post_elapsed = time.monotonic() - t0
            total = len(accepted)
            asyncio.run(wait_stored(db.url, total))
            time.sleep(3)  # the last events reach the clients
            load = os.getloadavg()
            cpu = {k: cpu_seconds(v) - cpu0[k] for k, v in pids.items()}
            cpu["PostgreSQL"] = postgres_cpu() - pg0
            clients.close()  # the streams end; each client process writes what it received
            # Then the API's throughput (the inbound phase first: what it measures is not
            # after a minute of other load). Load on OTHER without streams, with the streams
            # open on SUB (idle: they watch another workspace), without again: the two
            # "without" runs bracket the "with" one, so drift (more rows, warmer caches)
            # shows as their difference, not as the streams' cost. Then load on SUB itself:
            # every send is an event to every stream.
            phases: dict[str, dict[str, dict[str, float]]] = {}
            phase_cpu: dict[str, dict[str, float]] = {}
            phase("without streams", OTHER, {})
            with Streams(bases, cookie, args.clients, work / "idle") as idle:
                print(f"# {args.clients} streams open ({half} on A, {args.clients - half} on B)")
                procs_of = {f"clients {'AB'[i]}": p.pid or 0 for i, p in enumerate(idle.procs)}
                phase("streams open", OTHER, procs_of)
                phase("streams get the sends", SUB, procs_of)
            print("# streams closed")
            phase("without again", OTHER, {})
            ids = asyncio.run(wamid_ids(db.url))
            by_id = {ids[w][0]: t for w, t in accepted.items() if w in ids}
            stored_after = sorted(ids[w][1] - t for w, t in accepted.items() if w in ids)
            latencies: list[float] = []
            lost = 0
            twice = 0
            for out in outs:
                for client in json.loads(Path(out).read_text()):
                    seen: dict[int, float] = {}
                    for mid, at in client:
                        if mid in by_id:
                            if mid in seen:
                                twice += 1
                            seen.setdefault(mid, at)
                    lost += len(by_id) - len(seen)
                    latencies.extend(at - by_id[mid] for mid, at in seen.items())
            latencies.sort()
            print(
                f"inbound accepted: {total} in {post_elapsed:.1f} s"
                f" ({total / post_elapsed:.0f}/s); stored: {len(ids)}"
            )
            print(
                f"webhook accepted -> message stored by the worker: p50"
                f" {pct(stored_after, 0.5) * 1000:.0f} ms"
                f"   p99 {pct(stored_after, 0.99) * 1000:.0f} ms"
            )
            print(
                f"webhook accepted -> event at client, over {len(latencies)}"
                " (message, client) pairs:"
            )
            print(
                f"  p50 {pct(latencies, 0.5) * 1000:.0f} ms"
                f"   p99 {pct(latencies, 0.99) * 1000:.0f} ms"
                f"   max {(latencies[-1] if latencies else float('nan')) * 1000:.0f} ms"
                f"   lost {lost}   twice {twice}"
            )
            print(
                "  target p99 < 500 ms: "
                + ("met" if latencies and pct(latencies, 0.99) < 0.5 and lost == 0 else "NOT met")
            )
            print(
                f"throughput on B, 16 connections, {args.phase_seconds:g} s each, in this order;"
                f" the load on {OTHER!r} except where the streams get the sends (on {SUB!r})"
            )
            for name in phases["without streams"]:
                without_mean = (
                    sum(phases[k][name]["rps"] for k in ("without streams", "without again")) / 2
                )
                print(f"  {name}")
                for label, runs in phases.items():
                    r = runs[name]
                    change = (
                        ""
                        if label.startswith("without")
                        else f"  {r['rps'] / max(without_mean, 1e-9) - 1:+.0%} vs the without mean"
                    )
                    print(
                        f"    {label:<22} {r['rps']:5.0f} req/s  p50 {r['p50_ms']:5.1f} ms"
                        f"  p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}{change}"
                    )
            for label, used in phase_cpu.items():
                clients_cpu = sum(v for k, v in used.items() if k.startswith("clients"))
                print(
                    f"CPU seconds, {label}: "
                    + ", ".join(
                        f"{k} {v:.1f}" for k, v in used.items() if not k.startswith("clients")
                    )
                    + (f", SSE clients {clients_cpu:.1f}" if clients_cpu else "")
                )
            print(
                "CPU seconds during the inbound phase: "
                + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
                + f"; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
                + f" on {os.cpu_count()} cores"
            )
            print(f"logs in {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
