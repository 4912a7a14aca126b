"""From full-resolution L to ab: resize, run the engine, softmax, smooth, decode.

Shared by the video stream, still images and evaluation, so every path colours
the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from vidcolor.color.decoding import DEFAULT_TEMPERATURE, annealed_mean, probabilities
from vidcolor.engines.base import Engine

# probs (B,313,h,w) float32, low-res L (B,1,h,w) -> smoothed probs
Smoother = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def network_input(l_full: torch.Tensor, size: int) -> torch.Tensor:
    """(B,1,H,W) L in [0,100] to the network's (B,1,S,S) input, normalised as (L-50)/100."""
    l_small = F.interpolate(l_full.float(), size=(size, size), mode="area")
    return (l_small - 50) / 100


def predict_ab(
    engine: Engine,
    l_full: torch.Tensor,
    *,
    temperature: float = DEFAULT_TEMPERATURE,
    smoother: Smoother | None = None,
) -> torch.Tensor:
    """ab at the network's output resolution, (B,2,S/4,S/4) float32, for L (B,1,H,W) in [0,100]."""
    x = network_input(l_full, engine.input_size)
    probs = probabilities(engine(x))
    if smoother is not None:
        l_low = F.interpolate(x, size=probs.shape[-2:], mode="area")
        probs = smoother(probs, l_low)
    return annealed_mean(probs, temperature)


def upsample_ab(ab: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """ab to (height, width) with bilinear interpolation."""
    return F.interpolate(ab, size=size, mode="bilinear", align_corners=False)
