"""Contacts at scale (issue 14), on the database ``bench.scale_seed`` made and keeps.

```
.venv/bin/python -m bench.scale [--database xobito_scale] [--only baseline,reads,...]
    [--duration 10] [--connections 50] [--import-rows 1000000]
```

Parts (all by default, in this order):

- ``baseline``: the product (``bench.bench_app``, one uvicorn worker, Redis rate limits) and
  the hand-written baseline (``bench.baseline_app``) on the same database, one after the
  other in one run, each under ``--connections`` keep-alive connections for ``--duration``
  seconds on ``GET /api/v1/big/contacts?per_page=15`` (and the same on ``other``, 100,000
  contacts): req/s, p50, p99, and the product's throughput over the baseline's. First, the
  same load on ``GET /bench/bare`` of the product's server (pre-encoded bytes, no auth, no
  database): the p99 floor of any endpoint on this machine at that many connections.
- ``reads``: p50/p99 of the product's list reads with one client (sequential requests), then
  under ``--connections``: page 1, page 5,000, searches by name, phone and email, filters by
  status, source and group, a keyset page deep in the table.
- ``audience``: ``contact.audience`` batches for one group and status over the 1,000,000.
- ``group_delete``: a group given to 500,000 contacts is deleted through the API while a
  probe lists and creates contacts; the probe's worst latency during the delete.
- ``export``: ``xobito contact export`` of 100,000 and of 1,000,000 contacts to /dev/null;
  time and peak memory (constant memory: the same peak for both).
- ``import``: ``xobito contact import`` of ``--import-rows`` generated rows into a new
  workspace (then deleted); time and peak memory.

Every part prints the machine's background load (cores busy before it starts) next to its
figures: this machine has 2 cores shared with other work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench import runner
from bench.scale_seed import pg_dsn, sa_url, tokens_file

PARTS = ("baseline", "reads", "audience", "group_delete", "export", "import")
REPO = Path(__file__).resolve().parent.parent


def load_note() -> str:
    return f"background load {runner.background_load(1.0):.2f} of 2 cores"


def env_for(database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XOBITO_")}
    env.update(
        XOBITO_DATABASE_URL=sa_url(database),
        XOBITO_REDIS_URL=os.environ.get("XOBITO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        XOBITO_REDIS_PREFIX=f"xobito-scale-{os.getpid()}",
        XOBITO_LOG_LEVEL="WARNING",
        XOBITO_WORKER_IN_PROCESS="false",
    )
    return env


@contextmanager
def serving(database: str, factory: str = "bench.bench_app:create_bench_app") -> Iterator[str]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        runner.server(runner.free_port(), env_for(database), Path(tmp), factory) as srv,
    ):
        yield srv.base_url


def loaded(url: str, token: str, connections: int, duration: float) -> dict[str, int]:
    load = runner.Load(url, connections, duration, {"Authorization": f"Bearer {token}"})
    runner.run_load(runner.Load(url, connections, 1.0, load.headers), "loadgen")  # warm-up
    return runner.run_load(load, "loadgen")


def rate(result: dict[str, int]) -> float:
    return result["requests"] / (result["duration_us"] / 1e6)


def row(name: str, result: dict[str, int]) -> str:
    errors = result["status_errors"] + result["read_errors"] + result["timeouts"]
    return (
        f"  {name:<34} {rate(result):8.0f} req/s  p50 {result['p50_us'] / 1000:7.1f} ms"
        f"  p99 {result['p99_us'] / 1000:7.1f} ms  errors {errors}"
    )


def part_baseline(args: argparse.Namespace, tokens: dict[str, Any]) -> None:
    print(f"\n## product vs hand-written baseline, {args.connections} connections ({load_note()})")
    # The floor of this machine: no auth, no database, pre-encoded bytes on the same server.
    # Through closed-loop connections, no endpoint's p99 gets below this one's.
    with serving(args.database) as base:
        bare = loaded(base + "/bench/bare", tokens["big"]["token"], args.connections, args.duration)
    print(row("bare endpoint (same server)", bare))
    for ws in ("big", "other"):
        path = f"/api/v1/{ws}/contacts?per_page=15"
        results = {}
        for name, factory in (
            ("product", "bench.bench_app:create_bench_app"),
            ("baseline", "bench.baseline_app:create_baseline_app"),
        ):
            with serving(args.database, factory) as base:
                results[name] = loaded(
                    base + path, tokens[ws]["token"], args.connections, args.duration
                )
            print(row(f"{name} {ws}", results[name]))
        ratio = rate(results["product"]) / max(1e-9, rate(results["baseline"]))
        print(f"  product / baseline throughput ({ws}): {ratio:.2f}x")


async def _sequential(base: str, token: str, path: str, n: int) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for i in range(n + 3):
            t0 = time.perf_counter()
            async with http.get(base + path) as r:
                await r.read()
                assert r.status == 200, (path, r.status)
            if i >= 3:  # the first few warm the caches
                times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000


def read_paths(tokens: dict[str, Any], deep_cursor: str) -> dict[str, str]:
    big = tokens["big"]
    base = "/api/v1/big/contacts?per_page=15"
    return {
        "page 1": base,
        "page 5000": f"{base}&page=5000",
        "search name 'silva'": f"{base}&search=silva",
        "search full name 'maria silva'": f"{base}&search=maria%20silva",
        "search phone '+100000123'": f"{base}&search=%2B100000123",
        "search email 'frank.pinto.424242@'": f"{base}&search=frank.pinto.424242%40",
        "filter status": f"{base}&status_id={big['statuses'][1]}",
        "filter source": f"{base}&source_id={big['sources'][2]}",
        "filter group": f"{base}&group_id={big['groups'][3]}",
        "keyset page at id 900000": f"{base}&cursor={deep_cursor}",
    }


def part_reads(args: argparse.Namespace, tokens: dict[str, Any]) -> None:
    from xobito.kit.cursor import encode

    paths = read_paths(tokens, encode(900_000))
    token = tokens["big"]["token"]
    with serving(args.database) as base:
        print(f"\n## reads, 1 client, {args.samples} requests each ({load_note()})")
        for name, path in paths.items():
            p50, p99 = asyncio.run(_sequential(base, token, path, args.samples))
            print(f"  {name:<34} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
        print(
            f"\n## reads, {args.connections} connections, {args.duration:.0f} s each"
            f" ({load_note()})"
        )
        for name, path in paths.items():
            print(row(name, loaded(base + path, token, args.connections, args.duration)))


async def _audience(database: str, tokens: dict[str, Any]) -> None:
    from xobito.contact.audience import Audience, audience_batches
    from xobito.kit.db import make_engine, make_sessionmaker

    big = tokens["big"]
    engine = make_engine(sa_url(database))
    try:
        async with make_sessionmaker(engine)() as s:
            for label, audience in (
                (
                    "group + status",
                    Audience(group_ids=(big["groups"][0],), status_ids=(big["statuses"][0],)),
                ),
                ("status (200,000)", Audience(status_ids=(big["statuses"][0],))),
                ("all 1,000,000", Audience(all=True)),
            ):
                t0, n = time.perf_counter(), 0
                async for batch in audience_batches(
                    s, big["workspace_id"], audience, batch_size=5000
                ):
                    n += len(batch)
                print(
                    f"  audience {label:<18} {n:8d} contacts in {time.perf_counter() - t0:6.2f} s"
                )
    finally:
        await engine.dispose()


def part_audience(args: argparse.Namespace, tokens: dict[str, Any]) -> None:
    print(f"\n## campaign audience, batches of 5,000 ({load_note()})")
    asyncio.run(_audience(args.database, tokens))


async def _group_delete(base: str, database: str, tokens: dict[str, Any]) -> None:
    big = tokens["big"]
    headers = {"Authorization": f"Bearer {big['token']}"}
    conn = await asyncpg.connect(pg_dsn(database))
    try:
        group = await conn.fetchval(
            "INSERT INTO groups (workspace_id, name, created_at, updated_at)"
            " VALUES ($1, $2, now(), now()) RETURNING id",
            big["workspace_id"],
            f"Half {time.time():.0f}",
        )
        t0 = time.perf_counter()
        await conn.execute(
            "INSERT INTO contact_groups (contact_id, group_id) SELECT id, $2 FROM contacts"
            " WHERE workspace_id = $1 ORDER BY id LIMIT 500000",
            big["workspace_id"],
            group,
        )
        await conn.execute("VACUUM ANALYZE contact_groups")
        print(f"  500,000 memberships added in {time.perf_counter() - t0:.1f} s")
    finally:
        await conn.close()
    stop = asyncio.Event()
    latencies: list[float] = []
    phones = iter(range(10**6))

    async def probe(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            t = time.perf_counter()
            async with http.get(f"{base}/api/v1/big/contacts?per_page=15") as r:
                await r.read()
            latencies.append(time.perf_counter() - t)
            body = {
                "firstname": "Probe",
                "lastname": "P",
                "type": "lead",
                "phone": f"+3{int(time.time())}{next(phones):06d}"[:16],
                "status_id": big["statuses"][0],
                "source_id": big["sources"][0],
                "groups": "Group 01",
            }
            t = time.perf_counter()
            async with http.post(f"{base}/api/v1/big/contacts", json=body) as r:
                await r.read()
            latencies.append(time.perf_counter() - t)

    async with aiohttp.ClientSession(headers=headers) as http:
        probes = [asyncio.create_task(probe(http)) for _ in range(2)]
        await asyncio.sleep(2)
        before = len(latencies)
        t0 = time.perf_counter()
        async with http.delete(f"{base}/api/v1/big/groups/{group}") as r:
            await r.read()
            status = r.status
        took = time.perf_counter() - t0
        during = sorted(latencies[before:])
        stop.set()
        await asyncio.gather(*probes)
    print(f"  DELETE group of 500,000: HTTP {status} in {took:.2f} s")
    if during:
        print(
            f"  other requests meanwhile: {len(during)}, p50 {statistics.median(during) * 1000:.1f}"
            f" ms, max {during[-1] * 1000:.1f} ms"
        )


def part_group_delete(args: argparse.Namespace, tokens: dict[str, Any]) -> None:
    print(f"\n## DELETE of a group used by 500,000 contacts ({load_note()})")
    with serving(args.database) as base:
        asyncio.run(_group_delete(base, args.database, tokens))


class Cpu:
    """CPU seconds of a ``xobito`` command (its process, from the kernel's accounting of
    reaped children) and of the PostgreSQL backends serving it (sampled while it runs: a
    backend's time is lost from /proc when it exits)."""

    def __init__(self) -> None:
        self.process = 0.0
        self.database = 0.0

    def text(self, rows: int | None = None) -> str:
        out = f"CPU: command {self.process:.1f} s + PostgreSQL {self.database:.1f} s"
        if rows:
            per = (self.process + self.database) / rows * 1e6
            out += f" = {per:.0f} µs per row"
        return out


def _backends(database: str, before: set[int]) -> dict[int, float]:
    """CPU seconds of the database's backends that were not there before the command."""
    found: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in before:
            continue
        try:
            if f" {database} ".encode() in (proc / "cmdline").read_bytes().replace(b"\0", b" "):
                found[int(proc.name)] = runner._proc_cpu((proc / "stat").read_text())
        except OSError:
            continue
    return found


def cli(args: list[str], database: str, cpu: Cpu | None = None) -> tuple[float, float, str]:
    """A ``xobito`` command in its own process: wall seconds, peak RSS (MiB), stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    existing = set(_backends(database, set()))
    seen: dict[int, float] = {}
    t0 = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+") as err,
        subprocess.Popen(
            [sys.executable, "-m", "xobito.cli.main", *args],
            env=env_for(database),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        ) as proc,
    ):
        while proc.poll() is None:
            seen.update(_backends(database, existing))
            time.sleep(0.2)
        took = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.process = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        cpu.database = sum(seen.values())
    if proc.returncode != 0:
        raise RuntimeError(stderr[-2000:])
    return took, max(after.ru_maxrss, before.ru_maxrss) / 1024, stderr[-300:]


def part_export(args: argparse.Namespace, tokens: dict[str, Any]) -> None:
    print(f"\n## export to /dev/null ({load_note()})")
    for ws, n in (("other", "100,000"), ("big", "1,000,000")):
        took, peak, _ = cli(["contact", "export", ws, "--output", "/dev/null"], args.database)
        print(f"  {ws:<6} {n:>9} contacts: {took:6.1f} s, peak RSS so far {peak:6.0f} MiB")


def _csv(path: Path, rows: int, tokens: dict[str, Any]) -> None:
    statuses, sources = tokens["statuses"], tokens["sources"]
    with path.open("w") as f:
        f.write("firstname,lastname,phone,email,type,status_id,source_id,groups\n")
        for i in range(rows):
            f.write(
                f"Imp{i % 977},Ort{i % 331},+4{4_000_000_000 + i},imp{i}@example.org,lead,"
                f"{statuses[i % len(statuses)]},{sources[i % len(sources)]},"
                f"Import {i % 7}\n"
            )


def part_import(args: argparse.Namespace, tokens: dict[str, Any]) -> None:
    print(f"\n## import of {args.import_rows:,} rows into a new workspace ({load_note()})")
    from bench.scale_seed import _labels

    subdomain = f"imp{int(time.time())}"
    info = asyncio.run(_labels(sa_url(args.database), subdomain))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        _csv(path, args.import_rows, info)
        print(f"  file: {path.stat().st_size / 2**20:.0f} MiB")
        cpu = Cpu()
        took, peak, tail = cli(
            ["contact", "import", subdomain, str(path), *args.import_args.split()],
            args.database,
            cpu,
        )
    print(f"  {took:6.1f} s ({args.import_rows / took:,.0f} rows/s), peak RSS {peak:.0f} MiB")
    print(f"  {cpu.text(args.import_rows)}")
    print(f"  {tail.strip().splitlines()[-1] if tail.strip() else ''}")

    async def drop() -> None:
        conn = await asyncpg.connect(pg_dsn(args.database))
        try:
            await conn.execute("DELETE FROM workspaces WHERE id = $1", info["workspace_id"])
        finally:
            await conn.close()

    asyncio.run(drop())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="xobito_scale")
    parser.add_argument("--only", default=",".join(PARTS))
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--import-args", default="", help="more `contact import` options")
    args = parser.parse_args()
    tokens = json.loads(tokens_file(args.database).read_text())
    print(
        f"# bench.scale on {args.database}: {os.cpu_count()} cores, loadavg"
        f" {os.getloadavg()[0]:.1f}"
    )
    for part in args.only.split(","):
        globals()[f"part_{part}"](args, tokens)


if __name__ == "__main__":
    main()
