"""Roles, and the bodies of account forms and admin calls (Laravel messages, docs/api/errors.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

from xobito.kit.time import iso
from xobito.kit.validation import Email, Len, RequestModel, Str255
from xobito.models import Membership, User

# Lowest first: a role may do everything the roles before it may.
ROLES: tuple[str, ...] = ("agent", "admin", "owner")
Role = Literal["agent", "admin", "owner"]


def rank(role: str) -> int:
    return ROLES.index(role)


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


# Emails are compared without case or surrounding spaces.
AccountEmail = Annotated[Email, BeforeValidator(_lower)]
# Two rules, two messages ("at least 8", "not greater than 255"), as Laravel reports them.
Password = Annotated[str, Len(max=255), Len(min=8)]


class UserCreate(RequestModel):
    email: AccountEmail
    name: Str255 | None = None
    role: Role
    password: Password | None = None


class SignIn(RequestModel):
    email: Annotated[str, Len(max=191)]
    password: Annotated[str, Len(max=255)]


class NewPassword(RequestModel):
    password: Password
    password_confirmation: str | None = None


class PasswordChange(NewPassword):
    current_password: Annotated[str, Len(max=255)]


class InvitationAccept(NewPassword):
    name: Str255


class InvitationCreate(RequestModel):
    email: AccountEmail
    role: Role


class RoleChange(RequestModel):
    role: Role


def confirmation_errors(data: Any) -> dict[str, list[str]]:
    """Laravel's ``confirmed`` rule for ``password`` (checked whenever one is given)."""
    if not isinstance(data, dict) or not isinstance(data.get("password"), str):
        return {}
    if data.get("password") != data.get("password_confirmation"):
        return {"password": ["The password confirmation does not match."]}
    return {}


def user_record(user: User, membership: Membership | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "last_sign_in_at": iso(user.last_sign_in_at),
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }
    if membership is not None:
        record["tenant_id"] = membership.workspace_id
        record["role"] = membership.role
    return record
