"""The repository documents itself: nothing refers to files outside it, every setting and route
is in docs/, links between the documents resolve, and the webhook verification code the docs
show accepts real deliveries and refuses forged ones."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from xobito.config import Settings
from xobito.webhook.schemas import new_secret
from xobito.webhook.signing import headers as signed_headers

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# Built from parts, so that this file does not match itself.
OUTSIDE = [
    "shared" + "/spec",
    "shared" + "/meta",
    "shared" + "/design",
    "API" + ".md",
    "DEVIATIONS" + ".md",
    "\u00a7",  # the section sign of the external contract's section numbers
    "/work" + "/",
]


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def test_no_tracked_file_refers_outside_the_repository() -> None:
    found = []
    for path in tracked_files():
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        for needle in OUTSIDE:
            for number, line in enumerate(text.splitlines(), 1):
                if needle in line:
                    found.append(f"{path.relative_to(ROOT)}:{number}: {needle!r}")
    assert found == []


def all_docs() -> str:
    return "\n".join(p.read_text() for p in sorted(DOCS.rglob("*.md")))


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [f for f in Settings.model_fields if f"`XOBITO_{f.upper()}`" not in text]
    assert missing == []


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


async def test_every_route_is_in_the_api_guide(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    guide = _shape(all_docs())
    missing = []
    for path in spec["paths"]:
        if path.startswith("/api/v1/{subdomain}"):
            needle = path.removeprefix("/api/v1/{subdomain}")
        elif path.startswith("/api/admin/workspaces/{subdomain}"):
            needle = path.removeprefix("/api/admin/workspaces/{subdomain}")
        else:
            needle = path
        if _shape(needle) not in guide:
            missing.append(path)
    assert missing == []


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_links_between_documents_resolve() -> None:
    broken = []
    sources = [*DOCS.rglob("*.md"), ROOT / "README.md", ROOT / "sdk" / "README.md"]
    for source in sources:
        text = re.sub(r"```.*?```", "", source.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto
            name, _, anchor = target.partition("#")
            file = (source.parent / name).resolve() if name else source
            if not file.exists():
                broken.append(f"{source.relative_to(ROOT)}: {target}")
                continue
            if anchor and file.suffix == ".md":
                slugs = {_slug(h) for h in re.findall(r"^#+ (.+)$", file.read_text(), re.M)}
                if anchor not in slugs:
                    broken.append(f"{source.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def _receiver() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "webhook_receiver", DOCS / "examples" / "webhook_receiver.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _delivery(secrets: list[str]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event": "created", "model": "App\\Models\\Tenant\\Contact"}).encode()
    made = signed_headers(
        body=body, event_id="evt_1", event="created", secrets=secrets, now=datetime.now(UTC)
    )
    return body, made


def test_the_documented_python_verification_accepts_real_and_refuses_forged() -> None:
    receiver = _receiver()
    new, old = new_secret(), new_secret()
    body, headers = _delivery([new, old])  # during a rotation: both secrets sign
    assert receiver.verify_xobito(body, headers, new)
    assert not receiver.verify_xobito(body, headers, old)  # always the newest secret
    assert receiver.verify_standard(body, headers, new)
    assert receiver.verify_standard(body, headers, old)
    forged = body.replace(b"created", b"deleted")
    assert not receiver.verify_xobito(forged, headers, new)
    assert not receiver.verify_standard(forged, headers, new)
    stale = {**headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    assert not receiver.verify_standard(body, stale, new)  # a replay of an old delivery
    assert not receiver.verify_standard(body, headers, new_secret())


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_documented_node_verification_accepts_real_and_refuses_forged() -> None:
    new, old = new_secret(), new_secret()
    body, headers = _delivery([new, old])
    script = """
const { verifyXobito, verifyStandard } = require(process.argv[1]);
const [body, headers, secret, other] = JSON.parse(require("fs").readFileSync(0, "utf8"));
const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
const raw = Buffer.from(body);
const forged = Buffer.from(body.replace("created", "deleted"));
console.log(JSON.stringify([
  verifyXobito(raw, h, secret), verifyStandard(raw, h, secret), verifyStandard(raw, h, other),
  verifyXobito(forged, h, secret), verifyStandard(forged, h, secret),
]));
"""
    result = subprocess.run(
        ["node", "-e", script, str(DOCS / "examples" / "webhook_verify.js")],
        input=json.dumps([body.decode(), headers, new, old]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == [True, True, True, False, False]
