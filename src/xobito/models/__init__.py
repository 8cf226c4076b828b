"""ORM models, one file per table. Importing this package registers every table."""

from xobito.kit.db import Base
from xobito.models.activity_entry import ActivityEntry
from xobito.models.api_token import ApiToken
from xobito.models.campaign import Campaign
from xobito.models.campaign_recipient import CampaignRecipient
from xobito.models.campaign_worker import CampaignWorker
from xobito.models.canned_reply import CannedReply
from xobito.models.chat import Chat
from xobito.models.contact import Contact
from xobito.models.contact_group import ContactGroup
from xobito.models.contact_import import ContactImport
from xobito.models.contact_import_chunk import ContactImportChunk
from xobito.models.contact_import_error import ContactImportError
from xobito.models.contact_tally import ContactTally
from xobito.models.group import Group
from xobito.models.idempotency_key import IdempotencyKey
from xobito.models.inbox_event import InboxEvent
from xobito.models.invitation import Invitation
from xobito.models.job import Job
from xobito.models.live_event import LiveEvent
from xobito.models.media_object import MediaObject
from xobito.models.membership import Membership
from xobito.models.message import Message
from xobito.models.message_status import MessageStatus
from xobito.models.opt_out_setting import OptOutSetting
from xobito.models.password_reset import PasswordReset
from xobito.models.phone_number import PhoneNumber
from xobito.models.sending_number import SendingNumber
from xobito.models.source import Source
from xobito.models.status import Status
from xobito.models.template import Template
from xobito.models.user import User
from xobito.models.user_session import UserSession
from xobito.models.webhook_delivery import WebhookDelivery
from xobito.models.webhook_endpoint import WebhookEndpoint
from xobito.models.webhook_event import WebhookEvent
from xobito.models.webhook_log import WebhookLog
from xobito.models.webhook_traffic import WebhookTraffic
from xobito.models.whatsapp_connection import WhatsAppConnection
from xobito.models.workspace import Workspace

# SQLite must never reuse the id of a deleted row (ids reach clients and their webhooks).
for _table in Base.metadata.tables.values():
    _table.dialect_kwargs["sqlite_autoincrement"] = True

__all__ = [
    "ActivityEntry",
    "ApiToken",
    "Base",
    "Campaign",
    "CampaignRecipient",
    "CampaignWorker",
    "CannedReply",
    "Chat",
    "Contact",
    "ContactGroup",
    "ContactImport",
    "ContactImportChunk",
    "ContactImportError",
    "ContactTally",
    "Group",
    "IdempotencyKey",
    "InboxEvent",
    "Invitation",
    "Job",
    "LiveEvent",
    "MediaObject",
    "Membership",
    "Message",
    "MessageStatus",
    "OptOutSetting",
    "PasswordReset",
    "PhoneNumber",
    "SendingNumber",
    "Source",
    "Status",
    "Template",
    "User",
    "UserSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookLog",
    "WebhookTraffic",
    "WhatsAppConnection",
    "Workspace",
]
