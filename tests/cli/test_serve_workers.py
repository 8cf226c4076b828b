"""``xobito serve --workers 2``: ``/metrics`` sums both processes' metrics (prometheus_client
multiprocess mode), whichever process answers the scrape."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends import Backend

HEALTHZ = re.compile(
    r'^xobito_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$', re.M
)


@pytest.fixture
def two_workers(backend: Backend, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"")  # a previous run's: removed at start
    env = {k: v for k, v in os.environ.items() if not k.startswith("XOBITO_")}
    env.update(
        XOBITO_DATABASE_URL=backend.database_url,
        XOBITO_WORKER_IN_PROCESS="false",
        XOBITO_LOG_LEVEL="WARNING",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "xobito.cli.main", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        yield f"http://127.0.0.1:{port}", metrics_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def pids_with_counters(metrics_dir: Path) -> set[str]:
    return {p.stem.split("_")[-1] for p in metrics_dir.glob("counter_*.db")}


def test_metrics_are_summed_over_both_worker_processes(two_workers: tuple[str, Path]) -> None:
    base, metrics_dir = two_workers
    answered = 0
    deadline = time.monotonic() + 300  # the workers import the app on a busy machine
    # New connection per request: the workers take turns accepting; go on until both have
    # served (each process writes its own counter file) and then some more.
    while time.monotonic() < deadline and (
        len(pids_with_counters(metrics_dir)) < 2 or answered < 40
    ):
        try:
            r = httpx.get(f"{base}/healthz", timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)  # not listening yet: poll again
            continue
        assert r.status_code == 200
        answered += 1
    assert "1" not in pids_with_counters(metrics_dir)  # the stale file was removed
    assert len(pids_with_counters(metrics_dir)) >= 2, "both workers should have served"
    for _ in range(6):  # each scrape may land on either process: every one sees the sum
        scrape = httpx.get(f"{base}/metrics", timeout=5)
        assert scrape.status_code == 200
        match = HEALTHZ.search(scrape.text)
        assert match is not None, scrape.text[:2000]
        assert float(match.group(1)) == answered
