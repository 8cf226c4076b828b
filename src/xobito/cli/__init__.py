"""The ``xobito`` command line (typer)."""
