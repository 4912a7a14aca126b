"""What the user wrote: ``IMAGE`` (a palette reference) or ``IMAGE@TIME`` (a keyframe).

Kept free of torch and OpenCV so the CLI can parse and check the syntax before anything heavy loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from vidcolor.errors import UsageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

_CLOCK = re.compile(r"^(?:(\d+)[:_-])?(\d{1,2})[:_-](\d{1,2}(?:\.\d+)?)$")
_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
_FRAME = re.compile(r"^(?:#|frame[_-]?|f)(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class RefTime:
    """A keyframe's place in the film: exactly one of ``seconds`` and ``frame`` is set."""

    seconds: float | None = None
    frame: int | None = None

    def __str__(self) -> str:
        return f"#{self.frame}" if self.frame is not None else f"{self.seconds:g}s"


def parse_time(text: str) -> RefTime:
    """``12.5`` (seconds), ``HH:MM:SS[.mmm]`` / ``MM:SS`` or ``#FRAME``.

    In file names (``--references DIR``) ``_`` or ``-`` may stand for ``:``, and ``frame120`` / ``f120`` for ``#120``.

    Raises:
        UsageError: the text is none of these.
    """
    text = text.strip()
    if m := _FRAME.match(text):
        return RefTime(frame=int(m.group(1)))
    if _SECONDS.match(text):
        return RefTime(seconds=float(text))
    if m := _CLOCK.match(text):
        hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), float(m.group(3))
        if minutes >= 60 or seconds >= 60:
            raise UsageError(f"reference time {text!r}: minutes and seconds must be below 60")
        return RefTime(seconds=hours * 3600 + minutes * 60 + seconds)
    raise UsageError(f"reference time {text!r} is not seconds (12.5), HH:MM:SS[.mmm] or #FRAME")


@dataclass(frozen=True)
class ReferenceSpec:
    """One ``--reference``: an image, and for a keyframe the time of the frame it colours."""

    path: Path
    at: RefTime | None = None

    @property
    def is_keyframe(self) -> bool:
        return self.at is not None

    def __str__(self) -> str:
        return str(self.path) if self.at is None else f"{self.path}@{self.at}"


def parse_reference(text: str | Path | ReferenceSpec) -> ReferenceSpec:
    """``IMAGE`` or ``IMAGE@TIME``; an ``@`` that is part of the file's name is kept when no time follows it.

    Raises:
        UsageError: a time that does not parse.
    """
    if isinstance(text, ReferenceSpec):
        return text
    if isinstance(text, Path):
        return ReferenceSpec(text)
    head, sep, tail = text.rpartition("@")
    if not sep or not head:
        return ReferenceSpec(Path(text))
    # ``photo@2x.png`` is a file name, not a time: only a tail without a suffix of its own is a time
    if Path(tail).suffix.lower() in IMAGE_SUFFIXES or Path(text).exists() and not Path(head).exists():
        return ReferenceSpec(Path(text))
    return ReferenceSpec(Path(head), parse_time(tail))


def references_in_dir(folder: Path | str) -> list[ReferenceSpec]:
    """Every image in ``folder`` as a keyframe at the time or frame its name gives (``00_01_02.5.png``, ``#120.png``).

    Raises:
        UsageError: the folder is missing, holds no image, or an image's name is no time.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"--references {folder}: not a folder")
    images = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise UsageError(f"--references {folder}: no images in it")
    out = []
    for image in images:
        try:
            out.append(ReferenceSpec(image, parse_time(image.stem)))
        except UsageError:
            raise UsageError(f"--references {folder}: {image.name!r} is not named by a time (12.5, 00_01_02.5) "
                             f"or frame (#120, frame120)") from None
    return out
