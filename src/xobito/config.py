"""One typed settings object for the whole process (environment prefix ``XOBITO_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# src/xobito/config.py in a checkout: the checkout is two folders up from the package.
_CHECKOUT = Path(__file__).resolve().parents[2]


def checkout_root() -> Path | None:
    """The source checkout this package runs from (an editable install), else None."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "src" / "xobito").is_dir():
        return _CHECKOUT
    return None


def default_data_dir() -> Path:
    """Where the embedded SQLite database and the demo secrets live when nothing says so:
    the checkout's ``var/`` when running from a checkout, else the user data directory
    (``~/.local/share/xobito`` on Linux). Independent of the current folder."""
    root = checkout_root()
    if root is not None:
        return root / "var"
    return Path(platformdirs.user_data_dir("xobito", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XOBITO_", env_file=".env", extra="ignore")

    env: Literal["development", "testing", "production"] = "development"
    # Folder of the embedded default's files (xobito.db, demo-token, demo-password); see
    # default_data_dir() when unset.
    data_dir: Path = Field(default_factory=default_data_dir)
    # Unset: SQLite at ``<data_dir>/xobito.db`` (an absolute path, whatever the current folder).
    database_url: str = ""
    redis_url: str | None = None
    # Prefix of every Redis key, so several deployments (or test runs) can share one Redis.
    redis_prefix: str = "xobito"
    # Redis connections per process (the rate limiter's pool; requests wait for a free one).
    redis_max_connections: int = 64
    admin_key: str | None = None
    whatsapp_provider: Literal["sandbox", "cloud"] = "sandbox"
    graph_base_url: str = "https://graph.facebook.com/v23.0"
    meta_app_secret: str | None = None
    meta_verify_token: str | None = None
    worker_in_process: bool = True
    # A separate ``xobito worker`` is not woken by the API processes that store Meta's
    # webhooks: when idle it looks for new inbox rows and jobs this often (the latency it
    # adds to an inbound message; the in-process worker is woken directly).
    worker_poll_seconds: float = Field(0.05, gt=0)
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    # One log line per request (kit/access_log.py). Unset: on in development, off otherwise.
    access_log: bool | None = None
    # ``xobito serve --workers N``: how long uvicorn's supervisor waits for a worker process to
    # answer its health check before it kills and restarts it. uvicorn's 5 s killed workers
    # that were starting (imports) or busy on a loaded machine, over and over, dropping the
    # requests they held (seen in the soak, bench/soak.py).
    serve_healthcheck_seconds: int = Field(60, ge=1)
    # ``xobito serve`` on SIGTERM (a restart, a deploy): how long open requests get to finish
    # before uvicorn ends the rest. The inbox's event streams are ended by the app at once
    # (``web.events.end_streams_on_exit``) and each page reconnects with its last event id,
    # missing nothing; this bounds whatever else is still running.
    serve_shutdown_seconds: int = Field(10, ge=1)
    # FastAPI's native OpenTelemetry instrumentation. Off unless asked for: even with no
    # provider configured, its per-request checks cost ~5 % of a send's CPU (measured);
    # Prometheus metrics (/metrics) are always on.
    otel: bool = False

    # Public base URL used in pagination links when set; otherwise the request's own URL.
    public_url: str | None = None
    # How long a resolved token / workspace may be served from the in-process cache.
    # Bounds how late a revocation or a settings change is seen by another process.
    auth_cache_seconds: float = 0.5
    max_json_body_bytes: int = 1024 * 1024
    idempotency_ttl_seconds: int = 24 * 3600
    # How long an in-progress idempotency reservation holds without renewal (its process
    # renews it while the request runs): the longest a retry answers 409 for a request whose
    # process died on another machine or lost the database. A process that exited on the
    # same machine, or a request that ended, frees its key at once.
    idempotency_lease_seconds: float = Field(30.0, gt=0)
    # Live pages (the inbox's event stream): a heartbeat comment every ``live_heartbeat``
    # seconds (proxies' read timeouts must be longer), and the stream's read of the database
    # at least every ``live_poll`` seconds when no wake-up came (without Redis, a change made
    # by another process, such as a separate ``xobito worker``, arrives this late).
    live_heartbeat_seconds: float = Field(15.0, gt=0)
    live_poll_seconds: float = Field(1.0, gt=0)
    # Inbound media fetched from Meta for the inbox: larger files are not downloaded.
    inbox_media_max_bytes: int = Field(16 * 1024 * 1024, ge=1)
    # Campaigns (campaign/engine.py): a worker whose heartbeat is older than this has stopped
    # (its claimed recipients go back to the queue); sends under way per worker process.
    campaign_worker_timeout_seconds: float = Field(30.0, gt=0)
    campaign_max_in_flight: int = Field(2000, ge=1)
    # Graph calls per recipient refused with a transient error (5xx, network) before it is
    # failed (retryable by "Retry failed").
    campaign_max_attempts: int = Field(8, ge=1)
    # Sandbox: seconds between the simulated sent, delivered and read statuses of a send.
    sandbox_status_delay_seconds: float = 1.0
    # Outbound webhooks (docs/webhooks.md).
    webhook_timeout_seconds: float = 30.0
    # Immediately, 1 s, 2 s (as Xobito does), then 30 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    webhook_retry_schedule: tuple[float, ...] = (0, 1, 2, 30, 300, 1800, 7200, 18000, 36000, 36000)
    webhook_max_in_flight: int = 256
    webhook_max_in_flight_per_endpoint: int = 32
    webhook_log_retention_days: int = 30
    webhook_secret_overlap_hours: float = 24.0
    # Loopback/private/link-local destinations: refused in production unless allowed here.
    webhook_allow_private_urls: bool | None = None
    # PostgreSQL connections per process. 20 fits a stock PostgreSQL (max_connections 100,
    # 3 reserved) with the README's layout, 4 API processes and one worker (4 x 20 + 6),
    # and leaves 10 for psql, migrations and monitoring: ``kit.db_capacity`` has the rule and
    # ``xobito serve`` checks it at start-up. No overflow by default: SQLAlchemy closes an
    # overflow connection whenever it comes back to a full pool, so under a steady load they
    # are opened and closed all the time (measured at 600 concurrent sends: a new connection,
    # with its statements prepared again, every ~17 sends).
    db_pool_size: int = Field(20, ge=2)  # the send path keeps up to half (at least one)
    db_max_overflow: int = 0
    # How long a request waits for a free connection before it is answered 503 with
    # Retry-After (an overload: the client should come back, not wait on a queue).
    db_pool_timeout: float = Field(10.0, gt=0)
    # Of those, how many the send path's statements may keep for themselves (kit.db
    # DriverConnections; at most half the pool, so 10 by default).
    db_hot_connections: int = 16
    db_echo: bool = False

    # Dashboard sign-in (src/xobito/web/). A session ends after this long without a request,
    # and in any case this long after sign-in.
    session_idle_minutes: int = Field(480, ge=1)
    session_max_hours: int = Field(168, ge=1)
    # Failed sign-ins allowed per account and per client IP within the window; past them,
    # sign-in answers 429 until the window ends.
    login_max_attempts: int = Field(5, ge=1)
    login_max_attempts_per_ip: int = Field(50, ge=1)
    login_window_minutes: int = Field(15, ge=1)
    # Invitation links expire after this many days; password-reset links after these hours.
    invitation_days: int = Field(7, ge=1)
    password_reset_hours: int = Field(72, ge=1)
    # argon2id cost: "standard" is argon2-cffi's RFC 9106 low-memory profile (64 MiB, 3
    # passes); "fast" is its cheapest profile, for test suites only.
    password_hashing: Literal["standard", "fast"] = "standard"

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'xobito.db'}"
        if self.access_log is None:
            self.access_log = self.env == "development"
        if self.webhook_allow_private_urls is None:
            self.webhook_allow_private_urls = self.env != "production"
        if self.password_hashing == "fast" and self.env == "production":
            raise ValueError("XOBITO_PASSWORD_HASHING=fast is for tests, not production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1]
        return None if path in ("", ":memory:") else Path(path)


@lru_cache
def get_settings() -> Settings:
    return Settings()
