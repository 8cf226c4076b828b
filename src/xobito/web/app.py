"""The dashboard sub-application, mounted at ``/app``: its own middleware (security headers),
its own CSRF check on every request, its own error handlers (``errors.py``: HTML, never the
API's JSON envelope), and one router per page group.

It shares the API application's state (settings, database sessionmakers, rate limiter, WhatsApp
providers), so pages call the same services in the same way: one database session and one
commit per request (``DatabaseRoute``), the activity log written in that transaction.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from xobito.web import (
    account,
    auth,
    campaign_wizard,
    campaigns,
    contact_import,
    contacts,
    csrf,
    errors,
    events,
    inbox,
    inbox_actions,
    labels,
    media,
    message_templates,
    settings,
)
from xobito.web.security import SecurityHeadersMiddleware


def create_web_app(parent: FastAPI) -> FastAPI:
    web = FastAPI(
        title="Xobito dashboard",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf.check)],
    )
    web.state = parent.state
    # Workspace pages first: their paths have a fixed second segment (``/{subdomain}/contacts``)
    # and cannot be shadowed by the account pages; the bare ``/{subdomain}`` comes last.
    for router in (
        events.router,
        inbox.router,
        inbox_actions.router,
        media.router,
        contact_import.router,  # before contacts: /contacts/import is not /contacts/{id}
        contacts.router,
        *labels.routers,
        message_templates.router,
        campaign_wizard.router,  # before campaigns: /campaigns/new is not /campaigns/{id}
        campaigns.router,
        *settings.routers,
        auth.router,
        account.router,
        auth.workspace_home,
    ):
        web.include_router(router)
    errors.install(web)
    web.add_middleware(SecurityHeadersMiddleware, hsts=parent.state.settings.env == "production")
    return web
