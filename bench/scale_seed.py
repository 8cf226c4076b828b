"""The scale benchmark's database: 1,000,000 contacts in workspace ``big`` and 100,000 in
``other`` (so the planner cannot treat the table as one tenant's), seeded once with COPY and
kept between runs.

```
.venv/bin/python -m bench.scale_seed [--database xobito_scale] [--contacts 1000000]
    [--other 100000] [--force]
```

The database is created on ``XOBITO_BENCH_PG_DSN``'s server, migrated to head, then filled:
per workspace five statuses, four sources, twenty groups, and contacts with names drawn from
short lists (so searches hit many rows, as in real address books), unique phones, an email on
70 %, spread over statuses, sources (10 % none) and groups (every contact in one group, 30 %
in a second). Each workspace gets a token with every ability and a rate limit no benchmark
reaches; the tokens are written to ``<database>.tokens.json`` next to this file (ignored by
git) so the benches can find them. ``--force`` drops and re-seeds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.seed import PG_ADMIN_DSN, TOKEN_RATE_LIMIT
from xobito.auth.abilities import ABILITIES
from xobito.auth.service import TokenService
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.kit.migrate import upgrade
from xobito.label.service import SOURCES, STATUSES, LabelService
from xobito.workspace.service import WorkspaceService

HERE = Path(__file__).resolve().parent
CHUNK = 50_000
FIRST = [
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Eva",
    "Filipe",
    "Gabriela",
    "Hugo",
    "Ines",
    "Joao",
    "Karina",
    "Luis",
    "Maria",
    "Nuno",
    "Olga",
    "Pedro",
    "Quim",
    "Rita",
    "Sofia",
    "Tiago",
    "Ursula",
    "Vasco",
    "Wanda",
    "Xavier",
    "Yara",
    "Zeca",
    "Alice",
    "Bob",
    "Chloe",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Ivy",
    "Jack",
    "Kate",
    "Liam",
    "Mia",
    "Noah",
    "Olivia",
    "Paul",
    "Quinn",
    "Rose",
    "Sam",
    "Tom",
    "Uma",
    "Victor",
    "Will",
    "Zoe",
]
LAST = [
    "Silva",
    "Santos",
    "Ferreira",
    "Pereira",
    "Oliveira",
    "Costa",
    "Rodrigues",
    "Martins",
    "Jesus",
    "Sousa",
    "Fernandes",
    "Goncalves",
    "Gomes",
    "Lopes",
    "Marques",
    "Alves",
    "Almeida",
    "Ribeiro",
    "Pinto",
    "Carvalho",
    "Teixeira",
    "Moreira",
    "Correia",
    "Mendes",
    "Nunes",
    "Soares",
    "Vieira",
    "Monteiro",
    "Cardoso",
    "Rocha",
    "Raposo",
    "Neves",
    "Coelho",
    "Cruz",
    "Cunha",
    "Pires",
    "Ramos",
    "Reis",
    "Simoes",
    "Antunes",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Anderson",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
]
COMPANIES = [f"{w} {k}" for w in ("Acme", "Globex", "Initech", "Umbrella") for k in ("Lda", "SA")]
COLUMNS = [
    "workspace_id",
    "firstname",
    "lastname",
    "company",
    "type",
    "email",
    "phone",
    "city",
    "source_id",
    "status_id",
    "is_enabled",
    "is_opted_out",
    "created_at",
    "updated_at",
]


def pg_dsn(database: str) -> str:
    return f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{database}"


def sa_url(database: str) -> str:
    return pg_dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)


def tokens_file(database: str) -> Path:
    return HERE / f"{database}.tokens.json"


async def _labels(url: str, subdomain: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            ws = await WorkspaceService(s).create({"subdomain": subdomain, "name": subdomain})
            _, token = await TokenService(s).create(
                ws,
                {"name": "bench", "abilities": list(ABILITIES), "rate_limit_max": TOKEN_RATE_LIMIT},
            )
            statuses = [
                (
                    await LabelService(STATUSES, s, ws.id).create(
                        {"name": name, "color": "#2196F3", "isdefault": i == 0}
                    )
                ).id
                for i, name in enumerate(("New", "Contacted", "Qualified", "Won", "Lost"))
            ]
            sources = [
                (await LabelService(SOURCES, s, ws.id).create({"name": name})).id
                for name in ("Website", "Referral", "Fair", "Ads")
            ]
            await s.commit()
            return {"workspace_id": ws.id, "token": token, "statuses": statuses, "sources": sources}
    finally:
        await engine.dispose()


def _rows(
    ws: int, n: int, phone_base: int, statuses: list[int], sources: list[int], seed: int
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{i}@example.com".lower() if rng.random() < 0.7 else None
        source = rng.choice(sources) if rng.random() < 0.9 else None
        at = start + timedelta(seconds=i * 60)
        yield (
            ws,
            first,
            last,
            rng.choice(COMPANIES) if rng.random() < 0.3 else None,
            rng.choice(("lead", "customer", "guest")),
            email,
            f"+{phone_base + i}",
            "Lisbon",
            source,
            rng.choice(statuses),
            True,
            rng.random() < 0.02,
            at,
            at,
        )


async def _fill(
    conn: asyncpg.Connection, info: dict[str, Any], n: int, phone_base: int, seed: int
) -> None:
    ws = info["workspace_id"]
    groups = [
        await conn.fetchval(
            "INSERT INTO groups (workspace_id, name, created_at, updated_at)"
            " VALUES ($1, $2, now(), now()) RETURNING id",
            ws,
            f"Group {g:02d}",
        )
        for g in range(20)
    ]
    info["groups"] = groups
    rows = _rows(ws, n, phone_base, info["statuses"], info["sources"], seed)
    while True:
        chunk = [r for _, r in zip(range(CHUNK), rows, strict=False)]
        if not chunk:
            break
        async with conn.transaction():
            first_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM contacts")
            await conn.copy_records_to_table("contacts", records=chunk, columns=COLUMNS)
            await conn.execute(
                "INSERT INTO contact_groups (contact_id, group_id)"
                " SELECT id, ($2::int[])[1 + id % 20] FROM contacts"
                " WHERE workspace_id = $1 AND id > $3"
                " UNION ALL SELECT id, ($2::int[])[1 + (id / 7) % 20] FROM contacts"
                " WHERE workspace_id = $1 AND id > $3 AND id % 10 < 3"
                " AND (id / 7) % 20 <> id % 20",
                ws,
                groups,
                first_id,
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="xobito_scale")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--other", type=int, default=100_000)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", args.database)
        if exists and not args.force:
            print(f"{args.database} exists; --force to seed it again")
            return
        await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{args.database}"')
    finally:
        await admin.close()
    started = time.monotonic()
    await asyncio.to_thread(upgrade, sa_url(args.database))
    big = await _labels(sa_url(args.database), "big")
    other = await _labels(sa_url(args.database), "other")
    conn = await asyncpg.connect(pg_dsn(args.database))
    try:
        await _fill(conn, big, args.contacts, 10_000_000_000, 1)
        await _fill(conn, other, args.other, 20_000_000_000, 2)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    tokens_file(args.database).write_text(json.dumps({"big": big, "other": other}, indent=2))
    print(f"seeded {args.database} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
