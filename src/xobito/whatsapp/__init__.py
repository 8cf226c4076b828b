"""WhatsApp provider layer: Meta request bodies, the provider interface, the Cloud API client.

No database access here; ``sandbox`` (which needs the DB) lives beside it.
"""

from xobito.whatsapp import payloads
from xobito.whatsapp.base import ConnectionInfo, SendResult, WhatsAppProvider
from xobito.whatsapp.cloud import DEFAULT_BASE_URL, CloudProvider
from xobito.whatsapp.errors import RETRYABLE_CODES, WhatsAppError, is_retryable

__all__ = [
    "DEFAULT_BASE_URL",
    "RETRYABLE_CODES",
    "CloudProvider",
    "ConnectionInfo",
    "SendResult",
    "WhatsAppError",
    "WhatsAppProvider",
    "is_retryable",
    "payloads",
]
