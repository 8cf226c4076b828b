"""The documentation runs: every ``python`` block of ``sdk/README.md`` (in order, sharing one
namespace, as a reader would paste them) and every docstring example of the package, against a
real server. They run in a worker thread, so the sync client may block and ``asyncio.run`` may
start its own loop without touching the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import doctest
import io
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import xobito_client
from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging
from tests.servers import Server
from xobito_client import _async, _sync, errors, models, webhooks

README = Path(__file__).resolve().parents[2] / "sdk" / "README.md"
MAIN_README = Path(__file__).resolve().parents[2] / "README.md"
# See test_real_server.py: the server process's rate-limit counters outlive a test.
UNLIMITED: dict[str, Any] = {"rate_limit_max": 100_000}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def names(server: Server, t: Tenant) -> dict[str, Any]:
    return {"BASE_URL": server.url, "SUBDOMAIN": t.workspace.subdomain, "TOKEN": t.token}


def run_blocks(blocks: list[str], namespace: dict[str, Any]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for n, block in enumerate(blocks, start=1):
            exec(compile(block, f"sdk/README.md python block {n}", "exec"), namespace)
    return out.getvalue()


async def test_readme_examples_run_against_a_server(
    server: Server, factory: Factory, messaging: Messaging
) -> None:
    t = await factory.tenant(enforce_care_window=False, **UNLIMITED)
    await messaging.template(t, "order_update")
    blocks = python_blocks(README.read_text())
    assert len(blocks) == 7

    printed = await asyncio.to_thread(
        run_blocks, blocks, {"__name__": "readme", **names(server, t)}
    )

    lines = printed.splitlines()
    assert lines[0] == "King"
    assert lines[1] == "['Batch 0', 'Batch 1', 'Batch 2', 'Newsletter', 'VIP']"
    assert lines[2] == "1 1"  # one contact, one page
    assert re.fullmatch(r"wamid\.\S+ True", lines[3])
    assert lines[4:6] == ["sent", "True +919876543210 India"]
    assert lines[6:8] == [
        "404 Contact not found",
        "{'name': ['The name must be at least 3 characters.']}",
    ]
    assert lines[8:] == ["Web 2", "created 7", "200", "400"]


@pytest.mark.parametrize(
    "module", [xobito_client, _sync, _async, errors, models, webhooks], ids=lambda m: m.__name__
)
async def test_docstring_examples(server: Server, factory: Factory, module: ModuleType) -> None:
    t = await factory.tenant(**UNLIMITED)

    def run() -> doctest.TestResults:
        globs = {**vars(module), **names(server, t)}
        return doctest.testmod(module, globs=globs, report=True)

    result = await asyncio.to_thread(run)
    assert result.attempted > 0
    assert result.failed == 0


def test_main_readme_points_to_the_sdk() -> None:
    text = MAIN_README.read_text()
    section = text[text.index("## Python client (SDK)") :]
    assert "sdk/README.md" in section and "xobito-client" in section
