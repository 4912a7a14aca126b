"""Colouring every video in a folder: one bad file is reported, never stops the others."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vidcolor.defaults import VIDEO_SUFFIXES
from vidcolor.errors import VidcolorError
from vidcolor.media.encode import CODECS
from vidcolor.pipeline.colorize import ColorizeResult

log = logging.getLogger(__name__)


# (source, output) -> result; the caller decides plain or segmented runs and progress display
RunOne = Callable[[Path, Path], ColorizeResult]


@dataclass
class BatchItem:
    """One file of a batch and what became of it: ``done``, ``skipped`` (already finished) or ``failed``."""

    source: Path
    output: Path
    status: str = "pending"
    frames: int = 0
    fps: float = 0.0
    seconds: float = 0.0
    error: str = ""


def find_videos(folder: Path, *, recursive: bool, exclude: Path | None = None) -> list[Path]:
    """Video files in ``folder`` by suffix, sorted; hidden files (our work folders, partial outputs) are left out."""
    pattern = "**/*" if recursive else "*"
    found = []
    for path in folder.glob(pattern):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if exclude is not None and path.resolve().is_relative_to(exclude.resolve()):
            continue
        if path.suffix.lower() in VIDEO_SUFFIXES:
            found.append(path)
    return sorted(found)


def output_for(source: Path, folder: Path, out_folder: Path, codec: str) -> Path:
    """The same relative path under ``out_folder``, in the source's container when the codec allows it."""
    suffixes = CODECS[codec][1]
    suffix = source.suffix.lower() if source.suffix.lower() in suffixes else suffixes[0]
    return (out_folder / source.relative_to(folder)).with_suffix(suffix)


def plan_batch(folder: Path, out_folder: Path, *, codec: str, recursive: bool, overwrite: bool) -> list[BatchItem]:
    """Every video and its output; those whose output exists are ``skipped`` (outputs appear only when complete)."""
    if out_folder.exists() and not out_folder.is_dir():
        raise VidcolorError(f"{out_folder} is a file; give a folder for the outputs of a folder input")
    items = []
    for source in find_videos(folder, recursive=recursive, exclude=out_folder if out_folder != folder else None):
        item = BatchItem(source, output_for(source, folder, out_folder, codec))
        if item.output.exists() and not overwrite:
            item.status = "skipped"
        items.append(item)
    return items


def run_batch(items: list[BatchItem], run_one: RunOne, *, on_item: Callable[[BatchItem], None] | None = None) -> list[BatchItem]:
    """Run every pending item in order; a failure is recorded in the item and the batch goes on.

    Interrupts (Ctrl-C, SIGTERM) still stop the whole batch: the finished outputs stay and
    the next run skips them.
    """
    for item in items:
        if item.status == "pending":
            item.output.parent.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            try:
                result = run_one(item.source, item.output)
            except Exception as ex:  # noqa: BLE001 (one bad file must not stop the batch)
                item.status = "failed"
                # the table names the file already
                first = (str(ex).splitlines()[0] if str(ex) else "").replace(f"{item.source}: ", "").replace(str(item.source), item.source.name)
                item.error = first if isinstance(ex, VidcolorError) else f"internal error ({type(ex).__name__}: {first})"
                log.warning("%s failed: %s", item.source, item.error)
            else:
                item.status = "done"
                item.frames, item.fps = result.frames, result.fps
            item.seconds = time.perf_counter() - start
        if on_item is not None:
            on_item(item)
    return items
