"""Admin operations on webhook endpoints (admin API and CLI)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.config import Settings
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.time import utcnow
from xobito.kit.validation import require
from xobito.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookLog
from xobito.webhook.events import emit
from xobito.webhook.forward_schemas import ForwardCreate, ForwardUpdate
from xobito.webhook.repository import EndpointRepository, forget_endpoints
from xobito.webhook.schemas import EVENT_NAMES, EndpointCreate, EndpointUpdate, new_secret
from xobito.webhook.urls import BLOCKED_MESSAGE, url_allowed

NOT_FOUND = "Webhook not found"


class WebhookService:
    """A workspace's endpoints of one kind; ``ForwardService`` (Meta webhook forwards) is
    this with other bodies, topics and test events."""

    kind = "xobito"
    not_found = NOT_FOUND
    create_body: type[EndpointCreate | ForwardCreate] = EndpointCreate
    update_body: type[EndpointUpdate | ForwardUpdate] = EndpointUpdate

    def __init__(self, session: AsyncSession, workspace_id: int, settings: Settings) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.settings = settings
        self.repo = EndpointRepository(session, workspace_id, self.kind)

    def topics(self, data: Any) -> list[str] | None:
        """What the endpoint subscribes to, from a create or update body (None: not given)."""
        return list(dict.fromkeys(data.events)) if data.events is not None else None

    def all_topics(self) -> list[str]:
        return list(EVENT_NAMES)

    def test_body(self, endpoint: WebhookEndpoint) -> dict[str, Any]:
        return {
            "event": "webhook.test",
            "model": "WebhookEndpoint",
            "data": {
                "id": endpoint.id,
                "tenant_id": self.workspace_id,
                "message": "This is a test event from Xobito.",
            },
            "timestamp": utcnow().replace(microsecond=0).isoformat(),
        }

    async def _check_url(self, url: str) -> None:
        if not self.settings.webhook_allow_private_urls and not await url_allowed(url):
            raise ValidationFailed({"url": [BLOCKED_MESSAGE]})

    async def create(self, raw: Any) -> tuple[WebhookEndpoint, str]:
        """Returns the endpoint and its secret, which is shown only this once."""
        forget_endpoints()
        data = require(self.create_body, raw)
        await self._check_url(str(data.url))
        secret = new_secret()
        endpoint = WebhookEndpoint(
            kind=self.kind,
            url=str(data.url),
            secret=secret,
            enabled=True if data.enabled is None else data.enabled,
            events=self.topics(data) or self.all_topics(),
        )
        endpoint = await self.repo.add(endpoint)
        self._note("created", f"Added webhook endpoint {endpoint.url}", endpoint.id)
        return endpoint, secret

    async def list(self) -> Sequence[WebhookEndpoint]:
        return await self.repo.all()

    async def get(self, endpoint_id: int) -> WebhookEndpoint:
        endpoint = await self.repo.get(endpoint_id)
        if endpoint is None:
            raise NotFound(self.not_found)
        return endpoint

    async def update(self, endpoint_id: int, raw: Any) -> WebhookEndpoint:
        forget_endpoints()
        endpoint = await self.get(endpoint_id)
        data = require(self.update_body, raw)
        if data.url is not None:
            await self._check_url(str(data.url))
            endpoint.url = str(data.url)
        topics = self.topics(data)
        if topics is not None:
            endpoint.events = topics
        if data.enabled is not None:
            endpoint.enabled = data.enabled
            if data.enabled:  # re-enabling clears the reason and the failure streak
                endpoint.disabled_reason = None
                endpoint.failing_since = None
        await self.session.flush()
        changed = ", ".join(sorted(data.model_fields_set)) or "nothing"
        self._note("updated", f"Changed webhook endpoint {endpoint.url} ({changed})", endpoint.id)
        return endpoint

    async def remove(self, endpoint_id: int) -> None:
        forget_endpoints()
        endpoint = await self.get(endpoint_id)
        await self.repo.remove(endpoint)
        self._note("deleted", f"Removed webhook endpoint {endpoint.url}", endpoint_id)

    async def rotate(self, endpoint_id: int) -> tuple[WebhookEndpoint, str]:
        """A new secret; the old one keeps signing (``webhook-signature``) for the overlap."""
        endpoint = await self.get(endpoint_id)
        secret = new_secret()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = utcnow() + timedelta(
            hours=self.settings.webhook_secret_overlap_hours
        )
        endpoint.secret = secret
        await self.session.flush()
        self._note("secret_rotated", f"Rotated the secret of {endpoint.url}", endpoint.id)
        return endpoint, secret

    async def test(self, endpoint_id: int) -> str:
        endpoint = await self.get(endpoint_id)
        body = self.test_body(endpoint)
        event_id = await emit(
            self.session,
            self.workspace_id,
            "webhook.test",
            "webhook.test",
            body,
            endpoint_ids=[endpoint.id],
        )
        assert event_id is not None
        self._note("test_sent", f"Sent a test event to {endpoint.url}", endpoint.id)
        return event_id

    async def logs(self, endpoint_id: int, limit: int, offset: int) -> Sequence[WebhookLog]:
        await self.get(endpoint_id)
        return await self.repo.logs(endpoint_id, limit, offset)

    async def attempts(
        self, endpoint_id: int, page: int, per_page: int
    ) -> tuple[Sequence[tuple[WebhookLog, bytes | None]], int]:
        """The dashboard's delivery log: a page of attempts with the bodies they sent."""
        await self.get(endpoint_id)
        return await self.repo.attempts(endpoint_id, per_page, (page - 1) * per_page)

    async def pending(self, endpoint_id: int) -> int:
        await self.get(endpoint_id)
        return await self.repo.pending(endpoint_id)

    async def redeliver(self, event_id: str, endpoint_id: int | None = None) -> int:
        """Queue the event again for every endpoint it went to (that still exists), or only
        for ``endpoint_id`` (the dashboard's delivery log of one endpoint): an event that
        never went there is not found."""
        event = (
            await self.session.execute(
                select(WebhookEvent).where(
                    WebhookEvent.event_id == event_id,
                    WebhookEvent.workspace_id == self.workspace_id,
                )
            )
        ).scalar_one_or_none()
        if event is None:
            raise NotFound("Webhook event not found")
        went_to = select(WebhookDelivery.endpoint_id).where(WebhookDelivery.event_id == event.id)
        if endpoint_id is not None:
            went_to = went_to.where(WebhookDelivery.endpoint_id == endpoint_id)
        endpoints = (await self.session.execute(went_to.distinct())).scalars().all()
        if endpoint_id is not None and not endpoints:
            raise NotFound("Webhook event not found")
        now = utcnow()
        self.session.add_all(
            WebhookDelivery(event_id=event.id, endpoint_id=e, state="pending", next_attempt_at=now)
            for e in endpoints
        )
        await self.session.flush()
        note(
            self.workspace_id,
            "webhook.redelivered",
            f"Queued event {event_id} ({event.event}) again",
            "webhook_event",
            event_id,
        )
        return len(endpoints)

    def _note(self, action: str, summary: str, endpoint_id: int) -> None:
        note(self.workspace_id, f"webhook.{action}", summary, "webhook", endpoint_id)
