"""Soak: the README's production layout under a steady mixed load, then proof nothing was lost.

    .venv/bin/python -m bench.soak --minutes 30 [--rate 190] [--meta-latency-ms 50]

Starts, each in its own process: ``xobito serve --workers 2`` and one ``xobito worker`` on a
fresh PostgreSQL database (dropped afterwards) with Redis under its own key prefix, the fake
Graph API (``xobito.testing.fake_graph``) as Meta, a webhook receiver that verifies every
signature (``bench.soak_receiver``), and the load (``bench.soak_load``, about ``--rate``
requests/s). Two workspaces are seeded (``bench.soak_seed``). Every minute a row: requests/s,
answers by class, RSS of each server process, PostgreSQL connections, the inbox, jobs and
webhook delivery backlogs, and p50/p99 per route. When the load stops and the backlogs have
drained it checks: every accepted send ended ``read``, every outbound event reached the
receiver exactly once with a valid signature, every inbound message was stored once, and no
5xx (nor a dropped connection) was answered. Exit status 1 on any of those. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from bench import runner, seed
from bench.messaging_kit import fake_graph
from bench.soak_load import ROUTES, api_rate
from bench.soak_seed import seed_tenants

DRAIN_LIMIT = 600.0  # seconds the backlogs may take to empty once the load stopped
BACKLOGS_SQL = {
    "inbox": "SELECT count(*) FROM inbox_events WHERE processed_at IS NULL",
    "jobs": "SELECT count(*) FROM jobs WHERE finished_at IS NULL AND run_at <= now()",
    "deliveries": "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'",
}


# ---- processes ---------------------------------------------------------------------------


def soak_env(db: seed.Database, graph_url: str, port: int) -> dict[str, str]:
    """The README's production settings, on this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XOBITO_")}
    env.update(
        XOBITO_ENV="production",
        XOBITO_DATABASE_URL=db.url,
        XOBITO_REDIS_URL=db.redis_url or seed.REDIS_URL,
        XOBITO_REDIS_PREFIX=db.redis_prefix,
        XOBITO_WORKER_IN_PROCESS="false",
        XOBITO_GRAPH_BASE_URL=graph_url,
        XOBITO_PUBLIC_URL=f"http://127.0.0.1:{port}",
        XOBITO_WEBHOOK_ALLOW_PRIVATE_URLS="true",  # the receiver is on 127.0.0.1
        XOBITO_LOG_FORMAT="json",
        XOBITO_LOG_LEVEL="WARNING",
    )
    return env


@contextmanager
def process(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """A child process (its output in ``log``), terminated at the end; yields its pid. Xobito
    runs in the log's directory (no ``.env`` there), bench modules from the repository."""
    cwd = runner.REPO if env is None else log.parent
    with log.open("wb") as out:
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield child.pid
    finally:
        child.terminate()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)


def wait_ready(url: str, log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                tail = log.read_text()[-2000:]
                raise RuntimeError(f"{url} not ready; see {log}:\n{tail}") from None
            time.sleep(0.2)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    try:
        return runner._proc_cpu(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0


def serve_workers(master: int) -> list[int]:
    """uvicorn's worker processes under ``xobito serve`` (spawned children of the master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == master and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return sorted(found)


def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


# ---- database reads ----------------------------------------------------------------------


class Db:
    def __init__(self, db: seed.Database) -> None:
        self.dsn = db.url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.name = db.pg_database

    async def _query(self, work: Any) -> Any:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await work(conn)
        finally:
            await conn.close()

    def sample(self) -> dict[str, int]:
        async def work(conn: asyncpg.Connection) -> dict[str, int]:
            out = {k: int(await conn.fetchval(sql)) for k, sql in BACKLOGS_SQL.items()}
            # Others' connections to this database; this sample's own left out.
            out["pg"] = int(
                await conn.fetchval(
                    "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = $1", self.name
                )
            )
            return out

        return asyncio.run(self._query(work))

    def rows(self, sql: str, *args: Any) -> list[Any]:
        async def work(conn: asyncpg.Connection) -> list[Any]:
            return list(await conn.fetch(sql, *args))

        return asyncio.run(self._query(work))


# ---- the run -----------------------------------------------------------------------------


class Soak:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.minutes: list[dict[str, Any]] = []
        self.failures: list[str] = []

    def run(self) -> int:
        args, work = self.args, self.work
        port, hook_port = runner.free_port(), runner.free_port()
        print(
            f"soak: {args.minutes:g} min at {args.rate:g} requests/s ({api_rate(args.rate):.0f} "
            f"API calls/s + Meta webhooks); xobito serve --workers 2 + 1 xobito worker, "
            f"PostgreSQL + Redis, fake Meta at {args.meta_latency_ms:g} ms; {os.cpu_count()} "
            f"cores, load before start {runner.background_load():.2f}",
            flush=True,
        )
        with seed.database("postgres", work) as db:
            tenants = asyncio.run(seed_tenants(db.url, f"http://127.0.0.1:{hook_port}"))
            secrets = work / "secrets.json"
            secrets.write_text(json.dumps({t.hook_path: t.hook_secret for t in tenants}))
            py = sys.executable
            hook_cmd = [py, "-m", "bench.soak_receiver", "--port", str(hook_port)]
            receiver = f"http://127.0.0.1:{hook_port}"
            with (
                process([*hook_cmd, "--secrets", str(secrets)], work / "receiver.log"),
                fake_graph(args.meta_latency_ms, work) as fake,
            ):
                wait_ready(receiver + "/stats", work / "receiver.log")
                env = soak_env(db, fake.base_url, port)
                serve = [py, "-m", "xobito.cli.main", "serve", "--host", "127.0.0.1"]
                serve += ["--port", str(port), "--workers", "2"]
                worker_cmd = [py, "-m", "xobito.cli.main", "worker"]
                with (
                    process(worker_cmd, work / "worker.log", env) as worker,
                    process(serve, work / "serve.log", env) as master,
                ):
                    wait_ready(f"http://127.0.0.1:{port}/readyz", work / "serve.log")
                    pids = {"serve": master, "worker": worker}
                    for n, pid in enumerate(serve_workers(master), 1):
                        pids[f"api{n}"] = pid
                    result = self.drive(db, port, tenants, pids)
                    drained = self.drain(db, receiver)
                    print(f"\nbacklogs drained {drained:.0f} s after the load stopped")
                    self.verify(db, receiver, result)
                    self.report_logs()
        self.summary()
        return 1 if self.failures else 0

    def drive(
        self, db: seed.Database, port: int, tenants: list[Any], pids: dict[str, int]
    ) -> dict[str, Any]:
        plan = self.work / "plan.json"
        out = self.work / "result.json"
        plan.write_text(
            json.dumps(
                {
                    "base_url": f"http://127.0.0.1:{port}",
                    "rate": self.args.rate,
                    "seconds": self.args.minutes * 60,
                    "tenants": [t.plan() for t in tenants],
                }
            )
        )
        cmd = [sys.executable, "-m", "bench.soak_load", "--plan", str(plan), "--out", str(out)]
        reads = Db(db)
        load = subprocess.Popen(
            cmd, cwd=runner.REPO, stdout=subprocess.PIPE, stderr=(self.work / "load.log").open("wb")
        )
        print("\n" + header(pids), flush=True)
        last = (time.monotonic(), sum(cpu_seconds(pid) for pid in pids.values()))
        assert load.stdout is not None
        for raw in load.stdout:
            line = raw.decode(errors="replace").strip()
            if not line.startswith("SOAK_MINUTE "):
                continue
            minute = json.loads(line.split(" ", 1)[1])
            alive = {name: pid for name, pid in pids.items() if Path(f"/proc/{pid}").exists()}
            minute["rss"] = {name: rss_mb(pid) for name, pid in alive.items()}
            now, cpu = time.monotonic(), sum(cpu_seconds(pid) for pid in alive.values())
            minute["cores"] = (cpu - last[1]) / (now - last[0])
            last = (now, cpu)
            minute["db"] = reads.sample()
            self.minutes.append(minute)
            print(row(minute, pids), flush=True)
        if load.wait() != 0:
            raise RuntimeError(f"the load failed; see {self.work / 'load.log'}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result

    def drain(self, db: seed.Database, receiver: str) -> float:
        start = time.monotonic()
        reads = Db(db)
        quiet = 0
        while time.monotonic() - start < DRAIN_LIMIT:
            sample = reads.sample()
            quiet = quiet + 1 if sample["inbox"] == 0 and sample["deliveries"] == 0 else 0
            if quiet >= 2:  # twice: processing the inbox's last rows queues deliveries
                return time.monotonic() - start
            time.sleep(1)
        self.failures.append(f"backlogs did not drain within {DRAIN_LIMIT:.0f} s: {sample}")
        return time.monotonic() - start

    def verify(self, db: seed.Database, receiver: str, result: dict[str, Any]) -> None:
        reads = Db(db)
        totals = result["totals"]
        fives, lost = totals.get("5xx", 0), totals.get("transport", 0)
        print(
            f"\nanswers: {json.dumps(totals)}; shed by the load (over its in-flight cap): "
            f"{result['shed']}; Meta webhooks retried (not answered 200): {result['retried']}, "
            f"still undelivered: {result['undelivered']}"
        )
        if result["shed"] or result["undelivered"]:
            self.failures.append("the load could not deliver everything it meant to")
        if fives or lost:
            self.failures.append(f"{fives} answers were 5xx, {lost} requests got no answer")
            for error in result["errors"]:
                print("  " + error)
        sent = [w for t in result["tenants"].values() for w in t["sent"]]
        final = reads.rows(
            "SELECT status, count(*) AS n FROM messages WHERE direction = 'outbound' "
            "AND wamid = ANY($1::text[]) GROUP BY status",
            sent,
        )
        by_status = {r["status"]: r["n"] for r in final}
        stored = sum(by_status.values())
        read = by_status.get("read", 0)
        print(f"sends accepted: {len(sent)}, stored: {stored}, by status: {by_status}")
        if stored != len(sent) or read != len(sent):
            self.failures.append(f"{len(sent) - read} accepted sends did not end 'read'")
        inbound = [w for t in result["tenants"].values() for w in t["inbound"]]
        copies = reads.rows(
            "SELECT wamid, count(*) AS n FROM messages WHERE direction = 'inbound' "
            "AND wamid = ANY($1::text[]) GROUP BY wamid",
            inbound,
        )
        twice = sum(1 for r in copies if r["n"] != 1)
        refused = reads.rows("SELECT count(*) AS n FROM inbox_events WHERE error IS NOT NULL")
        print(
            f"inbound messages sent: {len(inbound)}, stored: {len(copies)}, stored twice: "
            f"{twice}; inbox rows that failed: {refused[0]['n']}"
        )
        if len(copies) != len(inbound) or twice or refused[0]["n"]:
            self.failures.append("inbound messages were lost, doubled or failed")
        events = {r["event_id"] for r in reads.rows("SELECT event_id FROM webhook_events")}
        seen: dict[str, int] = fetch_json(receiver + "/ids")
        stats = fetch_json(receiver + "/stats")
        missing = len(events - seen.keys())
        extra = len(seen.keys() - events)
        doubled = sum(1 for n in seen.values() if n > 1)
        undelivered = reads.rows(
            "SELECT state, count(*) AS n FROM webhook_deliveries GROUP BY state"
        )
        print(
            f"outbound events: {len(events)}, received: {len(seen)}, missing: {missing}, "
            f"unknown: {extra}, more than once: {doubled}, bad signatures: {stats['invalid']}; "
            f"deliveries by state: { {r['state']: r['n'] for r in undelivered} }"
        )
        if missing or extra or doubled or stats["invalid"]:
            self.failures.append("outbound events were lost, doubled or badly signed")

    def report_logs(self) -> None:
        """Errors the processes logged (JSON lines at level error)."""
        for name in ("serve", "worker"):
            lines = (self.work / f"{name}.log").read_text(errors="replace").splitlines()
            errors = [line for line in lines if '"level": "error"' in line]
            print(f"{name} log: {len(lines)} lines, {len(errors)} errors")
            for line in errors[:5]:
                print("  " + line[:300])

    def summary(self) -> None:
        if len(self.minutes) > 2:  # memory after warm-up (minute 2) against the last minute
            first, last = self.minutes[1]["rss"], self.minutes[-1]["rss"]
            growth = {k: f"{(last[k] / first[k] - 1):+.1%}" for k in last if first.get(k)}
            print(f"RSS change from minute 2 to the last: {growth}")
        print(latency_table(self.minutes))
        if self.failures:
            print("\nSOAK FAILED:\n  " + "\n  ".join(self.failures))
        else:
            print("\nsoak passed: nothing lost, nothing doubled, no 5xx")


def header(pids: dict[str, int]) -> str:
    rss = " ".join(f"{name:>7}" for name in pids)
    return (
        f"{'min':>3} {'req/s':>6} {'2xx':>6} {'4xx':>5} {'5xx':>4} {'lost':>4} | RSS MB {rss} | "
        f"{'pg':>3} {'inbox':>6} {'jobs':>5} {'deliv':>6} | {'in-flight':>9} {'cores':>5}"
    )


def row(m: dict[str, Any], pids: dict[str, int]) -> str:
    classes: dict[str, int] = {}
    for code, n in m["statuses"].items():
        key = "lost" if code == "0" else f"{code[0]}xx"
        classes[key] = classes.get(key, 0) + n
    rss = " ".join(f"{m['rss'].get(name, 0):7.0f}" for name in pids)
    d = m["db"]
    return (
        f"{m['minute']:>3} {m['requests'] / max(m['seconds'], 1):6.0f} {classes.get('2xx', 0):6d} "
        f"{classes.get('4xx', 0):5d} {classes.get('5xx', 0):4d} {classes.get('lost', 0):4d} | "
        f"       {rss} | {d['pg']:3d} {d['inbox']:6d} {d['jobs']:5d} {d['deliveries']:6d} | "
        f"{m['in_flight']:9d} {m['cores']:5.2f}"
    )


def latency_table(minutes: list[dict[str, Any]]) -> str:
    """p50/p99 (ms) per route and minute."""
    lines = ["\np50/p99 ms per route and minute (count in the last column is the total)"]
    for route in ROUTES:
        cells, count = [], 0
        for m in minutes:
            n, p50, p99 = m["routes"].get(route, [0, 0, 0])
            count += n
            cells.append(f"{p50:g}/{p99:g}" if n else "-")
        lines.append(f"{route:<34} " + " ".join(f"{c:>11}" for c in cells) + f"  n={count}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--rate", type=float, default=190.0, help="requests/s, webhooks included")
    p.add_argument("--meta-latency-ms", type=float, default=50.0, help="the fake Meta's delay")
    p.add_argument("--keep", action="store_true", help="keep the logs also when it passes")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="xobito-soak-"))
    code = 1
    try:
        code = Soak(args, work).run()
    finally:
        if code == 0 and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"logs (serve, worker, load, receiver, fake Meta): {work}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
