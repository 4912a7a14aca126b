"""The colourisation stream and its library API."""

from vidcolor.pipeline.colorize import ColorizeResult, colorize
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.progress import Progress

__all__ = ["ColorizeOptions", "ColorizeResult", "Progress", "colorize"]
