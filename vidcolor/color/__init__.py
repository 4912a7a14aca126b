"""Pure colour maths: Lab from luma, the 313 ab bins, annealed-mean decoding, chroma planes.

No I/O here; everything works on torch tensors so it runs wherever the engine does.
The names below are imported on first use: ``vidcolor.color.spec`` (ChromaSpec,
needed to probe a file) must stay importable without torch and kornia.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidcolor._lazy import lazy_exports

if TYPE_CHECKING:
    from vidcolor.color.bins import AB_BIN_STEP, ab_bins, soft_encode
    from vidcolor.color.decoding import DEFAULT_TEMPERATURE, annealed_mean
    from vidcolor.color.lab import chroma_from_lab, l_from_luma, lab_to_rgb, luma_to_unit, rgb_to_lab
    from vidcolor.color.spec import ChromaSpec

__getattr__, __dir__ = lazy_exports(__name__, {
    "AB_BIN_STEP": "vidcolor.color.bins",
    "ab_bins": "vidcolor.color.bins",
    "soft_encode": "vidcolor.color.bins",
    "DEFAULT_TEMPERATURE": "vidcolor.color.decoding",
    "annealed_mean": "vidcolor.color.decoding",
    "ChromaSpec": "vidcolor.color.spec",
    "chroma_from_lab": "vidcolor.color.lab",
    "l_from_luma": "vidcolor.color.lab",
    "lab_to_rgb": "vidcolor.color.lab",
    "luma_to_unit": "vidcolor.color.lab",
    "rgb_to_lab": "vidcolor.color.lab",
})

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
