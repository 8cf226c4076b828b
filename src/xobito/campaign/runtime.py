"""What campaign code needs of its owner (the app, ``xobito worker``): the pacer and the
WhatsApp providers of the engine."""

from __future__ import annotations

from xobito.campaign import pacing
from xobito.config import Settings
from xobito.whatsapp.base import WhatsAppProvider
from xobito.whatsapp.cloud import CloudProvider
from xobito.whatsapp.sandbox import SandboxProvider


def campaign_providers(settings: Settings) -> dict[str, WhatsAppProvider]:
    """Providers for campaign sends: the Cloud API one calls Meta once per send (the engine
    decides about retries; a retry inside the call could deliver a message twice)."""
    return {
        "sandbox": SandboxProvider(),
        "cloud": CloudProvider(settings.graph_base_url, max_attempts=1),
    }


def make_pacer(settings: Settings) -> pacing.Pacer:
    return pacing.make_pacer(settings.redis_url, settings.redis_prefix)
