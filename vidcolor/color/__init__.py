"""Pure colour maths: Lab from luma, the 313 ab bins, annealed-mean decoding, chroma planes.

No I/O here; everything works on torch tensors so it runs wherever the engine does.
"""

from vidcolor.color.bins import AB_BIN_STEP, ab_bins, soft_encode
from vidcolor.color.decoding import DEFAULT_TEMPERATURE, annealed_mean
from vidcolor.color.lab import (
    ChromaSpec,
    chroma_from_lab,
    l_from_luma,
    lab_to_rgb,
    luma_to_unit,
    rgb_to_lab,
)

__all__ = [
    "AB_BIN_STEP",
    "DEFAULT_TEMPERATURE",
    "ChromaSpec",
    "ab_bins",
    "annealed_mean",
    "chroma_from_lab",
    "l_from_luma",
    "lab_to_rgb",
    "luma_to_unit",
    "rgb_to_lab",
    "soft_encode",
]
