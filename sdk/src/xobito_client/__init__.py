"""Typed Python client for the Xobito-compatible WhatsApp Business REST API v1.

>>> from xobito_client import Client, AsyncClient, NotFoundError
>>> client = Client("https://xobito.example.com", "acme", "apitk_...")
>>> client
Client(base_url='https://xobito.example.com', subdomain='acme')
>>> client.close()
"""

from xobito_client import webhooks
from xobito_client._async import AsyncClient, aiohttp_transport
from xobito_client._chats import ChatFilters
from xobito_client._sync import Client
from xobito_client._version import __version__
from xobito_client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    WebhookVerificationError,
    XobitoError,
)
from xobito_client.models import (
    Campaign,
    CampaignCounts,
    CampaignRecipient,
    Chat,
    ChatMessage,
    Contact,
    CursorPage,
    Group,
    MessageStatus,
    Page,
    PhoneValidation,
    RecipientPage,
    SentMessage,
    Source,
    Status,
    Template,
    Timeline,
    TimelineEntry,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Campaign",
    "CampaignCounts",
    "CampaignRecipient",
    "Chat",
    "ChatFilters",
    "ChatMessage",
    "Client",
    "ConflictError",
    "Contact",
    "CursorPage",
    "Group",
    "MessageStatus",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PhoneValidation",
    "RateLimitError",
    "RecipientPage",
    "SentMessage",
    "ServerError",
    "Source",
    "Status",
    "Template",
    "Timeline",
    "TimelineEntry",
    "ValidationError",
    "WebhookVerificationError",
    "XobitoError",
    "__version__",
    "aiohttp_transport",
    "webhooks",
]
