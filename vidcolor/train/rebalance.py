"""Class rebalancing of Zhang, Isola & Efros (ECCV 2016), section 2.2.

Natural images are mostly desaturated; weighting each pixel's loss by the
rarity of its colour keeps the network from predicting grey everywhere.
"""

from __future__ import annotations

import torch

from vidcolor.color.bins import ab_bins

NUM_BINS = 313


def nearest_bin(ab: torch.Tensor) -> torch.Tensor:
    """Index of the nearest bin for every pixel of (B,2,H,W) ab; returns (B,H,W) int64."""
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
    return torch.cdist(flat, ab_bins(ab.device)).argmin(dim=1).reshape(b, h, w)


def bin_counts(bin_index: torch.Tensor) -> torch.Tensor:
    """How many pixels fall in each bin, from their (any shape) nearest-bin indices: (313,) float64."""
    return torch.bincount(bin_index.flatten().long(), minlength=NUM_BINS).double()


def smooth_prior(counts: torch.Tensor, sigma: float = 5.0) -> torch.Tensor:
    """Empirical bin distribution smoothed with a Gaussian of ``sigma`` in ab units; sums to 1."""
    p = counts.double() / counts.sum().clamp_min(1)
    if sigma <= 0:
        return p
    centres = ab_bins().double()
    kernel = torch.exp(-torch.cdist(centres, centres).square() / (2 * sigma * sigma))
    # Normalise each source bin's kernel so smoothing moves mass without creating it.
    kernel = kernel / kernel.sum(dim=0, keepdim=True)
    smoothed = kernel @ p
    return smoothed / smoothed.sum()


def rebalance_weights(prior: torch.Tensor, lam: float = 0.5) -> torch.Tensor:
    """w = 1 / ((1-lam) p + lam/Q), scaled so that the expected weight under p is 1."""
    q = prior.numel()
    w = 1.0 / ((1 - lam) * prior.double() + lam / q)
    return (w / (prior.double() * w).sum()).float()
