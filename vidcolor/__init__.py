"""vidcolor: colourise black-and-white film.

>>> import vidcolor
>>> vidcolor.colorize("film.mp4", "film_color.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from vidcolor.errors import EngineError, MediaError, UsageError, VidcolorError, WeightsError

if TYPE_CHECKING:
    from vidcolor.media.encode import EncodeOptions
    from vidcolor.pipeline import ColorizeOptions, ColorizeResult, Progress, colorize

__version__ = "0.1.0"

# The pipeline pulls in torch, PyAV and OpenCV; importing them lazily keeps
# `import vidcolor` (and the CLI's signal handling at start-up) instant.
_LAZY = {
    "EncodeOptions": "vidcolor.media.encode",
    "ColorizeOptions": "vidcolor.pipeline",
    "ColorizeResult": "vidcolor.pipeline",
    "Progress": "vidcolor.pipeline",
    "colorize": "vidcolor.pipeline",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vidcolor' has no attribute {name!r}")


__all__ = [
    "ColorizeOptions",
    "ColorizeResult",
    "EncodeOptions",
    "EngineError",
    "MediaError",
    "Progress",
    "UsageError",
    "VidcolorError",
    "WeightsError",
    "colorize",
]
