"""The 313 quantised ab bins of Zhang, Isola & Efros (ECCV 2016).

The bins are the points of the ab grid (step 10) whose cells the sRGB gamut
reaches, in the authors' channel order: sorted by a, then b. For every a the
in-gamut b values form one contiguous run, so the whole set is described by a
run per grid row; tests check it against the authors' ``pts_in_hull.npy`` and
against the sRGB gamut itself.
"""

from __future__ import annotations

import functools

import torch

AB_BIN_STEP = 10

# a -> (lowest b, highest b) of the in-gamut cells on that grid row.
_B_RUNS: dict[int, tuple[int, int]] = {
    -90: (50, 90), -80: (20, 90), -70: (0, 90), -60: (-20, 90), -50: (-30, 100),
    -40: (-40, 100), -30: (-50, 100), -20: (-50, 100), -10: (-60, 100), 0: (-70, 100),
    10: (-80, 90), 20: (-80, 90), 30: (-90, 90), 40: (-100, 90), 50: (-100, 80),
    60: (-110, 80), 70: (-110, 80), 80: (-110, 70), 90: (-110, 70), 100: (-90, 0),
}


@functools.cache
def _bins_cpu() -> torch.Tensor:
    points = [
        (a, b)
        for a in sorted(_B_RUNS)
        for b in range(_B_RUNS[a][0], _B_RUNS[a][1] + AB_BIN_STEP, AB_BIN_STEP)
    ]
    # cached for the process: made under inference mode, it could never join a graph afterwards
    with torch.inference_mode(False):
        return torch.tensor(points, dtype=torch.float32)


def ab_bins(device: torch.device | str = "cpu") -> torch.Tensor:
    """The bin centres as a float32 tensor of shape (313, 2), columns (a, b)."""
    return _bins_cpu().to(device)


def soft_encode(ab: torch.Tensor, *, neighbours: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """Soft-encode ab values onto their nearest bins with a Gaussian kernel.

    Args:
        ab: (B, 2, H, W) float tensor of a and b values.
        neighbours: how many nearest bins share each pixel's mass.
        sigma: the Gaussian's width in ab units.

    Returns:
        (B, 313, H, W) float32 target distribution, summing to 1 per pixel.
    """
    bins = ab_bins(ab.device)
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
    dist2 = torch.cdist(flat, bins).square()
    near_d2, near_idx = dist2.topk(neighbours, dim=1, largest=False)
    weights = torch.softmax(-near_d2 / (2 * sigma * sigma), dim=1)
    target = torch.zeros(flat.shape[0], bins.shape[0], device=ab.device)
    target.scatter_(1, near_idx, weights)
    return target.reshape(b, h, w, -1).permute(0, 3, 1, 2).contiguous()
