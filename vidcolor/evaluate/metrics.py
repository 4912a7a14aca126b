"""Per-image quality metrics of a colourisation against its colour original.

Images are (H, W, 3) float RGB in [0, 1] (numpy), Lab as from ``vidcolor.color``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
from skimage.color import deltaE_ciede2000
from skimage.metrics import structural_similarity

from vidcolor.train.rebalance import NUM_BINS, nearest_bin

AUC_MAX_THRESHOLD = 150  # ab L2 thresholds 0..150, as Zhang et al. 2016, fig. 4


def psnr(output: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB over all RGB samples in [0, 1]; inf when identical."""
    mse = float(np.mean((output.astype(np.float64) - truth.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def ssim_rgb(output: np.ndarray, truth: np.ndarray) -> float:
    """Mean SSIM over the three RGB channels."""
    return float(structural_similarity(output, truth, channel_axis=2, data_range=1.0))


def mean_ciede2000(output_lab: np.ndarray, truth_lab: np.ndarray) -> float:
    """Mean CIEDE2000 colour difference of two (H, W, 3) Lab images."""
    return float(np.mean(deltaE_ciede2000(truth_lab, output_lab)))


def rgb_to_lab_np(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) sRGB in [0, 1] to Lab (D65) with OpenCV: for metrics, where it is many times
    faster than a torch round trip and agrees with ``vidcolor.color.rgb_to_lab`` to ~0.01."""
    return cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2Lab).astype(np.float64)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness M of RGB in [0, 1], on the 0..255 scale of the paper."""
    r, g, b = (rgb.astype(np.float64) * 255).transpose(2, 0, 1)
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))


class AucAccumulator:
    """Fraction of pixels whose ab L2 error is within each threshold 0..150, per truth bin.

    Raw AuC weights every pixel alike; the class-rebalanced AuC weights each pixel
    by the inverse of its truth bin's frequency in the evaluated set, so every
    occupied bin counts equally and rare saturated colours are not drowned by
    greys (Zhang et al. 2016). Accumulates over images, so both are exact for the set.
    """

    def __init__(self) -> None:
        # hits[k, t]: pixels of truth bin k with ceil(error) == t (t = 151: beyond the last threshold)
        self.hits = torch.zeros(NUM_BINS, AUC_MAX_THRESHOLD + 2, dtype=torch.float64)

    def add(self, output_ab: torch.Tensor, truth_ab: torch.Tensor, truth_bins: torch.Tensor | None = None) -> None:
        """(B,2,H,W) predicted and true ab at the same resolution; ``truth_bins`` (B,H,W), the truth's
        nearest bins, saves recomputing them when several predictions share one truth."""
        error = (output_ab.float() - truth_ab.float()).norm(dim=1).flatten()
        step = error.ceil().clamp(max=AUC_MAX_THRESHOLD + 1).long()
        bins = (nearest_bin(truth_ab) if truth_bins is None else truth_bins).flatten()
        flat = bins * (AUC_MAX_THRESHOLD + 2) + step
        self.hits += torch.bincount(flat, minlength=self.hits.numel()).double().view_as(self.hits)

    def _within(self) -> torch.Tensor:
        # error <= t exactly when ceil(error) <= t for integer t
        return self.hits.cumsum(dim=1)[:, : AUC_MAX_THRESHOLD + 1]

    def curve(self, rebalanced: bool = False) -> np.ndarray:
        """Fraction of pixels within each threshold 0..150, (151,) in [0, 1]."""
        within = self._within()
        totals = self.hits.sum(dim=1)
        if not rebalanced:
            return (within.sum(dim=0) / totals.sum().clamp_min(1)).numpy()
        occupied = totals > 0
        return (within[occupied] / totals[occupied, None]).mean(dim=0).numpy()

    def auc(self, rebalanced: bool = False) -> float:
        """Area under the curve as a percentage (100: every pixel exact)."""
        return float(self.curve(rebalanced).mean() * 100)
