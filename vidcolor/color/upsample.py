"""Edge-aware upsampling of low-resolution ab guided by full-resolution L.

The network predicts ab at a quarter of its input size, so bilinear upsampling
lets colour bleed across edges. The fast guided filter (He & Sun 2015) fits, in
each low-resolution window, ab as a linear function of L; the per-pixel linear
coefficients are smooth, so they can be upsampled bilinearly and applied to the
full-resolution L, where the edges are.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    return F.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)


def guided_upsample_ab(ab_low: torch.Tensor, l_full: torch.Tensor, *, radius: int = 1, eps: float = 25.0) -> torch.Tensor:
    """(B,2,h,w) ab to the size of (B,1,H,W) L in [0,100], following L's edges.

    Args:
        ab_low: ab at the network's output resolution.
        l_full: the full-resolution L the output is built on.
        radius: window radius in low-resolution pixels.
        eps: regularisation in L units squared; larger keeps ab closer to its local mean
            (flat areas), smaller follows L more closely.
    """
    ab_low = ab_low.float()
    l_full = l_full.float()
    l_low = F.interpolate(l_full, size=ab_low.shape[-2:], mode="area")
    mean_l = _box(l_low, radius)
    mean_ab = _box(ab_low, radius)
    var_l = _box(l_low * l_low, radius) - mean_l * mean_l
    cov = _box(l_low * ab_low, radius) - mean_l * mean_ab
    slope = cov / (var_l + eps)
    offset = mean_ab - slope * mean_l
    size = l_full.shape[-2:]
    slope = F.interpolate(slope, size=size, mode="bilinear", align_corners=False)
    offset = F.interpolate(offset, size=size, mode="bilinear", align_corners=False)
    return slope * l_full + offset
