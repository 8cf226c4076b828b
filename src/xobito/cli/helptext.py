"""Help screens without noise: flags show no ``<bool>`` type (they take no value)."""

from __future__ import annotations

from typing import Any

from typer.core import TyperOption

_display_type_rich = TyperOption.display_type_rich


def _flag_shows_no_type(self: TyperOption, ctx: Any) -> Any:
    if self.is_flag:
        return None
    return _display_type_rich(self, ctx)


def plain_flags() -> None:
    """Install the rule (once; typer has no setting for it)."""
    TyperOption.display_type_rich = _flag_shows_no_type  # type: ignore[method-assign]
