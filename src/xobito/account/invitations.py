"""Invitations: a one-time link (expires in ``invitation_days``) that brings an email
address into a workspace with a role. A new person sets their name and password with it; a
person who already has an account accepts it signed in as that account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.account.links import digest, new_secret
from xobito.account.passwords import hash_password
from xobito.account.repository import (
    InvitationRepository,
    MembershipRepository,
    UserRepository,
    invitation_by_hash,
)
from xobito.account.schemas import InvitationAccept, InvitationCreate, confirmation_errors, rank
from xobito.activity.recorder import note
from xobito.config import Settings
from xobito.kit.errors import Forbidden, NotFound, ValidationFailed
from xobito.kit.time import utcnow
from xobito.kit.validation import merge, parse, require
from xobito.models import Invitation, Membership, User, Workspace

INVALID = "This invitation link is invalid or has expired."
ALREADY_MEMBER = "This email already belongs to a member of this workspace."
NOT_FOUND = "Invitation not found"


class InvitationService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    async def create(
        self, workspace_id: int, raw: Any, *, actor_role: str, invited_by: int | None
    ) -> tuple[Invitation, str]:
        """The invitation and its link secret, shown only this once."""
        data = require(InvitationCreate, raw)
        if rank(data.role) > rank(actor_role):
            raise Forbidden(f"Inviting an {data.role} needs the {data.role} role.")
        user = await UserRepository(self.session).by_email(data.email)
        if user is not None and await MembershipRepository(self.session).of(user.id, workspace_id):
            raise ValidationFailed({"email": [ALREADY_MEMBER]})
        secret = new_secret()
        invitation = await InvitationRepository(self.session, workspace_id).add(
            Invitation(
                email=data.email,
                role=data.role,
                token_hash=digest(secret),
                invited_by_id=invited_by,
                expires_at=utcnow() + timedelta(days=self.settings.invitation_days),
            )
        )
        note(
            workspace_id,
            "member.invited",
            f"Invited {data.email} as {data.role}",
            "invitation",
            invitation.id,
        )
        return invitation, secret

    async def pending(self, workspace_id: int) -> Sequence[Invitation]:
        return await InvitationRepository(self.session, workspace_id).pending(utcnow())

    async def revoke(self, workspace_id: int, invitation_id: int) -> Invitation:
        invitation = await InvitationRepository(self.session, workspace_id).get(invitation_id)
        if invitation is None or invitation.accepted_at or invitation.revoked_at:
            raise NotFound(NOT_FOUND)
        invitation.revoked_at = utcnow()
        await self.session.flush()
        note(
            workspace_id,
            "member.invitation_revoked",
            f"Revoked the invitation of {invitation.email}",
            "invitation",
            invitation.id,
        )
        return invitation

    async def find(self, secret: str) -> tuple[Invitation, Workspace, User | None]:
        """A usable invitation, its workspace and the account its email already has."""
        found = (
            await invitation_by_hash(self.session, digest(secret)) if len(secret) <= 128 else None
        )
        if (
            found is None
            or found.accepted_at is not None
            or found.revoked_at is not None
            or found.expires_at <= utcnow()
        ):
            raise NotFound(INVALID)
        workspace = await self.session.get(Workspace, found.workspace_id)
        if workspace is None:
            raise NotFound(INVALID)
        return found, workspace, await UserRepository(self.session).by_email(found.email)

    async def accept_new(self, secret: str, raw: Any) -> tuple[User, Workspace]:
        """A person without an account: name and password make one, in the workspace."""
        invitation, workspace, existing = await self.find(secret)
        if existing is not None:
            raise Forbidden(f"Sign in as {invitation.email} to accept this invitation.")
        data, errors, _ = parse(InvitationAccept, raw)
        errors = merge(InvitationAccept, errors, confirmation_errors(raw))
        if errors or data is None:
            raise ValidationFailed(errors)
        user = await UserRepository(self.session).add(
            User(
                email=invitation.email,
                name=data.name,
                password_hash=await hash_password(data.password, self.settings.password_hashing),
                password_changed_at=utcnow(),
            )
        )
        await self._join(invitation, user)
        return user, workspace

    async def accept_existing(self, secret: str, user: User) -> Workspace:
        """A signed-in person whose account has the invited email."""
        invitation, workspace, existing = await self.find(secret)
        if existing is None or existing.id != user.id:
            raise Forbidden(f"This invitation is for {invitation.email}.")
        if await MembershipRepository(self.session).of(user.id, workspace.id) is None:
            await self._join(invitation, user)
        else:
            invitation.accepted_at = utcnow()
        return workspace

    async def _join(self, invitation: Invitation, user: User) -> Membership:
        invitation.accepted_at = utcnow()
        membership = await MembershipRepository(self.session).add(
            Membership(user_id=user.id, workspace_id=invitation.workspace_id, role=invitation.role)
        )
        note(
            invitation.workspace_id,
            "member.joined",
            f"{user.email} joined as {invitation.role}",
            "user",
            user.id,
        )
        return membership
