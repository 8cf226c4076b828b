"""Every job kind the worker knows, and the inbox processor."""

from __future__ import annotations

from xobito.campaign.optout import REPLY_JOB
from xobito.campaign.tasks import opt_out_reply
from xobito.contact.tasks import import_step
from xobito.contact.uploads import IMPORT_JOB
from xobito.inbound.service import UNKNOWN_STATUS_JOB
from xobito.inbound.tasks import process_inbox, status_retry
from xobito.jobs.worker import JobHandler
from xobito.message.sending import SANDBOX_STATUS_JOB
from xobito.message.tasks import sandbox_status

HANDLERS: dict[str, JobHandler] = {
    SANDBOX_STATUS_JOB: sandbox_status,
    UNKNOWN_STATUS_JOB: status_retry,
    REPLY_JOB: opt_out_reply,
    IMPORT_JOB: import_step,
}

__all__ = ["HANDLERS", "process_inbox"]
