from tests.cli.test_cli import cli
from tests.web.conftest import browser

__all__ = ["browser", "cli"]
