"""The multinomial cross-entropy of Zhang et al. 2016 with per-pixel class rebalancing."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def rebalanced_cross_entropy(
    logits: torch.Tensor, index: torch.Tensor, weight: torch.Tensor, class_weights: torch.Tensor
) -> torch.Tensor:
    """Mean over pixels of w(most likely target bin) * -sum_q z_q log softmax(logits)_q.

    The target z is sparse: ``index`` (B,K,H,W) holds its K bins, nearest (most
    likely) first, and ``weight`` (B,K,H,W) their mass.

    Args:
        logits: (B, Q, H, W) network output.
        index: (B, K, H, W) int64 target bins, the most likely first.
        weight: (B, K, H, W) target mass on those bins.
        class_weights: (Q,) rebalancing weight per bin.
    """
    logp = F.log_softmax(logits.float(), dim=1).gather(1, index)
    ce = -(weight.float() * logp).sum(dim=1)
    pixel_weight = class_weights.to(logits.device)[index[:, 0]]
    return (pixel_weight * ce).mean()
