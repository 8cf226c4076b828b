"""The real ``xobito`` command run from another folder: its default database does not depend
on the current folder, and every failure is one readable line and a non-zero exit code, never
a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from xobito import config
from xobito.config import Settings

XOBITO = str(Path(sys.executable).with_name("xobito"))


def xobito(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("XOBITO_")}
    return subprocess.run(
        [XOBITO, *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_the_default_database_is_the_checkouts_var_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XOBITO_DATABASE_URL", raising=False)
    monkeypatch.delenv("XOBITO_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    root = config.checkout_root()
    assert root is not None and (root / "src" / "xobito" / "config.py").is_file()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == root / "var"
    assert settings.database_url == f"sqlite+aiosqlite:///{root / 'var' / 'xobito.db'}"


def test_outside_a_checkout_the_user_data_folder_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XOBITO_DATA_DIR", raising=False)
    monkeypatch.setattr(config, "_CHECKOUT", tmp_path / "site-packages")  # an installed wheel
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert config.checkout_root() is None
    assert config.default_data_dir() == tmp_path / "share" / "xobito"
    monkeypatch.setenv("XOBITO_DATA_DIR", str(tmp_path / "mine"))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.sqlite_path() == tmp_path / "mine" / "xobito.db"


def test_a_data_folder_works_from_any_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = str(tmp_path / "data")
    missing = one_line_error(xobito("workspace", "list", cwd=elsewhere, XOBITO_DATA_DIR=data))
    assert f"no database at {data}/xobito.db" in missing
    assert "xobito db upgrade" in missing
    assert xobito("db", "upgrade", cwd=elsewhere, XOBITO_DATA_DIR=data).returncode == 0
    long_name = "A workspace whose name is far longer than eighty columns of a terminal, kept whole"
    made = xobito(
        "workspace", "create", "acme", "--name", long_name, cwd=tmp_path, XOBITO_DATA_DIR=data
    )
    assert made.returncode == 0, made.stderr
    listed = xobito("workspace", "list", cwd=elsewhere, XOBITO_DATA_DIR=data)
    # Piped: a header and one tab-separated line per row, every value whole.
    header, row = listed.stdout.strip().splitlines()
    assert header.split("\t")[:3] == ["id", "subdomain", "name"]
    assert row.split("\t")[:3] == ["1", "acme", long_name]


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+asyncpg://xobito:secret@127.0.0.1:{port}/xobito"
    line = one_line_error(xobito("workspace", "list", cwd=tmp_path, XOBITO_DATABASE_URL=url))
    assert f"127.0.0.1:{port}" in line
    assert "secret" not in line  # the password is never printed


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"XOBITO_ENV": "staging"}, "invalid setting XOBITO_ENV:"),
        ({"XOBITO_DATABASE_URL": "not a url"}, "invalid XOBITO_DATABASE_URL"),
    ],
)
def test_bad_settings_are_one_line(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    assert expected in one_line_error(xobito("token", "list", "demo", cwd=tmp_path, **env))


def test_an_unwritable_database_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = one_line_error(
        xobito("db", "upgrade", cwd=tmp_path, XOBITO_DATA_DIR=str(blocker / "data"))
    )
    assert str(blocker) in line
