"""Command line: a thin typer layer over the library. Entry point ``main``."""

from vidcolor.cli.main import main

__all__ = ["main"]
