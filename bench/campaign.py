"""Campaign engine throughput and pacing (issue 13).

    .venv/bin/python -m bench.campaign [--recipients 100000] [--rate 1000] [--latency-ms 250]

On a fresh PostgreSQL database (with Redis for the shared bucket), one ``xobito worker``
process sends a campaign of ``--recipients`` to the fake Graph API (its own process, 250 ms
per answer) at ``--rate`` per second; then a 2,000-recipient campaign at 80/s. Printed:
sustained sends/s (first to last send, from the stored ``sent_at``), pacing accuracy at
80/s, the worker's and PostgreSQL's CPU per send, the worker's memory (RSS) sampled every
second (flat = no growth with the campaign), and the machine's load average (the baseline:
a loaded machine slows everything it measures).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
from sqlalchemy import func, insert, select, text, update

from bench import runner, seed
from bench.messaging_kit import fake_graph, prepare, server_env
from xobito.campaign.service import CampaignService
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.kit.time import utcnow
from xobito.models import Campaign, CampaignRecipient, Contact, SendingNumber, Template
from xobito.workspace.schemas import WorkspaceInfo
from xobito.workspace.service import WorkspaceService

AREAS = ("212", "646", "917", "718", "347", "929", "332", "201", "305", "415", "312", "617")


def valid_phones() -> Iterator[str]:
    """Distinct numbers libphonenumber calls valid (the engine excludes invalid ones before
    the first send, so bench.seed's +1 200… numbers would all be counted as excluded)."""
    for area in AREAS:
        for exchange in range(234, 1000):
            prefix = f"+1{area}{exchange}"
            if exchange % 100 == 11 or not phonenumbers.is_valid_number(
                phonenumbers.parse(f"{prefix}0000")
            ):
                continue
            for line in range(10_000):
                yield f"{prefix}{line:04d}"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def setup(url: str, recipients: int, number: str) -> int:
    ws = await prepare(url)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            ids = list((await s.scalars(select(Contact.id).order_by(Contact.id))).all())
            phones = valid_phones()
            if ids:  # one statement (see the INSERT below)
                await s.execute(
                    text(
                        "UPDATE contacts SET phone = v.phone FROM unnest("
                        "CAST(:ids AS integer[]), CAST(:phones AS text[])) AS v(id, phone) "
                        "WHERE contacts.id = v.id"
                    ),
                    {"ids": ids, "phones": [next(phones) for _ in ids]},
                )
            status_source = (await s.execute(select(Contact.status_id, Contact.source_id))).first()
            now = utcnow()
            rows = []
            for i in range(max(0, recipients - len(ids))):
                rows.append({
                    "workspace_id": ws.workspace_id, "firstname": f"C{i}", "type": "lead",
                    "phone": next(phones), "status_id": status_source[0] if status_source
                    else None, "source_id": status_source[1] if status_source else None,
                    "is_enabled": True, "is_opted_out": False, "created_at": now,
                    "updated_at": now,
                })
            # One multi-row INSERT per chunk: an executemany runs the statement-level tally
            # trigger once per row, and 90,000 updates of one tally row in a transaction
            # slow down quadratically.
            for i in range(0, len(rows), 2000):
                await s.execute(insert(Contact).values(rows[i : i + 2000]))
            s.add(Template(workspace_id=ws.workspace_id, template_id="1", template_name="promo",
                           language="en_US", status="APPROVED", category="MARKETING",
                           body_data="Hi {{1}}!", body_params_count=1))
            s.add(SendingNumber(workspace_id=ws.workspace_id, phone_number_id=number,
                                rate_per_second=1000))
            await s.commit()
        return ws.workspace_id
    finally:
        await engine.dispose()


async def create(url: str, workspace_id: int, rate: int, contact_ids: list[int] | None) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            ws = await WorkspaceService(s).get(seed.SUBDOMAIN)
            await s.execute(update(SendingNumber).values(rate_per_second=rate))
            audience = {"contact_ids": contact_ids} if contact_ids else {"all": True}
            campaign = await CampaignService(s, WorkspaceInfo.of(ws)).create({
                "name": f"bench {rate}/s", "template_name": "promo", "template_language": "en_US",
                "variables": {"field_1": {"type": "contact", "field": "firstname"}},
                "audience": audience, "rate_per_second": rate,
            })
            await s.commit()
            return campaign.id
    finally:
        await engine.dispose()


async def progress(url: str, campaign_id: int) -> tuple[str, int, object, object]:
    engine = make_engine(url)
    try:
        async with engine.connect() as c:
            state = await c.scalar(select(Campaign.state).where(Campaign.id == campaign_id))
            row = (await c.execute(
                select(func.count(), func.min(CampaignRecipient.sent_at),
                       func.max(CampaignRecipient.sent_at))
                .where(CampaignRecipient.campaign_id == campaign_id,
                       CampaignRecipient.sent_at.is_not(None))
            )).one()
            return str(state), int(row[0]), row[1], row[2]
    finally:
        await engine.dispose()


def watch(url: str, campaign_id: int, worker: subprocess.Popen[bytes], db: str) -> dict[str, float]:
    cpu0, pg0, t0 = runner._proc_cpu(Path(f"/proc/{worker.pid}/stat").read_text()), \
        runner._postgres_cpu(db), time.monotonic()
    memory: list[float] = []
    while True:
        state, sent, first, last = asyncio.run(progress(url, campaign_id))
        memory.append(rss_mb(worker.pid))
        print(f"  t={time.monotonic() - t0:6.1f}s sent={sent:7d} rss={memory[-1]:6.1f} MB "
              f"state={state}", flush=True)
        if state in ("completed", "failed", "cancelled") or worker.poll() is not None:
            break
        time.sleep(1.0)
    cpu = runner._proc_cpu(Path(f"/proc/{worker.pid}/stat").read_text()) - cpu0
    pg = runner._postgres_cpu(db) - pg0
    span = (last - first).total_seconds() if first and last else 0.0  # type: ignore[operator]
    return {"sent": sent, "span": span, "rate": sent / span if span else 0.0,
            "cpu_ms": 1000 * cpu / max(sent, 1), "pg_ms": 1000 * pg / max(sent, 1),
            "rss_first": memory[min(3, len(memory) - 1)], "rss_max": max(memory),
            "rss_last": memory[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=250.0)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="xobito-bench-campaign-") as tmp, \
            seed.database("postgres", Path(tmp)) as db, \
            fake_graph(args.latency_ms, Path(tmp)) as fake:
        from bench.messaging_kit import PHONE_NUMBER_ID

        workspace_id = asyncio.run(setup(db.url, args.recipients, PHONE_NUMBER_ID))
        env = server_env(db, fake.base_url)
        env["XOBITO_LOG_LEVEL"] = "WARNING"
        log = (Path(tmp) / "worker.log").open("wb")
        worker = subprocess.Popen([str(Path(sys.executable).parent / "xobito"), "worker"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            campaign = asyncio.run(create(db.url, workspace_id, args.rate, None))
            print(f"campaign of {args.recipients} at {args.rate}/s, Graph latency "
                  f"{args.latency_ms} ms")
            big = watch(db.url, campaign, worker, str(db.pg_database))
            few = asyncio.run(first_ids(db.url, 2000))
            slow = asyncio.run(create(db.url, workspace_id, 80, few))
            print("campaign of 2000 at 80/s")
            paced = watch(db.url, slow, worker, str(db.pg_database))
            # The pacing case: 2,000 at 200/s with two workers sharing the bucket.
            second = subprocess.Popen(
                [str(Path(sys.executable).parent / "xobito"), "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                fast = asyncio.run(create(db.url, workspace_id, 200, few))
                print("campaign of 2000 at 200/s, two workers")
                cpu2 = runner._proc_cpu(Path(f"/proc/{second.pid}/stat").read_text())
                two = watch(db.url, fast, worker, str(db.pg_database))
                # Which worker sent is not stored: the second one's CPU shows it took part.
                cpu2 = runner._proc_cpu(Path(f"/proc/{second.pid}/stat").read_text()) - cpu2
            finally:
                second.terminate()
                second.wait(60)
        finally:
            worker.terminate()
            worker.wait(60)
            log.close()
        print()
        print(f"sustained: {big['rate']:.0f} sends/s ({big['sent']} in {big['span']:.1f} s; "
              f"target >= 950 at {args.rate}/s)")
        print(f"pacing at 80/s: {paced['rate']:.2f}/s ({100 * paced['rate'] / 80:.1f} %)")
        print(
            f"2000 at 200/s, two workers: {two['span']:.2f} s first to last send (target 10 s"
            f" +/- 10 %); CPU ms per send: first worker {two['cpu_ms']:.2f},"
            f" second {1000 * cpu2 / max(two['sent'], 1):.2f}"
        )
        print(f"worker CPU per send: {big['cpu_ms']:.3f} ms; PostgreSQL CPU per send: "
              f"{big['pg_ms']:.3f} ms")
        print(f"worker RSS: {big['rss_first']:.0f} MB after 3 s, max {big['rss_max']:.0f} MB, "
              f"at the end {big['rss_last']:.0f} MB")
        print(f"load average after: {os.getloadavg()}")


async def first_ids(url: str, n: int) -> list[int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as c:
            return list((await c.scalars(select(Contact.id).order_by(Contact.id).limit(n))).all())
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
