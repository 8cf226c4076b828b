"""Prometheus metrics and the ASGI middleware that records request counts and latencies.

Under ``xobito serve --workers N`` each process writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, chosen when the
variable is set before the process starts) and ``/metrics``, whichever process answers it,
sums them over all processes (``exposition``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "xobito_http_requests_total",
    "HTTP requests by route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "xobito_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SENDS = Counter(
    "xobito_whatsapp_sends_total",
    "WhatsApp sends by outcome",
    ["outcome"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "xobito_webhook_deliveries_total",
    "Outbound webhook deliveries by outcome",
    ["outcome"],
    registry=REGISTRY,
)
# Measured by whichever process looked last; across processes the latest value counts.
QUEUE_DEPTH = Gauge(
    "xobito_queue_depth",
    "Jobs waiting",
    ["queue"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
QUEUE_AGE = Gauge(
    "xobito_queue_oldest_age_seconds",
    "Age of the oldest waiting job",
    ["queue"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def exposition() -> tuple[bytes, str]:
    """The text ``/metrics`` answers: this process's metrics, or under several processes
    (``PROMETHEUS_MULTIPROC_DIR`` set) all processes' summed."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI (no per-request Request objects) so it costs microseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # id(route object) -> its full path template, e.g. "/api/v1/{subdomain}/contacts".
        self.templates: dict[int, str] = {}
        # Labelled children, looked up once: ``labels()`` takes a lock and builds a tuple.
        self.counters: dict[tuple[str, str, int], Any] = {}
        self.histograms: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self._route_of(scope)
            method = scope["method"]
            key = (method, route, status[0])
            counter = self.counters.get(key)
            if counter is None:
                counter = self.counters[key] = REQUESTS.labels(method, route, str(status[0]))
            histogram = self.histograms.get(key[:2])
            if histogram is None:
                histogram = self.histograms[key[:2]] = LATENCY.labels(method, route)
            counter.inc()
            histogram.observe(time.perf_counter() - start)

    def _route_of(self, scope: Scope) -> str:
        """The matched route's full template (never the concrete path), or ``unmatched``.

        FastAPI puts the route object of an included router in the scope, whose own path
        lacks the prefixes it was included under; the full template comes from the app's
        route table, looked up once per route.
        """
        route = scope.get("route")
        if route is None:
            return self._plain_route_of(scope)
        template = self.templates.get(id(route))
        if template is None:
            app = scope.get("app")
            for context in iter_route_contexts(getattr(app, "routes", [])):
                if context.path_format:
                    self.templates.setdefault(id(context.original_route), context.path_format)
            own = getattr(route, "path_format", None) or getattr(route, "path", None)
            template = self.templates.setdefault(id(route), str(own or "unmatched"))
        return template

    def _plain_route_of(self, scope: Scope) -> str:
        """The template of a plain Starlette route or mount (``/openapi.json``, ``/static``).

        FastAPI puts only its own ``APIRoute`` objects in the scope; the others are matched
        again here, which costs a few comparisons and happens only for those requests and 404s.
        """
        app = scope.get("app")
        routes: list[BaseRoute] = getattr(app, "routes", [])
        path = scope["path"]
        for route in routes:
            if isinstance(route, Mount):
                # The mount rewrote root_path on its way in: compare the raw path.
                if path == route.path or path.startswith(route.path + "/"):
                    return route.path_format
            elif (
                not isinstance(route, APIRoute)
                and hasattr(route, "path_format")
                and route.matches(scope)[0] is Match.FULL
            ):
                return str(route.path_format)
        return "unmatched"
