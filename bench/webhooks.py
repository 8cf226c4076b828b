"""Outbound webhook benchmark (docs/webhooks.md): one ``xobito worker`` delivering to a local
receiver.

    .venv/bin/python -m bench.webhooks [--events 20000] [--rate 200] [--seconds 10] [--profile]

Parts, each in its own process: PostgreSQL (a fresh database per run), one ``xobito worker``
(``python -m xobito.cli.main worker``), and an aiohttp receiver (``python -m bench.webhooks
receiver``) that records when each ``X-Webhook-Id`` first arrived. This process writes the
outbox through the real ``emit`` and drives the baseline.

(a) throughput: ``--events`` events are queued before the worker starts; deliveries/s is
    counted from the first to the last receipt (and from the worker's start).
(b) latency: with the worker idle, events are committed one per transaction at ``--rate``/s for
    ``--seconds``; the time after each commit returns is paired with the receiver's receipt
    time of that event id (one machine, one wall clock): p50/p99 commit-to-receipt.
Baselines: the same numbers of bare aiohttp POSTs from one process to the same receiver
(throughput with 32 in flight, the worker's per-endpoint cap; latency paced at the same rate).
Targets: >= 1,000 deliveries/s per worker; p99 < 250 ms at 200 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import runner, seed

TARGET_RATE = 1000.0
TARGET_P99_MS = 250.0


# ---- the receiver (its own process) ------------------------------------------------------


def receiver_main(port: int) -> None:
    from aiohttp import web

    first: dict[str, float] = {}
    total = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal total
        await request.read()
        now = time.time()
        total += 1
        key = request.headers.get("X-Webhook-Id") or request.headers.get("X-Bench-Id", "")
        first.setdefault(key, now)
        return web.Response(text='{"ok":true}', content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"total": total, "distinct": len(first)})

    async def times(request: web.Request) -> web.Response:
        return web.json_response(first)

    async def reset(request: web.Request) -> web.Response:
        nonlocal total
        first.clear()
        total = 0
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", stats)
    app.router.add_get("/times", times)
    app.router.add_post("/reset", reset)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


class Receiver:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def _call(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(
            self.base + path, method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self._call("/stats")
        return result

    def times(self) -> dict[str, float]:
        result: dict[str, float] = self._call("/times")
        return result

    def reset(self) -> None:
        self._call("/reset", "POST")


@contextmanager
def receiver_process(log_dir: Path) -> Iterator[tuple[Receiver, subprocess.Popen[bytes]]]:
    port = runner.free_port()
    log = (log_dir / "receiver.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.webhooks", "receiver", "--port", str(port)],
        cwd=runner.REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    r = Receiver(port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r.stats()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("receiver did not start") from None
                time.sleep(0.05)
        yield r, proc
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


# ---- the worker --------------------------------------------------------------------------


@contextmanager
def worker_process(db: seed.Database, log_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XOBITO_")}
    env.update(
        {
            "XOBITO_ENV": "development",
            "XOBITO_DATABASE_URL": db.url,
            "XOBITO_LOG_LEVEL": "WARNING",
            "XOBITO_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        }
    )
    log = (log_dir / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xobito.cli.main", "worker"],
        cwd=log_dir,  # no .env from the repository
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


# ---- the outbox writer -------------------------------------------------------------------


async def prepare(url: str, hook_url: str) -> tuple[int, int]:
    from xobito.config import Settings
    from xobito.kit.db import make_engine, make_sessionmaker
    from xobito.webhook.service import WebhookService
    from xobito.workspace.service import WorkspaceService

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            ws = await WorkspaceService(s).create({"subdomain": "bench", "name": "Bench"})
            settings = Settings(_env_file=None, webhook_allow_private_urls=True)  # type: ignore[call-arg]
            endpoint, _ = await WebhookService(s, ws.id, settings).create(
                {"url": hook_url, "events": ["contacts.created"]}
            )
            await s.commit()
            return ws.id, endpoint.id
    finally:
        await engine.dispose()


def body(n: int) -> dict[str, Any]:
    """About the size of a contact event."""
    return {
        "event": "created",
        "model": "App\\Models\\Tenant\\Contact",
        "data": {
            "id": n,
            "attributes": {"id": n, "firstname": f"Person {n}", "phone": f"+1415{n:07d}"},
            "relations": {},
        },
        "original": None,
        "timestamp": "2026-04-16T12:34:56+00:00",
    }


async def queue(url: str, workspace_id: int, endpoint_id: int, count: int) -> None:
    from xobito.kit.db import make_engine, make_sessionmaker
    from xobito.webhook.events import emit

    engine = make_engine(url)
    try:
        sm = make_sessionmaker(engine)
        for start in range(0, count, 1000):
            async with sm() as s:
                for n in range(start, min(count, start + 1000)):
                    await emit(
                        s,
                        workspace_id,
                        "contacts.created",
                        "created",
                        body(n),
                        endpoint_ids=[endpoint_id],
                    )
                await s.commit()
    finally:
        await engine.dispose()


async def paced(
    url: str, workspace_id: int, endpoint_id: int, rate: float, seconds: float
) -> dict[str, float]:
    """One event per transaction at ``rate``/s; returns event id -> time after its commit."""
    from xobito.kit.db import make_engine, make_sessionmaker
    from xobito.webhook.events import emit

    engine = make_engine(url)
    committed: dict[str, float] = {}
    try:
        sm = make_sessionmaker(engine)
        total = int(rate * seconds)
        start = time.monotonic()
        for n in range(total):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            async with sm() as s:
                event_id = await emit(
                    s,
                    workspace_id,
                    "contacts.created",
                    "created",
                    body(n),
                    endpoint_ids=[endpoint_id],
                )
                await s.commit()
            assert event_id is not None
            committed[event_id] = time.time()
    finally:
        await engine.dispose()
    return committed


# ---- baselines: bare aiohttp POSTs from this process -------------------------------------


async def baseline_throughput(hook_url: str, count: int, concurrency: int = 32) -> float:
    import aiohttp

    payload = json.dumps(body(0)).encode()
    todo = iter(range(count))
    async with aiohttp.ClientSession() as http:

        async def lane() -> None:
            for n in todo:
                async with http.post(
                    hook_url,
                    data=payload,
                    headers={"X-Bench-Id": f"b{n}", "Content-Type": "application/json"},
                ) as r:
                    await r.read()

        start = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


async def baseline_latency(hook_url: str, rate: float, seconds: float) -> dict[str, float]:
    import aiohttp

    payload = json.dumps(body(0)).encode()
    sent: dict[str, float] = {}
    async with aiohttp.ClientSession() as http:
        tasks = []

        async def post(key: str) -> None:
            async with http.post(
                hook_url,
                data=payload,
                headers={"X-Bench-Id": key, "Content-Type": "application/json"},
            ) as r:
                await r.read()

        start = time.monotonic()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            key = f"l{n}"
            sent[key] = time.time()
            tasks.append(asyncio.create_task(post(key)))
        await asyncio.gather(*tasks)
    return sent


# ---- measuring ---------------------------------------------------------------------------


def wait_for(receiver: Receiver, count: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while receiver.stats()["distinct"] < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{receiver.stats()} of {count} after {limit} s")
        time.sleep(0.05)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return q[49], q[98], ordered[-1]


def latencies(committed: dict[str, float], received: dict[str, float]) -> list[float]:
    missing = set(committed) - set(received)
    if missing:
        raise RuntimeError(f"{len(missing)} events never arrived")
    return [(received[k] - t) * 1000 for k, t in committed.items()]


def profile(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy not found: no profile")
        return None
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


# (category, fragment of a frame "function (file:line)"); a sample goes to the deepest match.
CATEGORIES = [
    ("startup (imports, settings)", "importlib"),
    ("idle (waiting in epoll)", "selectors.py"),
    ("worker loop: inbox + jobs polling", "xobito/jobs/"),
    ("dispatcher: claim (3 statements)", "DeliveryRepository.claim"),
    ("dispatcher: record results (1 transaction per batch)", "Dispatcher.flush"),
    ("dispatcher: HTTP request/response (aiohttp)", "Dispatcher._send"),
    ("dispatcher: signing (hex + Standard Webhooks)", "signing.py"),
    ("SQLAlchemy session/connection checkout", "sqlalchemy/pool"),
]


def categories(raw: Path) -> str:
    """Where the worker's samples went, by the deepest matching category."""
    from collections import Counter

    spent: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        found = "other (event loop callbacks, asyncio, C code)"
        for frame in stack.split(";"):
            for name, fragment in CATEGORIES:
                if fragment in frame:
                    found = name
        spent[found] += n
    return "\n".join(f"  {c / total:6.1%}  {name}" for name, c in spent.most_common())


def cpu(pid: int) -> float:
    return runner._proc_cpu(Path(f"/proc/{pid}/stat").read_text())


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="xobito-bench-webhooks-"))
    ok = True
    with seed.database("postgres", work) as db, receiver_process(work) as (receiver, rproc):
        hook_url = receiver.base + "/hook"
        ws_id, endpoint_id = asyncio.run(prepare(db.url, hook_url))

        # (a) throughput
        t0 = time.perf_counter()
        asyncio.run(queue(db.url, ws_id, endpoint_id, args.events))
        print(f"queued {args.events} events in {time.perf_counter() - t0:.1f} s")
        with worker_process(db, work) as proc:
            started = time.time()
            if args.profile:  # sample the delivery only, not the start-up
                wait_for(receiver, 1, limit=60)
            spy = profile(proc.pid, args.profile, work / "throughput.raw") if args.profile else None
            cpu0 = (cpu(proc.pid), cpu(rproc.pid), runner._postgres_cpu(db.pg_database or ""))
            wait_for(receiver, args.events, limit=600)
            cpu1 = (cpu(proc.pid), cpu(rproc.pid), runner._postgres_cpu(db.pg_database or ""))
            received = receiver.times()
            first, last = min(received.values()), max(received.values())
            rate = args.events / (last - first)
            print(
                f"(a) throughput: {args.events} deliveries, {rate:,.0f}/s first-to-last receipt, "
                f"{args.events / (last - started):,.0f}/s from worker start "
                f"(target >= {TARGET_RATE:,.0f}/s)"
            )
            w, r, pg = (1000 * (b - a) / args.events for a, b in zip(cpu0, cpu1, strict=True))
            print(
                f"    CPU per delivery: worker {w:.2f} ms, receiver {r:.2f} ms, "
                f"PostgreSQL {pg:.2f} ms ({os.cpu_count()} cores)"
            )
            ok &= rate >= TARGET_RATE
            if spy is not None:
                spy.wait()
                print(
                    "    where the worker's py-spy samples went (throughput run; py-spy slows it):"
                )
                print(categories(work / "throughput.raw"))

            # (b) latency, with the same worker now idle
            receiver.reset()
            committed = asyncio.run(paced(db.url, ws_id, endpoint_id, args.rate, args.seconds))
            wait_for(receiver, len(committed), limit=120)
            p50, p99, worst = percentiles(latencies(committed, receiver.times()))
            print(
                f"(b) latency at {args.rate:.0f} events/s for {args.seconds:.0f} s "
                f"({len(committed)} events): commit-to-receipt p50 {p50:.1f} ms, "
                f"p99 {p99:.1f} ms, max {worst:.1f} ms (target p99 < {TARGET_P99_MS:.0f} ms)"
            )
            ok &= p99 < TARGET_P99_MS

        receiver.reset()
        brate = asyncio.run(baseline_throughput(hook_url, args.events))
        print(f"baseline: {args.events} bare aiohttp POSTs (32 in flight): {brate:,.0f}/s")
        receiver.reset()
        sent = asyncio.run(baseline_latency(hook_url, args.rate, args.seconds))
        wait_for(receiver, len(sent), limit=60)
        b50, b99, bworst = percentiles(latencies(sent, receiver.times()))
        print(
            f"baseline: bare POSTs at {args.rate:.0f}/s: send-to-receipt p50 {b50:.1f} ms, "
            f"p99 {b99:.1f} ms, max {bworst:.1f} ms"
        )
    shutil.rmtree(work, ignore_errors=True)
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    rec = sub.add_parser("receiver", help="(internal) run the receiver")
    rec.add_argument("--port", type=int, required=True)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--profile", type=int, default=0, metavar="SECONDS", help="py-spy the worker during (a)"
    )
    args = parser.parse_args(argv)
    if args.command == "receiver":
        receiver_main(args.port)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
