"""Where the server's time goes: py-spy samples of the server process, grouped by component.

Each sample is a Python stack; it is charged to the deepest frame that matches a rule below
(so time in SQLAlchemy under ``ScopedRepository.count`` counts as "count query", but time in
``sqlalchemy/orm/loading.py`` under it would count as "ORM hydration"). Time spent in C code
(uvloop, httptools, asyncpg's protocol, orjson) is charged to the Python frame that called it;
time the event loop spends outside any Python handler shows as "event loop + C callbacks".
Idle samples (waiting in epoll) are not recorded.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

# (category, file-path fragment or None, function-name fragment or None), most specific last
# where two could match the same frame.
RULES: list[tuple[str, str | None, str | None]] = [
    ("event loop + C callbacks (uvloop, asyncpg/redis protocol)", "asyncio/runners.py", None),
    ("uvicorn + httptools protocol", "uvicorn/protocols/", None),
    ("ASGI middleware stack (uvicorn/starlette/fastapi)", "uvicorn/middleware/", None),
    ("ASGI middleware stack (uvicorn/starlette/fastapi)", "starlette/middleware/", None),
    ("ASGI middleware stack (uvicorn/starlette/fastapi)", "starlette/_exception_handler", None),
    ("ASGI middleware stack (uvicorn/starlette/fastapi)", "starlette/applications", None),
    ("ASGI middleware stack (uvicorn/starlette/fastapi)", "fastapi/applications", None),
    ("ASGI middleware stack (uvicorn/starlette/fastapi)", "fastapi/telemetry/", None),
    ("ASGI middleware stack (uvicorn/starlette/fastapi)", "fastapi/_body_limit", None),
    ("ASGI middleware stack (uvicorn/starlette/fastapi)", "fastapi/middleware/", None),
    ("metrics middleware (prometheus)", "xobito/kit/metrics.py", None),
    ("routing + FastAPI request handler", "starlette/routing.py", None),
    ("routing + FastAPI request handler", "fastapi/routing.py", None),
    ("FastAPI dependency solving + query validation", "fastapi/dependencies/", None),
    ("FastAPI dependency solving + query validation", "fastapi/_compat", None),
    ("response rendering + send", "starlette/responses.py", None),
    ("DatabaseRoute: session, BEGIN/COMMIT, close", "xobito/api/routing.py", None),
    ("auth checks (require/authenticate)", "xobito/auth/dependencies.py", None),
    ("token + workspace lookup (cache, SHA-256)", None, "Authenticator.token"),
    ("token + workspace lookup (cache, SHA-256)", None, "Authenticator.workspace"),
    ("token + workspace lookup (cache, SHA-256)", "xobito/auth/tokens.py", None),
    ("token + workspace lookup (cache, SHA-256)", "xobito/kit/ttl_cache.py", None),
    ("rate limit (limits + storage)", "xobito/kit/ratelimit.py", None),
    ("endpoint body (contacts.index, filters)", "xobito/contact/router.py", None),
    ("endpoint body (contacts.index, filters)", "xobito/contact/service.py", None),
    ("endpoint body (contacts.index, filters)", None, "filters"),
    ("page query (SELECT … LIMIT 15)", None, "ScopedRepository.page"),
    ("count query (SELECT count(*))", None, "ScopedRepository.count"),
    ("groups query (contact_group IN …)", None, "ContactRepository.groups_of"),
    ("ORM hydration (rows → Contact objects)", "sqlalchemy/orm/loading.py", None),
    ("record building (contact_record)", "xobito/contact/schemas.py", None),
    ("record building (contact_record)", "xobito/kit/time.py", None),
    ("pagination links (paginate, page_path)", "xobito/kit/pagination.py", None),
    ("JSON encoding (orjson)", "xobito/kit/responses.py", None),
    ("bare endpoint", "bench/bench_app.py", None),
]


def _frame_category(frame: str) -> str | None:
    func, _, location = frame.rpartition(" (")
    for category, path, name in reversed(RULES):
        if (path is None or path in location) and (name is None or name in func):
            return category
    return None


def classify(stack: list[str]) -> str:
    for frame in reversed(stack):
        category = _frame_category(frame)
        if category is not None:
            return category
    if any("sqlalchemy/" in frame for frame in stack):
        # A greenlet switch cuts the stack: SQLAlchemy's statement execution (cache keys,
        # compiled-statement lookup, result set-up) runs in a greenlet of its own.
        return "SQLAlchemy execution (statement caching, result set-up)"
    return "other"


def py_spy() -> str | None:
    here = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path, rate: int = 200) -> subprocess.Popen[bytes]:
    """Start sampling ``pid``; the caller drives load meanwhile and then waits on the result."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (.venv/bin/pip install py-spy)")
    cmd = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds))]
    cmd += ["--rate", str(rate), "--format", "raw", "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def load_samples(path: Path) -> list[tuple[list[str], int]]:
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), int(count)))
    return samples


def summarize(path: Path, top: int = 15) -> str:
    samples = load_samples(path)
    total = sum(n for _, n in samples) or 1
    categories: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for stack, n in samples:
        categories[classify(stack)] += n
        leaves[stack[-1]] += n
    lines = [f"{total} busy samples of the server's main thread (idle time excluded)", ""]
    lines.append("share   component (exclusive: each sample counted once)")
    for category, n in categories.most_common():
        lines.append(f"{100 * n / total:5.1f} %  {category}")
    lines += ["", f"share   top {top} functions by self time (C callees included)"]
    for frame, n in leaves.most_common(top):
        lines.append(f"{100 * n / total:5.1f} %  {frame}")
    return "\n".join(lines)
