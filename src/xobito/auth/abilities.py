"""The only ability strings a token may carry (docs/api/authentication.md)."""

from __future__ import annotations

ABILITIES: tuple[str, ...] = (
    *(
        f"{res}.{act}"
        for res in ("contacts", "statuses", "sources", "groups")
        for act in ("create", "read", "update", "delete")
    ),
    "templates.read",
    "templatebots.read",
    "messagebots.read",
    "messages.send",
    # Beyond Xobito v1: the team inbox's conversations (read; assign, resolve, reopen).
    "chats.read",
    "chats.update",
    *(f"campaigns.{act}" for act in ("create", "read", "update", "delete")),
)
