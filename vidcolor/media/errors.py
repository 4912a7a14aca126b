"""Turning PyAV's exceptions into one-line MediaErrors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import av

from vidcolor.errors import MediaError


def describe(ex: BaseException) -> str:
    if isinstance(ex, av.error.FFmpegError):
        return ex.strerror or type(ex).__name__
    return str(ex) or type(ex).__name__


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Re-raise av and OS errors while reading ``path`` as MediaError."""
    try:
        yield
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as ex:
        raise MediaError(f"cannot read {path}: {describe(ex)}; is it a complete, playable video file?") from ex
