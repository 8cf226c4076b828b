"""``xobito serve`` checks its processes' pools against PostgreSQL before it starts them."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from tests.backends import Backend
from xobito.cli.main import app
from xobito.config import get_settings


def serve(
    backend: Backend, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str
) -> tuple[str, dict[str, Any]]:
    """Run ``xobito serve`` up to the point where uvicorn would take over."""
    started: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda target, **kwargs: started.update(kwargs))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            ["serve", *args],
            env={"XOBITO_DATABASE_URL": backend.database_url, "XOBITO_LOG_FORMAT": "json", **env},
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output, started


def test_four_workers_with_a_pool_of_50_are_warned_about_max_connections(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, started = serve(
        backend,
        monkeypatch,
        "--workers",
        "4",
        XOBITO_DB_POOL_SIZE="50",
        XOBITO_WORKER_IN_PROCESS="false",
    )
    assert started["workers"] == 4  # a warning, not a refusal
    if backend.name != "postgres":
        assert "db_pool_too_large" not in output
        return
    assert '"event": "db_pool_too_large"' in output
    assert "4 API processes x 50 + 1 worker x 6 = 206" in output
    assert '"level": "warning"' in output


def test_the_default_pool_with_four_workers_starts_without_a_warning(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, started = serve(
        backend, monkeypatch, "--workers", "4", XOBITO_WORKER_IN_PROCESS="false"
    )
    assert started["workers"] == 4
    assert "db_pool_too_large" not in output


def test_worker_processes_get_a_generous_health_check(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn kills a worker that does not answer its supervisor within the timeout: its 5 s
    killed workers that were importing or busy on a loaded machine, again and again."""
    _, started = serve(backend, monkeypatch, "--workers", "2")
    assert started["timeout_worker_healthcheck"] == 60
    _, started = serve(
        backend, monkeypatch, "--workers", "2", XOBITO_SERVE_HEALTHCHECK_SECONDS="15"
    )
    assert started["timeout_worker_healthcheck"] == 15


def test_worker_processes_are_given_a_bounded_graceful_shutdown(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, started = serve(backend, monkeypatch, XOBITO_SERVE_SHUTDOWN_SECONDS="3")
    assert started["timeout_graceful_shutdown"] == 3
    _, started = serve(backend, monkeypatch)
    assert started["timeout_graceful_shutdown"] == 10
