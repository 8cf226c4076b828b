"""Inbound half of ``bench.messaging``: Meta webhooks accepted per second, and processed per
second by one ``xobito worker`` process.

(a) accept: wrk POSTs signed status webhooks (Meta's format, ``xobito.testing.meta_webhooks``)
    to ``/webhooks/whatsapp``; every body is distinct and pre-signed (wrk reads them from a
    file). Counted: 200 answers per second, and the inbox rows the run added (durably stored).
(b) process: a backlog of inbox rows is bulk-inserted (statuses ``delivered`` then ``read``
    for seeded outbound messages, and one inbound text message in ten, a fifth of them from
    unknown numbers), then one ``xobito worker`` runs until the inbox is empty.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy import insert

from bench import messaging_kit as kit
from bench import runner, seed, spy
from bench.messaging_kit import APP_SECRET, PHONE_NUMBER_ID, WABA_ID
from xobito.kit.db import make_engine
from xobito.kit.time import utcnow
from xobito.models import InboxEvent, Message
from xobito.testing.meta_webhooks import (
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
    sign_payload,
)

WEBHOOK_PATH = "/webhooks/whatsapp"
OUTBOUND = 25_000  # seeded outbound messages the statuses refer to
NEW_SENDER_BASE = 4_000_000_000  # inbound messages from numbers no contact has: +1 4000000000..
ACCEPT_TARGET = PROCESS_TARGET = 2000.0
WORKER_VARIANTS = {"owner-cache", "endpoint-cache", "uvloop", "gc"}

ACCEPT_LUA = """
local requests, n, i = {}, 0, 0
function init(args)
  local offset = 0
  for line in io.lines(args[1]) do
    local sig, body = line:match("^(%S+) (.*)$")
    n = n + 1
    requests[n] = wrk.format("POST", nil,
      {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = sig}, body)
  end
end
function request()
  i = i % n + 1
  return requests[i]
end
"""


def wamid(i: int) -> str:
    return "wamid." + base64.b64encode(f"bench-outbound-{i:08d}".encode()).decode()


async def seed_outbound(url: str, ws: kit.Workspace) -> None:
    """``OUTBOUND`` sent messages spread over the seeded contacts (and their chats)."""
    contacts = ws.order()
    now = utcnow()
    rows = []
    for i in range(OUTBOUND):
        contact = contacts[i % len(contacts)]
        rows.append(
            {
                "workspace_id": ws.workspace_id,
                "chat_id": ws.chats[contact],
                "contact_id": contact,
                "wamid": wamid(i),
                "direction": "outbound",
                "type": "text",
                "phone": ws.phones[contact],
                "phone_number_id": PHONE_NUMBER_ID,
                "text": f"Bench message {i}",
                "payload": {"type": "text", "text": {"body": f"Bench message {i}"}},
                "status": "sent",
                "sent_at": now,
            }
        )
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(Message), rows)
    finally:
        await engine.dispose()


def status_body(i: int, status: str, phone: str) -> bytes:
    update = StatusUpdate(wamid(i), status, phone.lstrip("+"))  # type: ignore[arg-type]
    payload = build_status_webhook([update], phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID)
    return orjson.dumps(payload)


def recipient(ws: kit.Workspace, i: int) -> str:
    """The phone of the contact the ``i``-th seeded message went to (as in seed_outbound)."""
    contacts = ws.order()
    return ws.phones[contacts[i % len(contacts)]]


def accept_file(ws: kit.Workspace, path: Path, count: int) -> None:
    """``count`` distinct signed status webhooks (delivered, then read), one per line."""
    with path.open("wb") as f:
        for k in range(count):
            i, status = k % OUTBOUND, ("delivered", "read")[(k // OUTBOUND) % 2]
            body = status_body(i, status, recipient(ws, i))
            f.write(sign_payload(body, APP_SECRET).encode() + b" " + body + b"\n")


def backlog_bodies(ws: kit.Workspace, total: int) -> list[bytes]:
    """Nine status webhooks in ten (each message's delivered, later its read), one inbound
    text message in ten (a fifth of those from a number no contact has yet)."""
    bodies: list[bytes] = []
    inbound = statuses = 0
    for k in range(total):
        if k % 10 == 9:
            inbound += 1
            if inbound % 5 == 0:
                sender = f"1{NEW_SENDER_BASE + inbound}"
            else:
                sender = recipient(ws, inbound).lstrip("+")
            payload = build_text_message_webhook(
                sender,
                f"Inbound {inbound}",
                wamid=f"wamid.bench-inbound-{inbound:08d}",
                phone_number_id=PHONE_NUMBER_ID,
                waba_id=WABA_ID,
            )
            bodies.append(orjson.dumps(payload))
            continue
        half = (total * 9 // 10 + 1) // 2
        i, status = (statuses, "delivered") if statuses < half else (statuses - half, "read")
        bodies.append(status_body(i % OUTBOUND, status, recipient(ws, i % OUTBOUND)))
        statuses += 1
    return bodies


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def sql(url: str, query: str, *params: Any) -> Any:
    conn = await asyncpg.connect(pg_dsn(url))
    try:
        return await conn.fetchval(query, *params)
    finally:
        await conn.close()


async def load_backlog(url: str, bodies: list[bytes]) -> None:
    conn = await asyncpg.connect(pg_dsn(url))
    try:
        await conn.execute("DELETE FROM inbox_events")
        now = utcnow()
        # verified_for "*": as the app-level secret verifies them (a NULL row would make the
        # worker look up what an older version's signature check covered).
        await conn.copy_records_to_table(
            "inbox_events",
            records=[(b, now, 0, '"*"') for b in bodies],
            columns=["body", "received_at", "attempts", "verified_for"],
        )
        await conn.execute("VACUUM ANALYZE")  # as autovacuum would after a bulk load
    finally:
        await conn.close()


# ---- (a) accept ----------------------------------------------------------------------------


def accept(
    args: argparse.Namespace, db: seed.Database, ws: kit.Workspace, work: Path
) -> kit.Measured:
    bodies = work / "webhooks.txt"
    accept_file(ws, bodies, 2 * OUTBOUND)
    with kit.app_server(kit.server_env(db, "http://127.0.0.1:9/v23.0"), work) as srv:
        target = srv.base_url + WEBHOOK_PATH
        load = kit.Load(srv, None, db.pg_database)
        if args.warmup > 0:
            kit.run_wrk(target, ACCEPT_LUA, [str(bodies)], args.connections, args.warmup)
        kit.settle(load)
        stored_before = kit.settled_count(db.url, InboxEvent)
        before = load.snapshot()
        run = kit.run_wrk(target, ACCEPT_LUA, [str(bodies)], args.connections, args.duration)
        after = load.snapshot()
        stored = kit.settled_count(db.url, InboxEvent) - stored_before
    span = kit.Span(before, after, args.connections, stored)
    return load.measure(f"POST {WEBHOOK_PATH} (status, signed)", 0, run, span)


# ---- (b) process ---------------------------------------------------------------------------


@dataclass
class Processed:
    rows: int
    wall_seconds: float  # from the worker's start to an empty inbox (includes start-up)
    steady_rows_per_s: float  # rows / (last processed_at - first processed_at)
    wall_rows_per_s: float
    worker_cpu_us_per_row: float
    cores: dict[str, float]  # worker, database, other
    failed_rows: int
    statuses_read: int
    inbound_stored: int
    jobs_queued: int


def worker_env(db: seed.Database) -> dict[str, str]:
    env = kit.server_env(db, "http://127.0.0.1:9/v23.0")
    env.pop("XOBITO_WORKER_IN_PROCESS")
    return env


RESET = [
    "DELETE FROM messages WHERE direction = 'inbound'",
    "DELETE FROM chats WHERE contact_id IN (SELECT id FROM contacts WHERE type = 'guest')",
    "DELETE FROM contacts WHERE type = 'guest'",
    "UPDATE messages SET status = 'sent', delivered_at = NULL, read_at = NULL",
    "UPDATE chats SET last_inbound_at = NULL",
    "DELETE FROM jobs",
]


async def reset(url: str) -> None:
    """Undo a processing run, so the next one starts from the same state."""
    conn = await asyncpg.connect(pg_dsn(url))
    try:
        for query in RESET:
            await conn.execute(query)
    finally:
        await conn.close()


def process(
    args: argparse.Namespace,
    db: seed.Database,
    bodies: list[bytes],
    work: Path,
    variant: str = "none",
) -> tuple[Processed, str | None]:
    asyncio.run(reset(db.url))
    asyncio.run(load_backlog(db.url, bodies))
    env = {**worker_env(db), "XOBITO_BENCH_VARIANTS": variant}
    if variant == "none":
        cmd = [str(Path(sys.executable).parent / "xobito"), "worker"]
    else:
        cmd = [sys.executable, "-m", "bench.passthrough_app", "worker"]
    log = (work / f"worker-{variant}.log").open("wb")
    rows = pending = len(bodies)
    profile = None
    machine0 = runner._machine_busy()
    db0 = runner._postgres_cpu(str(db.pg_database))
    t0 = time.monotonic()
    worker = subprocess.Popen(cmd, env=env, cwd=runner.REPO, stdout=log, stderr=log)
    sampler = None
    out = Path(tempfile.gettempdir()) / "xobito-bench-profile-worker.txt"
    profiling = args.profile and variant == "none"
    try:
        deadline = t0 + max(300.0, rows / 50)
        while pending > 0:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker stopped or too slow; see {log.name}")
            time.sleep(0.2)
            query = "SELECT count(*) FROM inbox_events WHERE processed_at IS NULL"
            pending = asyncio.run(sql(db.url, query))
            if profiling and sampler is None and pending < rows:
                sampler = spy.record(worker.pid, args.profile_seconds, out)  # start-up done
        wall = time.monotonic() - t0
        worker_cpu = runner._proc_cpu(Path(f"/proc/{worker.pid}/stat").read_text())
        machine = runner._machine_busy() - machine0
        db_cpu = runner._postgres_cpu(str(db.pg_database)) - db0
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
        log.close()
    if sampler is not None:
        _, err = sampler.communicate(timeout=args.profile_seconds + 30)
        if not out.exists():
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')}")
        profile = f"worker under py-spy (200 Hz); collapsed stacks: {out}\n"
        profile += kit.summarize(out, WORKER_RULES)
    spread = asyncio.run(
        sql(
            db.url,
            "SELECT extract(epoch FROM max(processed_at) - min(processed_at)) FROM inbox_events",
        )
    )
    counts = {
        "failed": "SELECT count(*) FROM inbox_events WHERE error IS NOT NULL",
        "read": "SELECT count(*) FROM messages WHERE status = 'read'",
        "inbound": "SELECT count(*) FROM messages WHERE direction = 'inbound'",
        "jobs": "SELECT count(*) FROM jobs",
    }
    found = {k: int(asyncio.run(sql(db.url, q))) for k, q in counts.items()}
    other = max(0.0, machine - worker_cpu - db_cpu)
    return Processed(
        rows=rows,
        wall_seconds=wall,
        steady_rows_per_s=rows / max(1e-9, float(spread)),
        wall_rows_per_s=rows / wall,
        worker_cpu_us_per_row=worker_cpu / rows * 1e6,
        cores={"worker": worker_cpu / wall, "database": db_cpu / wall, "other": other / wall},
        failed_rows=found["failed"],
        statuses_read=found["read"],
        inbound_stored=found["inbound"],
        jobs_queued=found["jobs"],
    ), profile


WORKER_RULES: kit.Rules = [
    ("event loop + C callbacks (asyncpg protocol)", "asyncio/runners.py", None),
    ("worker loop, batch COMMIT (flush of updates)", "xobito/jobs/worker.py", None),
    ("claim batch (SELECT … FOR UPDATE SKIP LOCKED)", None, "claim_inbox"),
    ("job batch poll (claim_due)", None, "claim_due"),
    ("parse body (orjson) + dispatch", "xobito/inbound/service.py", None),
    ("routing: owner_of(phone_number_id)", None, "owner_of"),
    ("status: SELECT message FOR UPDATE", None, "by_wamid"),
    ("status batch: lock + load the messages (one query)", None, "MessageStates.lock"),
    ("status batch: state machine + event bodies", None, "StatusBatch.apply"),
    ("status batch: UPDATE (one executemany)", None, "MessageStates.save"),
    ("status: state machine", "xobito/message/statemachine.py", None),
    ("inbound: dedup, workspace, contact, chat, INSERT", None, "InboundProcessor.message"),
    ("inbound: dedup, workspace, contact, chat, INSERT", "xobito/message/recipient.py", None),
    ("inbound: dedup, workspace, contact, chat, INSERT", "xobito/message/repository.py", None),
    ("inbound: parse message", "xobito/inbound/parsing.py", None),
    ("inbound batch: stored wamids, contacts, chats (per batch)", None, "_senders"),
    ("outbound webhook events (outbox)", "xobito/webhook/", None),
    ("ORM flush (UPDATE/INSERT statements)", "sqlalchemy/orm/persistence.py", None),
    ("ORM flush (UPDATE/INSERT statements)", "sqlalchemy/orm/unitofwork.py", None),
    ("ORM hydration (rows → objects)", "sqlalchemy/orm/loading.py", None),
]


# ---- report --------------------------------------------------------------------------------


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    idle = runner.background_load()
    print(f"\n== Inbound webhooks (PostgreSQL); idle load before start {idle:.2f} cores ==")
    with seed.database("postgres", work) as db:
        ws = asyncio.run(kit.prepare(db.url))
        asyncio.run(seed_outbound(db.url, ws))
        print("(a) accept rate, wrk, 1 thread", flush=True)
        print(kit.HEADER)
        accepted = accept(args, db, ws, work)
        print(kit.row(accepted), flush=True)
        for line in kit.noise_warning([accepted]):
            print(line)
        ok = "met" if accepted.rps >= ACCEPT_TARGET else "NOT met"
        print(
            f"accepted {accepted.rps:.0f}/s (target ≥ {ACCEPT_TARGET:.0f}/s: {ok}); {accepted.ok} "
            f"answered 200, {accepted.stored} rows stored (in-flight ones at the end included)"
        )
        print(
            f"\n(b) process rate: {args.backlog:,} inbox rows, one `xobito worker` "
            "(batches of 200, one transaction each)",
            flush=True,
        )
        print(PROCESS_HEADER, flush=True)
        bodies = backlog_bodies(ws, args.backlog)
        done, profile = process(args, db, bodies, work)
        print(process_row("xobito worker", done), flush=True)
        ok = "met" if done.steady_rows_per_s >= PROCESS_TARGET else "NOT met"
        print(
            f"processed {done.steady_rows_per_s:.0f} rows/s (target ≥ {PROCESS_TARGET:.0f}/s: {ok})"
        )
        variants = {}
        if args.variants:
            print(
                f"\nproposals (src/ patched in a bench wrapper of `xobito worker`), the first "
                f"{args.variant_backlog:,} rows of the same backlog:"
            )
            subset = bodies[: args.variant_backlog]
            for variant in ["none", *kit.relevant(args.variants, WORKER_VARIANTS)]:
                measured, _ = process(args, db, subset, work, variant)
                print(process_row(f"variant {variant}", measured), flush=True)
                variants[variant] = asdict(measured)
    if profile:
        print("\n== Profile of the worker ==\n" + profile, flush=True)
    return {"accept": asdict(accepted), "process": asdict(done), "variants": variants}


PROCESS_HEADER = (
    f"{'worker':<36} {'rows':>6} {'wall s':>6} {'rows/s':>6} {'wall/s':>6} {'µs/row':>6}  "
    "cores: worker/db/other  failed  read inbound jobs"
)


def process_row(name: str, done: Processed) -> str:
    c = done.cores
    return (
        f"{name:<36} {done.rows:6d} {done.wall_seconds:6.1f} {done.steady_rows_per_s:6.0f} "
        f"{done.wall_rows_per_s:6.0f} {done.worker_cpu_us_per_row:6.0f}  "
        f"{c['worker']:.2f}/{c['database']:.2f}/{c['other']:.2f}{'':>9}"
        f"{done.failed_rows:6d} {done.statuses_read:5d} {done.inbound_stored:7d} "
        f"{done.jobs_queued:4d}"
    )
