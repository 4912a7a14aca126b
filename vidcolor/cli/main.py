"""Process entry: logging, signals, and turning errors into one line and an exit code."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

import typer

from vidcolor.errors import VidcolorError

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C so every ``finally`` removes partial output."""


# Signals seen during this run. typer turns KeyboardInterrupt into an exit code of 130
# that app() returns (not raises) outside standalone mode, so the exception alone is lost.
_received: list[int] = []


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    # a second signal would cut short the unwinding that removes the partial output;
    # a third means the user insists
    if len(_received) != 2:
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def _install_handlers() -> dict[int, object]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, _on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}


def _interrupted_code() -> int | None:
    if not _received:
        return None
    if _received[0] == signal.SIGTERM:
        _error("terminated; no output was written")
        return EXIT_TERMINATED
    _error("interrupted; no output was written")
    return EXIT_INTERRUPTED


def _error(message: str) -> None:
    sys.stderr.write(f"vidcolor: error: {message}\n")


def _show_usage_error(ex: typer.TyperException) -> None:
    """A usage error as one line with where to look."""
    message = ex.format_message()
    if not message:  # `vidcolor` alone: typer has printed the help already
        return
    ctx = getattr(ex, "ctx", None)
    _error(message if ctx is None else f"{message} (see '{ctx.command_path} --help')")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    debug = os.environ.get("VIDCOLOR_DEBUG") == "1"
    logging.captureWarnings(True)
    _received.clear()
    previous = _install_handlers()
    try:
        # imported after the handlers, like everything after it: the commands that need
        # torch and friends import them in their bodies (seconds), and a signal meanwhile
        # must still end in one line and 130/143
        from vidcolor.cli.app import app

        returned = app(args=argv, prog_name="vidcolor", standalone_mode=False)
        code = returned if isinstance(returned, int) else 0
    except typer.Exit as ex:
        code = ex.exit_code
    except typer.TyperException as ex:  # typer (>= 0.26 vendors click) raises its usage errors as these
        _show_usage_error(ex)
        code = ex.exit_code
    except (KeyboardInterrupt, typer.Abort):
        _received.append(signal.SIGTERM if isinstance(sys.exc_info()[1], Terminated) else signal.SIGINT)
        code = EXIT_INTERRUPTED
    except VidcolorError as ex:
        if debug:
            raise
        if not _received:  # an error met while unwinding an interrupt is not the news
            _error(str(ex).splitlines()[0] if str(ex) else type(ex).__name__)
        code = ex.exit_code
    except Exception as ex:  # a bug: one line unless debugging
        if debug:
            raise
        if not _received:
            _error(f"internal error ({type(ex).__name__}: {ex}); rerun with VIDCOLOR_DEBUG=1 for a traceback")
        code = 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    interrupted = _interrupted_code()
    return code if interrupted is None else interrupted
