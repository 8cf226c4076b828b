"""``xobito demo``: the embedded default's ready-to-call workspace.

Creates workspace ``demo`` with a default status and a source, a token with every ability,
and a dashboard owner (``demo@example.com`` with a generated password), once. The token's
plaintext is kept in ``demo-token`` and the password in ``demo-password`` (mode 600) in the
data directory (``XOBITO_DATA_DIR``; by default the checkout's ``var/``),
so a second run can print them again; nothing else in Xobito stores a plaintext secret.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.account.passwords import verify_password
from xobito.account.repository import UserRepository
from xobito.account.service import UserService
from xobito.auth import tokens
from xobito.auth.abilities import ABILITIES
from xobito.auth.repository import TokenRepository
from xobito.auth.service import TokenService
from xobito.cli.common import Json, done, run
from xobito.config import get_settings
from xobito.label.service import SOURCES, STATUSES, LabelService
from xobito.workspace.repository import WorkspaceRepository
from xobito.workspace.service import WorkspaceService

SUBDOMAIN = "demo"
OWNER_EMAIL = "demo@example.com"


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


async def ensure_demo_owner(session: AsyncSession, saved: str | None) -> tuple[str | None, bool]:
    """The demo owner's password (``saved`` if it still signs in; None if the owner changed
    it in the dashboard) and whether it is new."""
    settings = get_settings()
    user = await UserRepository(session).by_email(OWNER_EMAIL)
    if user is not None:
        if saved and await verify_password(user.password_hash, saved, settings.password_hashing):
            return saved, False
        return None, False
    ws = await WorkspaceRepository(session).by_subdomain(SUBDOMAIN)
    assert ws is not None  # ensure_demo ran first
    made = await UserService(session, settings).create(
        ws, {"email": OWNER_EMAIL, "name": "Demo Owner", "role": "owner"}
    )
    assert made.generated_password is not None
    return made.generated_password, True


def _keep(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secret + "\n")
    os.chmod(path, 0o600)


def demo(
    token_file: Annotated[
        Path | None,
        typer.Option(help="Where the demo token is kept (default: demo-token in the data folder)"),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(help="Where the demo owner's password is kept (default: beside the token)"),
    ] = None,
    base_url: Annotated[str, typer.Option(help="Printed base URL")] = "http://127.0.0.1:8000",
    as_json: Json = False,
) -> None:
    """Create (once) the demo workspace, token and dashboard owner; print how to use them."""
    token_file = token_file or get_settings().data_dir / "demo-token"
    password_file = password_file or token_file.with_name("demo-password")
    saved = token_file.read_text().strip() if token_file.exists() else None
    saved_password = password_file.read_text().strip() if password_file.exists() else None

    async def work(session: Any) -> tuple[str, bool, str | None, bool]:
        token, token_is_new = await ensure_demo(session, saved)
        password, password_is_new = await ensure_demo_owner(session, saved_password)
        return token, token_is_new, password, password_is_new

    token, is_new, password, password_is_new = run(work)
    if is_new:
        _keep(token_file, token)
    if password_is_new and password is not None:
        _keep(password_file, password)
    api = f"{base_url}/api/v1/{SUBDOMAIN}"
    password_line = (
        f"  password: {password}  (also in {password_file})"
        if password is not None
        else "  password: changed in the dashboard since (forgotten? "
        f"xobito user reset-password {OWNER_EMAIL})"
    )
    done(
        {
            "api_base_url": api,
            "token": token,
            "token_file": str(token_file),
            "dashboard_url": f"{base_url}/app/login",
            "email": OWNER_EMAIL,
            "password": password,
            "password_file": str(password_file),
        },
        as_json,
        f"Dashboard: {base_url}/app/login",
        f"  email:    {OWNER_EMAIL}",
        password_line,
        f"Xobito API base URL: {api}",
        f"Demo token (also in {token_file}):",
        token,
        f'Try: curl -H "Authorization: Bearer $(cat {token_file})" {api}/contacts',
    )
