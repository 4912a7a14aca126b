"""Sparse soft encoding: each pixel's mass on its 5 nearest bins as (indices, weights).

Equal to ``vidcolor.color.soft_encode`` scattered densely, but 60x smaller, so
targets can be computed once per crop and stored beside the features.
"""

from __future__ import annotations

import torch

from vidcolor.color.bins import ab_bins


def sparse_soft_encode(ab: torch.Tensor, *, neighbours: int = 5, sigma: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,2,H,W) ab to bin indices (B,K,H,W) int64, nearest first, and Gaussian weights (B,K,H,W) summing to 1."""
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
    dist2 = torch.cdist(flat, ab_bins(ab.device)).square()
    near_d2, near_idx = dist2.topk(neighbours, dim=1, largest=False, sorted=True)
    weights = torch.softmax(-near_d2 / (2 * sigma * sigma), dim=1)

    def unflatten(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(b, h, w, neighbours).permute(0, 3, 1, 2).contiguous()

    return unflatten(near_idx), unflatten(weights)


def densify(index: torch.Tensor, weight: torch.Tensor, num_bins: int = 313) -> torch.Tensor:
    """Sparse targets back to the dense (B,num_bins,H,W) distribution."""
    b, _, h, w = index.shape
    dense = torch.zeros(b, num_bins, h, w, device=index.device, dtype=weight.dtype)
    return dense.scatter_(1, index, weight)
