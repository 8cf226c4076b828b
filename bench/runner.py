"""The server under test (a real uvicorn process) and the load generators that drive it."""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process (all its threads) has used so far."""
        return _proc_cpu(Path(f"/proc/{self.pid}/stat").read_text())


@contextmanager
def server(
    port: int,
    env: Mapping[str, str],
    log_dir: Path,
    factory: str = "bench.bench_app:create_bench_app",
) -> Iterator[Server]:
    """uvicorn as ``xobito serve`` runs it (uvloop, httptools, 1 worker, no access log),
    on the bench app factory (or another ``factory``), in its own process."""
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    log = log_dir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=REPO, env=dict(env), stdout=out, stderr=out)
    srv = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(srv)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(srv: Server, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.process.poll() is not None:
            raise RuntimeError(f"server exited early; see {srv.log}:\n{srv.log.read_text()}")
        try:
            with urllib.request.urlopen(srv.base_url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not ready after {timeout:.0f} s; see {srv.log}")


def fetch(url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=dict(headers))
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status, resp.read()


@dataclass
class Load:
    """One load run: what to request and how hard."""

    url: str
    connections: int
    duration: float
    headers: Mapping[str, str]
    post: tuple[int, int, int] | None = None  # (first phone, source_id, status_id)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def tool_name(tool: str) -> str:
    if tool == "wrk":
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        words = (out.stdout + out.stderr).split()
        return f"wrk {words[1]}" if len(words) > 1 else "wrk"
    return "bench.loadgen (aiohttp)"


def run_load(load: Load, tool: str, threads: int = 1) -> dict[str, int]:
    if tool == "wrk":
        return _run_wrk(load, threads)
    return _run_loadgen(load)


def _run_wrk(load: Load, threads: int) -> dict[str, int]:
    script = (BENCH_DIR / "wrk" / "report.lua").read_text()
    if load.post is not None:
        script = (BENCH_DIR / "wrk" / "post.lua").read_text() + "\n" + script
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        cmd = [
            "wrk",
            f"-t{threads}",
            f"-c{load.connections}",
            f"-d{load.duration:g}s",
            "--timeout",
            "2s",
            "-s",
            f.name,
        ]
        for key, value in load.headers.items():
            cmd += ["-H", f"{key}: {value}"]
        cmd.append(load.url)
        if load.post is not None:
            cmd += ["--", *(str(v) for v in load.post)]
        return _result(subprocess.run(cmd, capture_output=True, text=True, check=False))
    finally:
        os.unlink(f.name)


def _run_loadgen(load: Load) -> dict[str, int]:
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--url",
        load.url,
        "--connections",
        str(load.connections),
        "--duration",
        str(load.duration),
    ]
    for key, value in load.headers.items():
        cmd += ["--header", f"{key}: {value}"]
    if load.post is not None:
        phone, source_id, status_id = load.post
        cmd += ["--method", "POST", "--phone-base", str(phone)]
        cmd += ["--source-id", str(source_id), "--status-id", str(status_id)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
    return _result(out)


def _result(out: subprocess.CompletedProcess[str]) -> dict[str, int]:
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, int] = json.loads(line.split(" ", 1)[1])
            return result
    raise RuntimeError(f"load generator failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far by the server, the database's backends, the load generators
    (this process's finished children: a load run is reaped before the next snapshot) and the
    whole machine, at ``wall`` seconds."""

    wall: float
    server: float
    database: float
    loadgen: float
    machine: float

    def cores(self, later: CpuSnapshot) -> dict[str, float]:
        """Average cores each part used between this snapshot and ``later``."""
        span = max(1e-9, later.wall - self.wall)
        used = {
            "server": later.server - self.server,
            "database": later.database - self.database,
            "loadgen": later.loadgen - self.loadgen,
        }
        used["other"] = max(0.0, later.machine - self.machine - sum(used.values()))
        return {k: v / span for k, v in used.items()}


def snapshot(srv: Server, pg_database: str | None) -> CpuSnapshot:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(
        wall=time.monotonic(),
        server=srv.cpu_seconds(),
        database=_postgres_cpu(pg_database) if pg_database else 0.0,
        loadgen=children.ru_utime + children.ru_stime,
        machine=_machine_busy(),
    )


def _proc_cpu(stat: str) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _postgres_cpu(database: str) -> float:
    """CPU of the PostgreSQL backends connected to ``database`` (its title names it)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if database.encode() in (proc / "cmdline").read_bytes():
                total += _proc_cpu((proc / "stat").read_text())
        except OSError:  # the process ended meanwhile
            continue
    return total


def _machine_busy() -> float:
    """Busy CPU seconds of all cores together, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK


def background_load(seconds: float = 1.0) -> float:
    """Cores busy while nothing of the benchmark runs (other work on this machine)."""
    start, t0 = _machine_busy(), time.monotonic()
    time.sleep(seconds)
    return (_machine_busy() - start) / (time.monotonic() - t0)
