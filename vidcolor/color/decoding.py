"""From per-pixel bin distributions to ab values."""

from __future__ import annotations

import torch

from vidcolor.color.bins import ab_bins

# Zhang et al. 2016, section 2.2: T=0.38 sits between the mean (T=1, desaturated)
# and the mode (T->0, patchy).
DEFAULT_TEMPERATURE = 0.38


def annealed_mean(probs: torch.Tensor, temperature: float = DEFAULT_TEMPERATURE) -> torch.Tensor:
    """Annealed mean of (B, 313, H, W) probabilities; returns (B, 2, H, W) ab in float32.

    Re-annealing probabilities p with temperature T is softmax(log(p) / T), which
    equals softmax(logits / T) when p = softmax(logits), so the smoother can work
    on probabilities and decoding stays exact.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    logp = probs.float().clamp_min(1e-12).log()
    annealed = torch.softmax(logp / temperature, dim=1)
    return torch.einsum("bkhw,kc->bchw", annealed, ab_bins(probs.device))


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the bin axis in float32 (FP16 loses the tails over 313 classes)."""
    return torch.softmax(logits.float(), dim=1)
