"""Process entry: logging, signals, and turning errors into one line and an exit code."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

import click

from vidcolor.errors import VidcolorError

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C so every ``finally`` removes partial output."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def _error(message: str) -> None:
    sys.stderr.write(f"vidcolor: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    from vidcolor.cli.app import app

    debug = os.environ.get("VIDCOLOR_DEBUG") == "1"
    logging.captureWarnings(True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app(args=argv, prog_name="vidcolor", standalone_mode=False)
        code = 0
    except click.exceptions.Exit as ex:
        code = ex.exit_code
    except click.ClickException as ex:
        ex.show()
        code = ex.exit_code
    except Terminated:
        _error("terminated; no output was written")
        code = EXIT_TERMINATED
    except (KeyboardInterrupt, click.exceptions.Abort):
        _error("interrupted; no output was written")
        code = EXIT_INTERRUPTED
    except VidcolorError as ex:
        if debug:
            raise
        _error(str(ex).splitlines()[0] if str(ex) else type(ex).__name__)
        code = ex.exit_code
    except Exception as ex:  # a bug: one line unless debugging
        if debug:
            raise
        _error(f"internal error ({type(ex).__name__}: {ex}); rerun with VIDCOLOR_DEBUG=1 for a traceback")
        code = 1
    return code
