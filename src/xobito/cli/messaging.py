"""``xobito worker``, ``whatsapp connect``, ``template sync``, ``sandbox inbound|status``."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated, Any

import typer

from xobito.cli.common import Json, done, run, show
from xobito.config import get_settings
from xobito.connection.schemas import connection_record
from xobito.connection.service import ConnectionService
from xobito.message.repository import MessageRepository
from xobito.sandbox.service import SandboxService
from xobito.template.service import TemplateService
from xobito.workspace.service import WorkspaceService

whatsapp_app = typer.Typer(help="Connect workspaces to WhatsApp.", no_args_is_help=True)
template_app = typer.Typer(help="Message templates.", no_args_is_help=True)
sandbox_app = typer.Typer(
    help="Simulate WhatsApp traffic (sandbox workspaces).", no_args_is_help=True
)


@whatsapp_app.command("connect")
def connect(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    provider: Annotated[str, typer.Option(help="sandbox or cloud")] = "sandbox",
    waba_id: Annotated[str | None, typer.Option(help="WhatsApp Business Account id")] = None,
    phone_number_id: Annotated[
        list[str] | None,
        typer.Option("--phone-number-id", help="Repeat for each number; the first is primary"),
    ] = None,
    access_token: Annotated[
        str | None,
        typer.Option(envvar="XOBITO_CONNECT_ACCESS_TOKEN", help="Meta access token (or env)"),
    ] = None,
    app_secret: Annotated[
        str | None,
        typer.Option(envvar="XOBITO_CONNECT_APP_SECRET", help="Meta app secret (or env)"),
    ] = None,
    verify_token: Annotated[str | None, typer.Option(help="Webhook verify token")] = None,
    app_id: Annotated[
        str | None, typer.Option(help="Meta app id (the doctor checks its webhook subscription)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Connect a workspace to WhatsApp; secrets are stored and never printed."""
    body: dict[str, Any] = {"provider": provider}
    for key, value in (
        ("waba_id", waba_id),
        ("phone_number_ids", phone_number_id),
        ("access_token", access_token),
        ("app_secret", app_secret),
        ("verify_token", verify_token),
        ("app_id", app_id),
    ):
        if value is not None:
            body[key] = value

    async def work(session: Any) -> dict[str, Any]:
        ws = await WorkspaceService(session).get(subdomain)
        return connection_record(await ConnectionService(session).connect(ws, body))

    record = run(work)
    show(
        [record],
        [
            "provider",
            "waba_id",
            "phone_number_ids",
            "primary_phone_number_id",
            "has_access_token",
            "has_app_secret",
        ],
        as_json,
    )


@template_app.command("sync")
def sync(
    subdomain: Annotated[str, typer.Argument(help="The workspace")], as_json: Json = False
) -> None:
    """Pull the workspace's templates from Meta (every page)."""
    from xobito.app import make_providers

    async def work(session: Any) -> dict[str, int]:
        ws = await WorkspaceService(session).get(subdomain)
        providers = make_providers(get_settings())
        try:
            return await TemplateService(session, ws.id).sync(providers)
        finally:
            for provider in providers.values():
                await provider.close()

    counts = run(work)
    done(
        counts,
        as_json,
        f"{counts['total']} templates: {counts['created']} created, {counts['updated']} updated",
    )


@sandbox_app.command("inbound")
def inbound(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    phone_number: Annotated[str, typer.Option(help="The customer's number, E.164")],
    text: Annotated[str | None, typer.Option(help="Message text")] = None,
    profile_name: Annotated[str | None, typer.Option(help="The customer's profile name")] = None,
    media_type: Annotated[
        str | None,
        typer.Option(help="image, document, video or audio: a sample file (--text: its caption)"),
    ] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for a worker to store it (0: do not wait)")
    ] = 5.0,
    as_json: Json = False,
) -> None:
    """Simulate a customer's message (processed by the worker).

    Waits until a worker (xobito serve or xobito worker) has stored it, so that a send right
    after finds the customer care window open.
    """
    body = {
        "phone_number": phone_number,
        "text": text,
        "profile_name": profile_name,
        "media_type": media_type,
    }

    async def work(session: Any) -> dict[str, Any]:
        ws = await WorkspaceService(session).get(subdomain)
        return await SandboxService(session, ws).inbound(body)

    wamid = run(work)["message_id"]
    if wait <= 0:
        done({"message_id": wamid, "stored": None}, as_json, f"queued inbound message {wamid}")
        return

    async def stored(session: Any) -> bool:
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            if await MessageRepository.stored_anywhere(session, wamid):
                return True
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await session.rollback()  # a fresh snapshot for the next look
            await asyncio.sleep(0.1)

    is_stored = run(stored)
    done(
        {"message_id": wamid, "stored": is_stored},
        as_json,
        f"queued inbound message {wamid}",
        "stored by the worker: the customer care window is open"
        if is_stored
        else f"not stored within {wait:g} s: is xobito serve or xobito worker running?",
    )


@sandbox_app.command("status")
def status(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    message_id: Annotated[str, typer.Argument(help="The wamid of a sent message")],
    status: Annotated[str, typer.Argument(help="sent, delivered, read or failed")],
    error_code: Annotated[int | None, typer.Option(help="Meta error code for failed")] = None,
    as_json: Json = False,
) -> None:
    """Simulate a delivery status for a sent message (processed by the worker)."""
    body = {"message_id": message_id, "status": status, "error_code": error_code}

    async def work(session: Any) -> dict[str, Any]:
        ws = await WorkspaceService(session).get(subdomain)
        return await SandboxService(session, ws).status(body)

    run(work)
    done(
        {"message_id": message_id, "status": status},
        as_json,
        f"queued status {status} for {message_id}",
    )


def worker() -> None:
    """Run a worker process: the Meta webhook inbox and deferred jobs (several may run)."""
    import structlog
    import uvloop

    from xobito.campaign import runtime as campaign_runtime
    from xobito.campaign.engine import CampaignEngine
    from xobito.jobs.handlers import give_up_handlers, job_handlers, process_inbox
    from xobito.jobs.worker import Worker
    from xobito.kit.db import make_engine, make_sessionmaker
    from xobito.kit.db_capacity import WORKER_MAX_OVERFLOW, WORKER_POOL_SIZE, worker_check
    from xobito.kit.gc import tune_gc
    from xobito.kit.logging import configure_logging
    from xobito.live.bus import BUS
    from xobito.webhook.dispatcher import Dispatcher
    from xobito.whatsapp.base import WhatsAppProvider
    from xobito.whatsapp.cloud import CloudProvider
    from xobito.whatsapp.sandbox import SandboxProvider

    settings = get_settings()
    configure_logging(settings)
    if settings.env != "testing":
        tune_gc()

    async def main() -> None:
        warning = await worker_check(settings.database_url)
        if warning is not None:
            structlog.get_logger("xobito.worker").warning("db_connections_short", detail=warning)
        engine = make_engine(
            settings.database_url, pool_size=WORKER_POOL_SIZE, max_overflow=WORKER_MAX_OVERFLOW
        )
        sessionmaker = make_sessionmaker(engine)
        job_providers: dict[str, WhatsAppProvider] = {
            "sandbox": SandboxProvider(),
            "cloud": CloudProvider(settings.graph_base_url),
        }
        pacer = campaign_runtime.make_pacer(settings)
        campaign_providers = campaign_runtime.campaign_providers(settings)
        campaigns = CampaignEngine(sessionmaker, campaign_providers, settings, pacer=pacer)
        stop_campaigns = asyncio.Event()
        w = Worker(
            sessionmaker,
            job_handlers(job_providers),
            process_inbox,
            settings=settings,
            dispatcher=Dispatcher(sessionmaker, settings),
            give_up_handlers=give_up_handlers(),
            poll_seconds=settings.worker_poll_seconds,
        )
        loop = asyncio.get_running_loop()

        def stop() -> None:
            w.stop()
            stop_campaigns.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        # The inbox pages of every API process hear of what this worker stores (Redis).
        BUS.configure(settings.redis_url, settings.redis_prefix)
        await BUS.start()
        try:
            await asyncio.gather(w.run(), campaigns.run(stop_campaigns))
        finally:
            await BUS.stop()
            for provider in [*job_providers.values(), *campaign_providers.values()]:
                await provider.close()
            await pacer.close()
            await engine.dispose()

    uvloop.run(main())  # as the server (uvicorn) runs
