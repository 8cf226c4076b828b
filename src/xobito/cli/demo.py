"""``xobito demo``: the embedded default's ready-to-call workspace.

Creates workspace ``demo`` with a default status and a source, and a token with every
ability, once. The token's plaintext is kept in ``var/demo-token`` (mode 600) so a second run
can print it again; nothing else in Xobito stores a plaintext token.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.auth import tokens
from xobito.auth.abilities import ABILITIES
from xobito.auth.repository import TokenRepository
from xobito.auth.service import TokenService
from xobito.cli.common import console, run
from xobito.label.service import SOURCES, STATUSES, LabelService
from xobito.workspace.repository import WorkspaceRepository
from xobito.workspace.service import WorkspaceService

SUBDOMAIN = "demo"


async def ensure_demo(session: AsyncSession, saved: str | None) -> tuple[str, bool]:
    """The demo token (``saved`` if it still works, else a new one) and whether it is new."""
    ws = await WorkspaceRepository(session).by_subdomain(SUBDOMAIN)
    if ws is None:
        ws = await WorkspaceService(session).create({"subdomain": SUBDOMAIN, "name": "Demo"})
        await LabelService(STATUSES, session, ws.id).create(
            {"name": "New", "color": "#2196F3", "isdefault": True}
        )
        await LabelService(SOURCES, session, ws.id).create({"name": "Website"})
    if saved:
        row = await TokenRepository(session).by_hash(tokens.digest(saved))
        if row is not None and row.workspace_id == ws.id and row.is_active:
            return saved, False
    _, plaintext = await TokenService(session).create(
        ws, {"name": "demo", "abilities": list(ABILITIES)}
    )
    return plaintext, True


def demo(
    token_file: Annotated[Path, typer.Option(help="Where the demo token is kept")] = Path(
        "var/demo-token"
    ),
    base_url: Annotated[str, typer.Option(help="Printed base URL")] = "http://127.0.0.1:8000",
) -> None:
    """Create (once) the demo workspace and token, and print how to call the API."""

    saved = token_file.read_text().strip() if token_file.exists() else None

    async def work(session: Any) -> tuple[str, bool]:
        return await ensure_demo(session, saved)

    token, is_new = run(work)
    if is_new:
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(token + "\n")
        os.chmod(token_file, 0o600)
    console.print(f"Xobito API base URL: {base_url}/api/v1/{SUBDOMAIN}", highlight=False)
    console.print(f"Demo token (also in {token_file}):", highlight=False)
    console.print(token, markup=False, highlight=False, soft_wrap=True)
    console.print(
        f'Try: curl -H "Authorization: Bearer $(cat {token_file})" '
        f"{base_url}/api/v1/{SUBDOMAIN}/contacts",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
