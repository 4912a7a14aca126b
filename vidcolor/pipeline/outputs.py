"""Where the output goes: checks before a run, a temporary file during it, an atomic rename after."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from vidcolor.errors import MediaError, UsageError
from vidcolor.media.sequence import find_sequence, is_pattern
from vidcolor.media.sequence_out import SequenceTarget, check_sequence_output, sequence_target

if TYPE_CHECKING:
    from vidcolor.pipeline.options import ColorizeOptions

log = logging.getLogger(__name__)

PARTIAL_MARK = ".vidcolor-partial"


def check_paths(src: Path, dst: Path, *, overwrite: bool) -> None:
    """Refuse runs that would write over the input or over an existing file, or cannot write at all."""
    if not src.exists() and not is_pattern(src):  # a printf pattern (scans/%06d.dpx) is checked when probed
        raise MediaError(f"{src} does not exist")
    if dst.exists() and dst.is_dir():
        raise UsageError(f"{dst} is a folder; give a file name for the output")
    if dst.resolve() == src.resolve() or (dst.exists() and os.path.samefile(src, dst)):
        raise UsageError(f"the output {dst} is the input; vidcolor never writes over its input")
    if dst.exists() and not overwrite:
        raise UsageError(f"{dst} already exists; pass --overwrite to replace it")
    parent = dst.parent if str(dst.parent) else Path(".")
    if not parent.is_dir():
        raise MediaError(f"the output folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MediaError(f"the output folder {parent} is not writable")


def check_output(src: Path, dst: Path, options: ColorizeOptions) -> SequenceTarget | None:
    """Refuse, before any work, what would go wrong with ``dst``; the numbered stills it names, or None for a file."""
    target = sequence_target(dst)
    if target is None:
        check_paths(src, dst, overwrite=options.overwrite)
        options.encode.check(dst)
        return None
    if not src.exists() and not is_pattern(src):
        raise MediaError(f"{src} does not exist")
    check_sequence_output(target, find_sequence(src, options.fps), overwrite=options.overwrite)
    return target


def partial_path(dst: Path) -> Path:
    """A hidden name beside the target, keeping its extension so the muxer is chosen the same way."""
    return dst.with_name(f".{dst.stem}{PARTIAL_MARK}-{os.getpid()}{dst.suffix}")


@contextlib.contextmanager
def atomic_output(dst: Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``dst``, on any error or interrupt it is deleted."""
    tmp = partial_path(dst)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except OSError as ex:
        if ex.filename is not None and os.fspath(ex.filename) not in (os.fspath(tmp), os.fspath(dst)):
            # another file failed inside the block (an input read, say): not a write error
            raise MediaError(f"{os.fspath(ex.filename)}: {ex.strerror or ex}") from ex
        raise MediaError(f"cannot write {dst}: {ex.strerror or ex}") from ex
    finally:
        _remove_partial(tmp)


def _remove_partial(tmp: Path) -> None:
    # never raise here: the error being unwound (or a read-only folder's) is what the user must see
    if not os.path.lexists(tmp):
        return  # a read-only folder answers EROFS, not ENOENT, for a file it never had
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    except OSError as ex:
        log.warning("could not remove the partial output %s: %s", tmp, ex.strerror or ex)
