"""The built package works on its own (run by scripts/test.sh, after bootstrap).

Builds the sdist and wheel of the server and of the SDK (``xobito-client``), each wheel from its
sdist, checks that they hold every file of their package (the npm-vendored assets too), then
installs the server wheel and the SDK wheel into a fresh virtual environment in a temporary
folder outside the checkout (the server's dependencies from ``requirements/main.txt``, with
hashes) and there, with the temporary folder as the working directory and the database in it:
``xobito --version``, ``xobito db upgrade``, a workspace, a token and a dashboard user from the
CLI, then ``xobito serve`` and a smoke test over HTTP (health, version, readiness, OpenAPI; a
source, a status, a contact and a sandbox send through the SDK, until the message is
delivered; the dashboard's sign-in page, every asset it links to, and a sign-in).

Usage: .venv/bin/python scripts/wheel_smoke.py [--keep]   (--keep leaves the folder behind)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "xobito": ROOT / "src" / "xobito",
    "xobito_client": ROOT / "sdk" / "src" / "xobito_client",
}
SUBDOMAIN = "smoke"
EMAIL = "smoke@example.com"
PASSWORD = "smoke-test-password-1"
# Seconds are counted from the start of the whole run, also in the checks' own process.
STARTED = float(os.environ.get("WHEEL_SMOKE_STARTED", time.time()))


def step(text: str) -> None:
    print(f"wheel: [{time.time() - STARTED:5.1f}s] {text}", flush=True)


def fail(text: str) -> None:
    print(f"wheel: FAILED: {text}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def run(args: list[str | Path], **kwargs: Any) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, **kwargs
    )
    if done.returncode != 0:
        fail(f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def package_files(package: str) -> set[str]:
    """Every file of the package in the checkout (git's and the vendored assets), as wheel
    paths."""
    src = PACKAGES[package]
    tracked = run(["git", "ls-files", "-z", "--", "."], cwd=src).split("\0")
    files = {f"{package}/{name}" for name in tracked if name}
    vendor = src / "web" / "static" / "vendor"
    if package == "xobito":
        assets = json.loads((ROOT / "package.json").read_text())["xobitoAssets"]
        for target in assets:
            if not (vendor / target).is_file():
                fail(f"{vendor / target} is missing: scripts/bootstrap.sh copies it from npm")
            files.add(f"xobito/web/static/vendor/{target}")
    return files


def build(project: Path, dist: Path, package: str) -> tuple[Path, Path]:
    """sdist, then the wheel from that sdist (as ``python -m build`` does): both complete."""
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, project])
    name = package.replace("_", "-")
    (sdist,) = dist.glob(f"{package}-*.tar.gz")
    (wheel,) = dist.glob(f"{package}-*.whl")
    want = package_files(package)
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(want - in_wheel)
    if missing:
        fail(f"{wheel.name} lacks {len(missing)} files of the package: {missing[:10]}")
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        in_sdist = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    missing = sorted(f for f in want if f"src/{f}" not in in_sdist)
    if missing:
        fail(f"{sdist.name} lacks {len(missing)} files of the package: {missing[:10]}")
    for meta in ("LICENSE", "README.md", "pyproject.toml"):
        if meta not in in_sdist:
            fail(f"{sdist.name} lacks {meta}")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in in_wheel):
        fail(f"{wheel.name} lacks its LICENSE")
    stray = sorted(n for n in in_wheel if n.startswith(("tests/", "bench/", "scripts/")))
    if stray:
        fail(f"{wheel.name} holds files that are not the package's: {stray[:10]}")
    step(f"{name}: {sdist.name} ({len(in_sdist)} files), {wheel.name} ({len(in_wheel)} files)")
    if top != sdist.name.removesuffix(".tar.gz"):
        fail(f"{sdist.name} unpacks into {top}/")
    return sdist, wheel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smoke(keep: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="xobito-wheel-"))
    if tmp.resolve().is_relative_to(ROOT):
        fail(f"{tmp} is inside the checkout")
    server: subprocess.Popen[bytes] | None = None
    log = tmp / "serve.log"
    try:
        step(f"building in {tmp}")
        dist = tmp / "dist"
        _, server_wheel = build(ROOT, dist, "xobito")
        _, client_wheel = build(ROOT / "sdk", dist, "xobito_client")

        venv = tmp / "venv"
        py = venv / "bin" / "python"
        # uv (from the dev lock) installs into it: pip's one request per package to the index
        # cost minutes here; the hashes are checked all the same. No --compile-bytecode (30 s):
        # the first run compiles what it imports.
        run([sys.executable, "-m", "venv", "--without-pip", venv])
        uv = [Path(sys.executable).parent / "uv", "pip"]
        install = [*uv, "install", "--quiet", "--python", py, "--no-deps"]
        run([*install, "--require-hashes", "-r", ROOT / "requirements" / "main.txt"])
        run([*install, server_wheel, client_wheel])
        run([*uv, "check", "--quiet", "--python", py])
        step(f"installed {server_wheel.name} and {client_wheel.name} into {venv}")

        # Nothing of the checkout: the temporary folder as the working directory, no
        # PYTHONPATH, the database and the CLI's files in the temporary folder.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "XOBITO_"))}
        env |= {
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "VIRTUAL_ENV": str(venv),
            "XOBITO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'data' / 'xobito.db'}",
            "XOBITO_SANDBOX_STATUS_DELAY_SECONDS": "0.2",
            "COLUMNS": "200",
            "WHEEL_SMOKE_STARTED": str(STARTED),
        }
        (tmp / "data").mkdir()
        xobito = venv / "bin" / "xobito"

        def cli(*args: str) -> str:
            return run([xobito, *args], cwd=tmp, env=env)

        version = cli("--version").strip()
        expected = server_wheel.name.split("-")[1]
        if version != f"xobito {expected}":
            fail(f"xobito --version printed {version!r}; the wheel is {expected}")
        step(version)
        cli("db", "upgrade")
        cli("workspace", "create", SUBDOMAIN, "--name", "Smoke", "--no-care-window", "--json")
        token = json.loads(cli("token", "create", SUBDOMAIN, "--name", "smoke", "--json"))[0]
        cli(
            "user", "create", SUBDOMAIN, "--email", EMAIL, "--role", "owner", "--password", PASSWORD
        )
        step("xobito db upgrade; a workspace, a token and an owner from the CLI")

        port = free_port()
        with log.open("wb") as out:
            server = subprocess.Popen(
                [xobito, "serve", "--port", str(port)],
                cwd=tmp,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        step(f"xobito serve on port {port} (pid {server.pid})")
        check = tmp / "check.py"
        shutil.copyfile(__file__, check)
        args = [py, "-I", check, "--check", f"http://127.0.0.1:{port}", token["token"], expected]
        done = subprocess.run([str(a) for a in args], cwd=tmp, env=env, check=False)
        if server.poll() is not None:
            fail(f"xobito serve exited {server.returncode}:\n{log.read_text()}")
        if done.returncode != 0:
            fail(f"the smoke test failed; xobito serve's log:\n{log.read_text()}")
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
        server = None
        # uvicorn ends by raising the signal it caught again, after a clean shutdown.
        if code not in (0, -signal.SIGTERM) or "Application shutdown complete" not in (
            log.read_text()
        ):
            fail(f"xobito serve exited {code} on SIGTERM:\n{log.read_text()}")
        step("xobito serve stopped cleanly; the wheel works on its own")
    finally:
        if server is not None and server.poll() is None:
            server.kill()
            server.wait()
        if keep:
            step(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# -- the HTTP checks: run by the fresh venv's Python, with its httpx and xobito_client ---------


def check(base_url: str, token: str, version: str) -> None:
    import httpx
    import xobito_client
    from xobito_client import Client

    import xobito

    for package in (xobito, xobito_client):
        where = Path(package.__file__ or "").resolve()
        expect(where.is_relative_to(Path(sys.prefix).resolve()), f"imported {where}")

    deadline = time.monotonic() + 60
    with httpx.Client(base_url=base_url, timeout=10) as http:
        while True:
            try:
                health = http.get("/healthz")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    fail("xobito serve did not answer /healthz within 60 s")
                time.sleep(0.2)
        expect(health.json() == {"status": "ok", "version": version}, f"/healthz: {health.text}")
        ready = http.get("/readyz")
        expect(ready.status_code == 200, f"/readyz: {ready.status_code} {ready.text}")
        info = http.get("/openapi.json").json()["info"]
        expect(info["version"] == version, f"/openapi.json info.version: {info['version']}")
        step(f"/healthz, /readyz and /openapi.json answer (version {version})")

        with Client(base_url, SUBDOMAIN, token) as client:
            source = client.sources.create("Website")
            status = client.statuses.create("New", color="#2196F3", isdefault=True)
            contact = client.contacts.create(
                firstname="Ada",
                lastname="Lovelace",
                phone="+1 415 555 2671",
                type="lead",
                source_id=source.id,
                status_id=status.id,
            )
            expect(client.contacts.get(contact.id).phone == "+14155552671", "contact phone")
            sent = client.messages.send_text(contact.phone, "Hello from the wheel")
            while (state := client.messages.status(sent.message_id).delivery_status) not in (
                "delivered",
                "read",
            ):
                expect(state != "failed", "the sandbox send failed")
                expect(time.monotonic() < deadline, f"the send stayed {state!r}")
                time.sleep(0.2)
        step(f"a contact and a sandbox send through xobito_client ({state})")

        login = http.get("/app/login")
        expect(login.status_code == 200, f"/app/login: {login.status_code}")
        expect('name="password"' in login.text, "/app/login has no password field")
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', login.text)
        expect(any("/vendor/htmx" in a for a in assets), f"no vendored htmx in {assets}")
        for asset in assets:
            r = http.get(asset)
            expect(r.status_code == 200 and r.content, f"{asset}: {r.status_code}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        expect(csrf is not None, "/app/login has no csrf_token field")
        assert csrf is not None
        form = {"csrf_token": csrf.group(1), "email": EMAIL, "password": PASSWORD, "next": ""}
        signed = http.post("/app/login", data=form, follow_redirects=True)
        expect(
            signed.status_code == 200 and f"/app/{SUBDOMAIN}/contacts" in str(signed.url),
            f"sign-in ended at {signed.url} ({signed.status_code})",
        )
        expect("Lovelace" in signed.text, "the contacts page does not list the contact")
        step(f"/app/login, its {len(assets)} assets and a sign-in to the contacts page")


def expect(condition: object, text: str) -> None:
    if not condition:
        fail(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--check", nargs=3, metavar=("URL", "TOKEN", "VERSION"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.check:
        check(*args.check)
        return
    smoke(args.keep)
    step("passed")


if __name__ == "__main__":
    main()
