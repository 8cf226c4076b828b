"""What campaign code needs of its process: the pacer and the WhatsApp providers of the
engine (set up once by ``configure``, by the app and by ``xobito worker``)."""

from __future__ import annotations

from xobito.campaign import pacing
from xobito.config import Settings
from xobito.whatsapp.base import WhatsAppProvider
from xobito.whatsapp.cloud import CloudProvider
from xobito.whatsapp.sandbox import SandboxProvider

_PROVIDERS: dict[str, dict[str, WhatsAppProvider]] = {}


def campaign_providers(settings: Settings) -> dict[str, WhatsAppProvider]:
    """Providers for campaign sends: the Cloud API one calls Meta once per send (the engine
    decides about retries; a retry inside the call could deliver a message twice)."""
    return {
        "sandbox": SandboxProvider(),
        "cloud": CloudProvider(settings.graph_base_url, max_attempts=1),
    }


def configure(settings: Settings, providers: dict[str, WhatsAppProvider]) -> None:
    """``providers``: the process's own (the API's, retrying), for the jobs' replies; kept
    by reference, so a provider swapped in later is the one used."""
    pacing.configure(settings.redis_url, settings.redis_prefix)
    _PROVIDERS["jobs"] = providers


def providers() -> dict[str, WhatsAppProvider]:
    """The providers of this process's jobs (opt-out confirmations)."""
    return _PROVIDERS.get("jobs", {})


async def close() -> None:
    pacer = pacing.shared()
    if pacer is not None:
        await pacer.close()
