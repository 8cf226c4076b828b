"""The soak's two workspaces: each with 10,000 contacts and their chats (bench.seed's rows), a
token with every ability and a rate limit the load cannot reach, a default status and a
source, a Cloud API connection of its own (number, WABA, app secret) to the fake Graph API,
the care window off, and one webhook endpoint for every event at the local receiver."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import insert, select

from bench import seed
from xobito.auth.abilities import ABILITIES
from xobito.auth.service import TokenService
from xobito.config import Settings
from xobito.connection.service import ConnectionService
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.label.service import SOURCES, STATUSES, LabelService
from xobito.models import Chat, Contact
from xobito.webhook.service import WebhookService
from xobito.workspace.service import WorkspaceService

TENANTS = (
    ("soak-a", "106540352240001", "419561257910001"),
    ("soak-b", "106540352240002", "419561257910002"),
)


@dataclass
class SeededTenant:
    subdomain: str
    token: str
    phone_number_id: str
    waba_id: str
    app_secret: str
    status_id: int
    source_id: int
    contacts: list[tuple[int, str]]
    hook_path: str
    hook_secret: str

    def plan(self) -> dict[str, object]:
        """What the load process needs (``soak_load.Tenant``)."""
        fields = asdict(self)
        fields.pop("hook_path")
        fields.pop("hook_secret")
        return fields


async def seed_tenants(url: str, hook_base: str) -> list[SeededTenant]:
    engine = make_engine(url)
    # The receiver is on 127.0.0.1: the servers allow private URLs (XOBITO_WEBHOOK_...).
    settings = Settings(_env_file=None, webhook_allow_private_urls=True)  # type: ignore[call-arg]
    sessions = make_sessionmaker(engine)
    seeded = []
    try:
        for subdomain, phone_number_id, waba_id in TENANTS:
            async with sessions() as s:
                ws = await WorkspaceService(s).create(
                    {"subdomain": subdomain, "name": f"Soak {subdomain}"}
                )
                _, token = await TokenService(s).create(
                    ws,
                    {
                        "name": "soak",
                        "abilities": list(ABILITIES),
                        "rate_limit_max": seed.TOKEN_RATE_LIMIT,
                    },
                )
                status = await LabelService(STATUSES, s, ws.id).create(
                    {"name": "New", "color": "#2196F3", "isdefault": True}
                )
                source = await LabelService(SOURCES, s, ws.id).create({"name": "Website"})
                ws = await WorkspaceService(s).update(subdomain, {"enforce_care_window": False})
                app_secret = f"soak-app-secret-{subdomain}"
                await ConnectionService(s).connect(
                    ws,
                    {
                        "provider": "cloud",
                        "waba_id": waba_id,
                        "phone_number_ids": [phone_number_id],
                        "access_token": f"soak-access-token-{subdomain}",
                        "app_secret": app_secret,
                        "verify_token": f"soak-verify-{subdomain}",
                    },
                )
                path = f"/hook/{subdomain}"
                _, secret = await WebhookService(s, ws.id, settings).create(
                    {"url": hook_base + path}
                )
                await s.commit()
                workspace_id, status_id, source_id = ws.id, status.id, source.id
            async with engine.begin() as conn:
                await conn.execute(
                    insert(Contact), seed.contact_rows(workspace_id, status_id, source_id)
                )
                rows = (
                    await conn.execute(
                        select(Contact.id, Contact.phone).where(
                            Contact.workspace_id == workspace_id
                        )
                    )
                ).all()
                await conn.execute(
                    insert(Chat), [{"workspace_id": workspace_id, "contact_id": r.id} for r in rows]
                )
            seeded.append(
                SeededTenant(
                    subdomain,
                    token,
                    phone_number_id,
                    waba_id,
                    app_secret,
                    status_id,
                    source_id,
                    [(r.id, r.phone) for r in rows],
                    path,
                    secret,
                )
            )
        await seed._settle(engine, url)
        return seeded
    finally:
        await engine.dispose()
