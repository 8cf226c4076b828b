"""Who is asking: the signed-in user, their membership of the workspace in the URL, and the
one role check every workspace page goes through (``require_role``).

Anonymous → redirect to sign-in (``SignInRequired``). A workspace that does not exist or that
the user is not a member of → 404 (it is not theirs to know about). A member whose role is
below the page's → 403, naming the role needed. A record of another workspace is never found
(services are scoped to the member's workspace) → 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from xobito.account.repository import MembershipRepository
from xobito.account.schemas import ROLES, rank
from xobito.account.sessions import SessionService, SignedIn
from xobito.activity.recorder import Actor, act_as
from xobito.config import Settings
from xobito.kit.errors import Forbidden, NotFound, XobitoError
from xobito.models import User, Workspace
from xobito.web.csrf import SESSION_COOKIE
from xobito.workspace.schemas import WorkspaceInfo

WORKSPACE_NOT_FOUND = "Workspace not found"


class SignInRequired(XobitoError):
    """No live session: ``errors.py`` sends the browser to the sign-in page."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("Sign in to continue.")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def viewer(request: Request) -> SignedIn | None:
    """The signed-in session of this request, if any (resolved once per request)."""
    if hasattr(request.state, "viewer"):
        found: SignedIn | None = request.state.viewer
        return found
    session: AsyncSession = request.state.session
    signed = await SessionService(session, request.app.state.settings).resolve(
        request.cookies.get(SESSION_COOKIE)
    )
    request.state.viewer = signed
    if signed is not None:
        user = signed.user
        act_as(Actor("user", user.id, f"{user.name} <{user.email}>", client_ip(request)))
    return signed


async def signed_in(request: Request) -> SignedIn:
    signed = await viewer(request)
    if signed is None:
        raise SignInRequired()
    return signed


@dataclass(frozen=True, slots=True)
class Member:
    """A signed-in user inside one of their workspaces: what every workspace page gets."""

    user: User
    workspace: Workspace
    role: str
    signed: SignedIn
    session: AsyncSession
    settings: Settings
    # Every workspace of the user and their role there, for the switcher.
    workspaces: tuple[tuple[Workspace, str], ...]

    @property
    def info(self) -> WorkspaceInfo:
        return WorkspaceInfo.of(self.workspace)

    def can(self, role: str) -> bool:
        """Whether this member has ``role`` or a higher one (templates hide what they can't)."""
        return rank(self.role) >= rank(role)

    def url(self, path: str = "") -> str:
        """An absolute path inside this workspace's pages: ``url("/contacts")``."""
        return f"/app/{self.workspace.subdomain}{path}"


def role_needed(role: str) -> str:
    return f"This page needs the {role} role or higher."


def require_role(role: str) -> Callable[..., Awaitable[Member]]:
    """Dependency of a workspace page (path parameter ``subdomain``) for ``role`` and up."""
    if role not in ROLES:
        raise ValueError(role)

    async def dependency(request: Request, subdomain: str) -> Member:
        signed = await signed_in(request)
        session: AsyncSession = request.state.session
        workspaces = tuple(await MembershipRepository(session).workspaces_of(signed.user.id))
        found = next(((ws, r) for ws, r in workspaces if ws.subdomain == subdomain), None)
        if found is None:
            raise NotFound(WORKSPACE_NOT_FOUND)
        workspace, my_role = found
        member = Member(
            signed.user,
            workspace,
            my_role,
            signed,
            session,
            request.app.state.settings,
            workspaces,
        )
        request.state.member = member
        recorder_actor = getattr(request.state, "activity", None)
        if recorder_actor is not None:
            recorder_actor.workspace_id = workspace.id
        if rank(my_role) < rank(role):
            raise Forbidden(role_needed(role))
        return member

    dependency.__name__ = f"require_{role}"
    dependency.role = role  # type: ignore[attr-defined]
    return dependency


def Role(role: str) -> Member:
    """``member: Member = Role("admin")`` in a page handler's signature."""
    return cast(Member, Depends(require_role(role)))
