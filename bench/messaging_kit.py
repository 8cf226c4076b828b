"""What ``bench.messaging`` and ``bench.inbound`` share: the fake Graph API, server and wrk
processes, the seeded workspace, CPU accounting, the result table and profile summaries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select

from bench import runner, seed, spy
from xobito.connection.service import ConnectionService
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.models import Chat, Contact
from xobito.workspace.service import WorkspaceService

PHONE_NUMBER_ID = "106540352242922"  # meta_webhooks.DEFAULT_PHONE_NUMBER_ID
WABA_ID = "419561257915477"
ACCESS_TOKEN = "bench-access-token"
APP_SECRET = "bench-app-secret"
WRK_TIMEOUT = "10s"


# ---- processes -----------------------------------------------------------------------------


@dataclass
class Fake:
    process: subprocess.Popen[bytes]
    base_url: str  # http://127.0.0.1:PORT/v23.0

    @property
    def root(self) -> str:
        return self.base_url.rsplit("/", 1)[0]

    def cpu_seconds(self) -> float:
        return runner._proc_cpu(Path(f"/proc/{self.process.pid}/stat").read_text())

    def call(self, path: str, body: Mapping[str, object] | None = None) -> dict[str, object]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + path, data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(req, timeout=5) as resp:
            result: dict[str, object] = json.loads(resp.read())
            return result

    def set_latency(self, ms: float) -> None:
        self.call("/_fake/config", {"latency_ms": ms})

    def requests(self) -> int:
        return int(str(self.call("/_fake/state")["request_count"]))


@contextmanager
def fake_graph(latency_ms: float, log_dir: Path) -> Iterator[Fake]:
    """The fake Graph API in its own process, without schema validation (so it stays cheap;
    the tests validate every payload we send)."""
    cmd = [sys.executable, "-m", "xobito.testing.fake_graph", "--port", "0"]
    cmd += ["--latency-ms", str(latency_ms), "--no-validate"]
    err = (log_dir / "fake-graph.log").open("wb")
    process = subprocess.Popen(cmd, cwd=runner.REPO, stdout=subprocess.PIPE, stderr=err)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        if not line.startswith("fake Graph API on "):
            raise RuntimeError(f"fake Graph API did not start: {line!r}")
        fake = Fake(process, line.rsplit(" ", 1)[1])
        deadline = time.monotonic() + 20
        while True:  # the port is bound before uvicorn serves: wait for the first answer
            try:
                fake.requests()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield fake
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        err.close()


@contextmanager
def app_server(
    env: Mapping[str, str], log_dir: Path, variant: str = "none"
) -> Iterator[runner.Server]:
    """uvicorn as ``xobito serve`` runs it, on the pass-through app factory (a copy of
    ``runner.server``, which is bound to the contacts bench's factory)."""
    port = runner.free_port()
    cmd = [sys.executable, "-m", "uvicorn", "bench.passthrough_app:create_passthrough_app"]
    cmd += ["--factory", "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop"]
    cmd += ["--http", "httptools", "--no-access-log", "--log-level", "warning"]
    cmd += ["--backlog", "4096"]
    log = log_dir / f"server-{port}.log"
    env = {**env, "XOBITO_BENCH_VARIANTS": variant}
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=runner.REPO, env=env, stdout=out, stderr=out)
    srv = runner.Server(process, f"http://127.0.0.1:{port}", log)
    try:
        runner._wait_ready(srv)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(db: seed.Database, graph_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XOBITO_")}
    env.update(
        XOBITO_DATABASE_URL=db.url,
        XOBITO_REDIS_PREFIX=db.redis_prefix,
        XOBITO_GRAPH_BASE_URL=graph_url,
        XOBITO_WORKER_IN_PROCESS="false",
        XOBITO_LOG_LEVEL="WARNING",
        XOBITO_BENCH_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
        XOBITO_BENCH_ACCESS_TOKEN=ACCESS_TOKEN,
    )
    if db.redis_url:
        env["XOBITO_REDIS_URL"] = db.redis_url
    return env


# ---- data ----------------------------------------------------------------------------------


@dataclass
class Workspace:
    token: str
    workspace_id: int
    chats: dict[int, int]  # contact id -> chat id
    phones: dict[int, str]  # contact id -> E.164

    def order(self) -> list[int]:
        """Contact ids, ascending (computed once)."""
        if not hasattr(self, "_order"):
            self._order = sorted(self.chats)
        return self._order


async def prepare(url: str) -> Workspace:
    """bench.seed's workspace (10,000 contacts, a token with an unreachable rate limit),
    connected to the cloud provider, care window off, and one chat per contact (the steady
    state of a workspace that has talked to its contacts before)."""
    ids = await seed.seed(url)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            ws = await WorkspaceService(s).update(seed.SUBDOMAIN, {"enforce_care_window": False})
            connect = {
                "provider": "cloud",
                "waba_id": WABA_ID,
                "phone_number_ids": [PHONE_NUMBER_ID],
                "access_token": ACCESS_TOKEN,
                "app_secret": APP_SECRET,
                "verify_token": "bench-verify",
            }
            await ConnectionService(s).connect(ws, connect)
            await s.commit()
            workspace_id = ws.id
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(Contact.id, Contact.phone).where(Contact.workspace_id == workspace_id)
                )
            ).all()
            phones = {r.id: r.phone for r in rows}
            result = await conn.execute(
                insert(Chat).returning(Chat.id, Chat.contact_id),
                [{"workspace_id": workspace_id, "contact_id": cid} for cid in phones],
            )
            chats = {r.contact_id: r.id for r in result}
        return Workspace(ids.token, workspace_id, chats, phones)
    finally:
        await engine.dispose()


async def count_rows(url: str, model: type[object]) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())
    finally:
        await engine.dispose()


def settle(load: Load, timeout: float = 120.0) -> None:
    """Wait until the requests still in flight when wrk stopped have finished (at 600
    connections a slow server has hundreds queued), so they do not load the next run."""
    deadline = time.monotonic() + timeout
    last = (load.fake.requests() if load.fake else 0, load.srv.cpu_seconds())
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = (load.fake.requests() if load.fake else 0, load.srv.cpu_seconds())
        if now[0] == last[0] and now[1] - last[1] < 0.05:
            return
        last = now


def settled_count(url: str, model: type[object]) -> int:
    """The row count once requests still in flight when the load stopped have finished."""
    last = asyncio.run(count_rows(url, model))
    while True:
        time.sleep(0.5)
        now = asyncio.run(count_rows(url, model))
        if now == last:
            return now
        last = now


# ---- load ----------------------------------------------------------------------------------


def run_wrk(
    url: str,
    lua: str,
    args: list[str],
    connections: int,
    duration: float,
    headers: Mapping[str, str] | None = None,
) -> dict[str, int]:
    script = lua + "\n" + (runner.BENCH_DIR / "wrk" / "report.lua").read_text()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", WRK_TIMEOUT]
        cmd += ["-s", f.name]
        for key, value in (headers or {}).items():
            cmd += ["-H", f"{key}: {value}"]
        cmd += [url, "--", *args]
        return runner._result(subprocess.run(cmd, capture_output=True, text=True, check=False))
    finally:
        os.unlink(f.name)


@dataclass
class Measured:
    route: str
    latency_ms: float
    connections: int
    requests: int
    ok: int  # 2xx answers
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    stored: int | None  # rows the run added (messages or inbox events); None when not stored
    server_cpu_us_per_request: float
    cores: dict[str, float]  # server, database, fake, loadgen, other


Snap = tuple[runner.CpuSnapshot, float]  # the machine's CPU, and the fake's


@dataclass
class Span:
    before: Snap
    after: Snap
    connections: int
    stored: int | None


@dataclass
class Load:
    srv: runner.Server
    fake: Fake | None
    pg_database: str | None

    def snapshot(self) -> Snap:
        fake = self.fake.cpu_seconds() if self.fake else 0.0
        return runner.snapshot(self.srv, self.pg_database), fake

    def measure(self, route: str, latency: float, run: dict[str, int], span: Span) -> Measured:
        (b, fb), (a, fa) = span.before, span.after
        cores = b.cores(a)
        fake_cores = (fa - fb) / max(1e-9, a.wall - b.wall)
        cores["other"] = max(0.0, cores["other"] - fake_cores)
        cores["fake"] = fake_cores
        seconds = run["duration_us"] / 1e6
        errors = sum(v for k, v in run.items() if k.endswith("_errors") or k == "timeouts")
        return Measured(
            route=route,
            latency_ms=latency,
            connections=span.connections,
            requests=run["requests"],
            ok=run["requests"] - run["status_errors"],
            rps=(run["requests"] - run["status_errors"]) / seconds,
            p50_ms=run["p50_us"] / 1000,
            p99_ms=run["p99_us"] / 1000,
            errors=errors,
            stored=span.stored,
            server_cpu_us_per_request=(a.server - b.server) / max(1, run["requests"]) * 1e6,
            cores=cores,
        )


def row(m: Measured) -> str:
    c = m.cores
    stored = "-" if m.stored is None else str(m.stored)
    return (
        f"{m.route:<34} {m.latency_ms:5.0f} {m.connections:5d} {m.rps:7.0f} {m.p50_ms:7.1f} "
        f"{m.p99_ms:7.1f} {m.errors:6d} {stored:>7} {m.server_cpu_us_per_request:8.0f}  "
        f"{c['server']:.2f}/{c['database']:.2f}/{c['fake']:.2f}/{c['loadgen']:.2f}/"
        f"{c['other']:.2f}"
    )


HEADER = (
    f"{'route':<34} {'Meta':>5} {'conns':>5} {'ok/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
    f"{'errors':>6} {'stored':>7} {'µs/req':>8}  cores: server/db/fake/wrk/other"
)


def noise_warning(results: list[Measured]) -> list[str]:
    if any(m.cores["other"] > 0.25 for m in results):
        return [
            "Warning: other processes used over a quarter of a core during a measurement "
            "(column 'other'); the numbers are noisy, run again on a quiet machine."
        ]
    return []


def relevant(variants: list[str], names: set[str]) -> list[str]:
    """The variants (``a+b`` combinations, ``all``) that only patch code in ``names``."""
    return [v for v in variants if v == "all" or set(v.split("+")) <= names]


# ---- profiles ------------------------------------------------------------------------------

Rules = list[tuple[str, str | None, str | None]]


def classify(stack: list[str], rules: Rules) -> str:
    for frame in reversed(stack):
        func_name, _, location = frame.rpartition(" (")
        for category, path, name in reversed(rules):
            if (path is None or path in location) and (name is None or name in func_name):
                return category
    if any("sqlalchemy/" in frame for frame in stack):
        return "SQLAlchemy execution (greenlet: caching, result set-up, asyncpg)"
    return "other"


def summarize(path: Path, rules: Rules, top: int = 15) -> str:
    samples = spy.load_samples(path)
    total = sum(n for _, n in samples) or 1
    categories: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for stack, n in samples:
        categories[classify(stack, rules)] += n
        leaves[stack[-1]] += n
    lines = [f"{total} busy samples (idle excluded)", "share   component (deepest match)"]
    lines += [f"{100 * n / total:5.1f} %  {c}" for c, n in categories.most_common()]
    lines += ["", f"share   top {top} functions by self time"]
    lines += [f"{100 * n / total:5.1f} %  {f}" for f, n in leaves.most_common(top)]
    return "\n".join(lines)


def prioritize(nice: int) -> None:
    """Run this process and every process it starts at ``nice``. With autogroup scheduling a
    nice value only counts inside its session, so the bench takes a session of its own and
    sets that group's nice too."""
    os.setpriority(os.PRIO_PROCESS, 0, nice)
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if autogroup.exists() and autogroup.read_text().strip() == "1":
        with contextlib.suppress(PermissionError):  # already a session leader
            os.setsid()
        Path("/proc/self/autogroup").write_text(str(nice))
