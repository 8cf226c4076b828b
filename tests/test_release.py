"""What a release carries: one version, the lock bootstrap installs, the licence, the
changelog and the pre-commit hooks. (scripts/wheel_smoke.py, run by scripts/test.sh, checks
the built wheel on its own.)"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import xobito_client
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import xobito

ROOT = Path(__file__).resolve().parent.parent
SDK_VERSION = "xobito_client._version"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(?: ; ([^\\\n]+?))?(?: \\)?$")


def pyproject(path: str = "pyproject.toml") -> dict[str, Any]:
    return tomllib.loads((ROOT / path).read_text())


class Pin(NamedTuple):
    version: Version
    marker: Marker | None
    hashes: int


def pins(lock: str) -> dict[str, list[Pin]]:
    """name -> its pins (one per marker) in a requirements/*.txt lock."""
    found: dict[str, list[Pin]] = {}
    name = None
    for line in (ROOT / "requirements" / lock).read_text().splitlines():
        if m := PIN.match(line):
            name = canonicalize_name(m.group(1))
            marker = Marker(m.group(3)) if m.group(3) else None
            found.setdefault(name, []).append(Pin(Version(m.group(2)), marker, 0))
        elif line.strip().startswith("--hash=sha256:") and name is not None:
            last = found[name][-1]
            found[name][-1] = last._replace(hashes=last.hashes + 1)
    return found


def pinned(lock: dict[str, list[Pin]], name: str) -> Version:
    """The version the lock installs here (its marker, if any, holds on this machine)."""
    here = [p.version for p in lock[canonicalize_name(name)] if not p.marker or p.marker.evaluate()]
    assert len(here) == 1, (name, here)
    return here[0]


def requirements(path: str, *extras: str) -> list[Requirement]:
    project = pyproject(path)
    listed = list(project["project"]["dependencies"])
    for extra in extras:
        listed += project["project"]["optional-dependencies"][extra]
    listed += project["build-system"]["requires"]
    return [Requirement(r) for r in listed]


# -- the version, in one place --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "distribution", "attr", "module"),
    [
        ("pyproject.toml", "xobito", "xobito.__version__", xobito),
        (
            "sdk/pyproject.toml",
            "xobito-client",
            "xobito_client._version.__version__",
            xobito_client,
        ),
    ],
)
def test_version_lives_in_the_package(path: str, distribution: str, attr: str, module: Any) -> None:
    project = pyproject(path)
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": attr}
    # the installed metadata was read from there
    assert metadata.version(distribution) == module.__version__
    assert Version(module.__version__) == Version(module.__version__.strip())


# -- the lock -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lock", ["main.txt", "dev.txt"])
def test_every_pin_has_hashes(lock: str) -> None:
    entries = [entry for versions in pins(lock).values() for entry in versions]
    assert len(entries) > 50
    assert all(pin.hashes >= 1 for pin in entries)


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [
        ("main.txt", [("pyproject.toml", ())]),
        ("dev.txt", [("pyproject.toml", ("dev",)), ("sdk/pyproject.toml", ("aiohttp",))]),
    ],
)
def test_lock_satisfies_pyproject(lock: str, wanted: list[tuple[str, tuple[str, ...]]]) -> None:
    """A dependency added to or narrowed in a pyproject.toml needs scripts/lock.sh."""
    locked = pins(lock)
    for path, extras in wanted:
        for req in requirements(path, *extras):
            if req.marker and not req.marker.evaluate():
                continue
            assert canonicalize_name(req.name) in locked, f"{req} ({path}) is not in {lock}"
            version = pinned(locked, req.name)
            assert req.specifier.contains(version, prereleases=True), (str(req), str(version))


def test_main_lock_is_the_dev_lock_less_the_tools() -> None:
    main, dev = pins("main.txt"), pins("dev.txt")
    assert set(main) < set(dev)
    for name, versions in main.items():
        assert {p.version for p in versions} <= {p.version for p in dev[name]}, name
    assert "pytest" not in main and "pytest" in dev


def test_installed_versions_are_the_locked_ones() -> None:
    """bootstrap installed exactly requirements/dev.txt."""
    locked = pins("dev.txt")
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in {"xobito", "xobito-client", "pip"}:
            continue
        assert name in locked, f"{name} is installed but not locked"
        assert Version(dist.version) == pinned(locked, name), name


# -- licence, changelog, pre-commit ----------------------------------------------------------------


def test_license_is_the_mit_text_the_metadata_declares() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert re.search(r"^Copyright \(c\) \d{4} Xobito contributors$", text, re.MULTILINE)
    assert "Permission is hereby granted, free of charge" in text
    assert (ROOT / "sdk" / "LICENSE").read_text() == text
    for path in ("pyproject.toml", "sdk/pyproject.toml"):
        assert pyproject(path)["project"]["license"] == "MIT"
        assert pyproject(path)["project"]["license-files"] == ["LICENSE"]


def test_changelog_has_an_entry_for_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "https://keepachangelog.com/en/1.1.0/" in text
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    # a version bump comes with its section; until the release, Unreleased holds the changes
    assert headings[0] in ("Unreleased", xobito.__version__)
    assert headings[0] == "Unreleased" or xobito.__version__ in headings


def test_pre_commit_runs_ruff_and_mypy() -> None:
    config = ROOT / ".pre-commit-config.yaml"
    done = subprocess.run(
        [Path(sys.executable).parent / "pre-commit", "validate-config", config],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = {hook["id"]: hook["entry"] for hook in yaml_hooks(config)}
    assert hooks["ruff"].startswith(".venv/bin/ruff check")
    assert hooks["mypy"] == ".venv/bin/mypy src"
    assert hooks["mypy-sdk"] == ".venv/bin/mypy --strict sdk/src"


def yaml_hooks(config: Path) -> list[dict[str, Any]]:
    import yaml

    data = yaml.safe_load(config.read_text())
    return [hook for repo in data["repos"] for hook in repo["hooks"]]
