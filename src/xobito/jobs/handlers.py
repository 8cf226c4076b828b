"""Every job kind the worker knows, and the inbox processor."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign.optout import REPLY_JOB
from xobito.campaign.tasks import opt_out_reply
from xobito.contact.tasks import import_gave_up, import_step
from xobito.contact.uploads import IMPORT_JOB
from xobito.inbound.service import UNKNOWN_STATUS_JOB
from xobito.inbound.tasks import process_inbox, status_retry
from xobito.jobs.worker import GiveUpHandler, JobHandler
from xobito.message.sending import SANDBOX_STATUS_JOB
from xobito.message.tasks import sandbox_status
from xobito.whatsapp.base import WhatsAppProvider


def job_handlers(providers: dict[str, WhatsAppProvider]) -> dict[str, JobHandler]:
    """The handlers of one worker; ``providers`` (its process's, kept by reference: one
    swapped in later is the one used) send what jobs send, never another app's."""

    async def reply(session: AsyncSession, payload: dict[str, Any]) -> None:
        await opt_out_reply(session, payload, providers)

    return {
        SANDBOX_STATUS_JOB: sandbox_status,
        UNKNOWN_STATUS_JOB: status_retry,
        REPLY_JOB: reply,
        IMPORT_JOB: import_step,
    }


def give_up_handlers() -> dict[str, GiveUpHandler]:
    """What ends when a job of that kind is set aside for good (see ``GiveUpHandler``)."""
    return {IMPORT_JOB: import_gave_up}


__all__ = ["give_up_handlers", "job_handlers", "process_inbox"]
