from tests.cli.test_cli import cli
from tests.web.conftest import browser, team

__all__ = ["browser", "cli", "team"]
