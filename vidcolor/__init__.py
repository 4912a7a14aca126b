"""vidcolor: colourise black-and-white film.

>>> import vidcolor
>>> vidcolor.colorize("film.mp4", "film_color.mp4")  # doctest: +SKIP
"""

from vidcolor.errors import EngineError, MediaError, UsageError, VidcolorError, WeightsError
from vidcolor.media.encode import EncodeOptions
from vidcolor.pipeline import ColorizeOptions, ColorizeResult, Progress, colorize

__version__ = "0.1.0"

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
