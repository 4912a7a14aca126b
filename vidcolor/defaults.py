"""Defaults and choices that the CLI shows in its help, defined once and importing nothing.

The modules that act on them (``media.encode``, ``temporal.smoothers``,
``jobs.plan``, ``pipeline.preview``, ``engines.onnx_export``) import them
from here and re-export them under their old names. Keeping them apart from those
modules lets ``vidcolor --help`` build its option list without importing torch,
OpenCV or PyAV.
"""

from __future__ import annotations

# ---- encoding (vidcolor.media.encode) ------------------------------------------------------

# user-facing codec name -> (FFmpeg encoder, containers it is offered in)
CODECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "x264": ("libx264", (".mp4", ".mkv", ".mov", ".m4v")),
    "ffv1": ("ffv1", (".mkv",)),
    "prores": ("prores_ks", (".mov", ".mkv")),
}
DEFAULT_CODEC = "x264"

# ---- decoding (vidcolor.media.decode) -----------------------------------------------------

# what to do at an undecodable packet: stop with an error, or conceal the picture and go on
ON_ERROR_CHOICES: tuple[str, ...] = ("stop", "skip")

# ---- folders (vidcolor.jobs.batch, vidcolor.media.sequence) ----------------------------------

# a folder holding any of these is a batch of films, never an image sequence
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".mts", ".wmv", ".flv")
# numbered stills that make one film (vidcolor.media.sequence)
STILL_SUFFIXES: tuple[str, ...] = (".dpx", ".tif", ".tiff", ".png", ".exr", ".jpg", ".jpeg", ".bmp")

# ---- temporal smoothing (vidcolor.temporal.smoothers) --------------------------------------

TEMPORAL_MODES: tuple[str, ...] = ("off", "ema", "flow")
# Measured in benchmarks/RESULTS.md: flow compensation bought no flicker over ema on
# the shared clips and cost about 6 ms a frame more on a CPU.
DEFAULT_MODE = "ema"
# weight of the previous state on a pixel whose luma did not change (SmootherParams.strength)
DEFAULT_STRENGTH = 0.9

# ---- segmented jobs (vidcolor.jobs.plan) -------------------------------------------

# Per segment the job pays one seek, a decode from the keyframe before it, an encoder
# start and flush, and (with smoothing) the warm-up frames' inference, which dominates:
# segments are at least 60 s and long enough that warm-up stays under 1.5 % of their frames
# (benchmarks/segments.py measures the whole overhead).
DEFAULT_SEGMENT_SECONDS = 60.0

# ---- preview sheets (vidcolor.pipeline.preview) --------------------------------------------

DEFAULT_PREVIEW_FRAMES = 6

# ---- ONNX export (vidcolor.engines.onnx_export) --------------------------------------------

MIN_OPSET = 17
