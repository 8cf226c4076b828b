"""The owner/admin pages of a workspace: Settings (API tokens, webhooks and Meta forwarding,
WhatsApp, team, inbox) and Activity, one module each; their routers, in the order ``app.py``
includes them. Every route of these modules needs the admin
role (``require_role("admin")``), agents get the 403 page."""

from __future__ import annotations

from fastapi import APIRouter

from xobito.web import activity, inbox_settings, team, tokens, webhooks, whatsapp

routers: tuple[APIRouter, ...] = (
    tokens.router,
    webhooks.router,
    whatsapp.router,
    team.router,
    inbox_settings.router,
    activity.router,
)
