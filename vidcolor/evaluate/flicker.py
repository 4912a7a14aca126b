"""Flicker metrics for colourised video: CDC and warp error.

CDC (colour distribution consistency) is the measure of TCVC (Liu et al.,
"Temporally consistent video colorization with deep feature propagation and
self-regularization learning") that NTIRE 2023 video colourisation ranks by:
for each RGB channel the Jensen-Shannon divergence (natural log) between the
256-bin histograms of frames t and t+d, averaged over t, over the dilations
d = 1, 2, 4 with equal weights, and over the three channels. Lower is steadier;
identical frames give 0, and it cannot see where colour moves inside a frame.

Warp error (Lai et al., ECCV 2018) does: the mean squared difference between
frame t and frame t+1 warped back onto t by the optical flow of the *input*
grey frames, over pixels that pass a forward/backward flow check (occlusions
and pixels leaving the frame are masked out), averaged over frame pairs. Values
are in the frames' own units squared; for uint8 RGB they are scaled to [0, 1]
first. The flow comes from the grey input so that every method is judged
against the same motion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from vidcolor.temporal.flow import FARNEBACK_FULL, FlowEstimator, consistent, sample_maps

CDC_DILATIONS: tuple[int, ...] = (1, 2, 4)


def _channel_histograms(frame: np.ndarray) -> np.ndarray:
    """(C, 256) normalised histograms of a uint8 (H, W, C) frame."""
    flat = frame.reshape(-1, frame.shape[-1])
    hists = np.stack([np.bincount(flat[:, c], minlength=256) for c in range(flat.shape[1])]).astype(np.float64)
    return hists / flat.shape[0]


def _js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (nats) between rows of p and q."""
    m = (p + q) / 2

    def kl(a: np.ndarray) -> np.ndarray:
        # 0 log 0 = 0; where a > 0, m > 0 too.
        ratio = np.where(a > 0, a / np.where(m > 0, m, 1), 1)
        return (a * np.log(ratio)).sum(axis=-1)

    return (kl(p) + kl(q)) / 2


def cdc(frames: Sequence[np.ndarray] | np.ndarray, dilations: Sequence[int] = CDC_DILATIONS) -> float:
    """Colour distribution consistency of uint8 RGB frames (N, H, W, 3); lower is steadier.

    Raises:
        ValueError: frames are not uint8 with a channel axis, or too few for the largest dilation.
    """
    if len(frames) <= max(dilations):
        raise ValueError(f"CDC with dilations {tuple(dilations)} needs more than {max(dilations)} frames, got {len(frames)}")
    hists = []
    for frame in frames:
        if frame.dtype != np.uint8 or frame.ndim != 3:
            raise ValueError(f"CDC wants uint8 (H, W, C) frames, got {frame.dtype} {frame.shape}")
        hists.append(_channel_histograms(frame))
    h = np.stack(hists)  # (N, C, 256)
    per_dilation = [_js_divergence(h[:-d], h[d:]).mean() for d in dilations]
    return float(np.mean(per_dilation))


class WarpPair(NamedTuple):
    """How frame t+1 maps onto frame t: remap coordinates and the pixels where that holds."""

    map_x: np.ndarray
    map_y: np.ndarray
    mask: np.ndarray  # bool (H, W)


def warp_pairs(grey: Sequence[np.ndarray] | np.ndarray, estimator: FlowEstimator | None = None) -> list[WarpPair]:
    """Flow between consecutive uint8 grey frames (N, H, W), computed once for many outputs.

    Raises:
        ValueError: fewer than two frames, or frames that are not uint8 (H, W).
    """
    if len(grey) < 2:
        raise ValueError(f"warp error needs at least 2 frames, got {len(grey)}")
    estimator = estimator or FlowEstimator("farneback", FARNEBACK_FULL)
    pairs = []
    for a, b in zip(grey[:-1], grey[1:]):
        if a.dtype != np.uint8 or a.ndim != 2:
            raise ValueError(f"grey frames must be uint8 (H, W), got {a.dtype} {a.shape}")
        forward = estimator(a, b)  # a(x) ~ b(x + forward(x))
        backward = estimator(b, a)
        map_x, map_y = sample_maps(forward)
        pairs.append(WarpPair(map_x, map_y, consistent(forward, backward)))
    return pairs


def warp_error(
    frames: Sequence[np.ndarray] | np.ndarray,
    grey: Sequence[np.ndarray] | np.ndarray | None = None,
    *,
    pairs: Sequence[WarpPair] | None = None,
) -> float:
    """Mean masked squared difference between frame t and frame t+1 warped onto t.

    Args:
        frames: (N, H, W, C) frames to judge; uint8 is scaled to [0, 1], float is taken as is.
        grey: the input grey frames (N, H, W) uint8 that define the motion; or
        pairs: their :func:`warp_pairs`, to reuse one flow computation across methods.

    Raises:
        ValueError: neither or both of grey and pairs, or a frame count that does not match.
    """
    if (grey is None) == (pairs is None):
        raise ValueError("pass exactly one of grey or pairs")
    if pairs is None:
        pairs = warp_pairs(grey)
    if len(pairs) != len(frames) - 1:
        raise ValueError(f"{len(frames)} frames but {len(pairs)} flow pairs")
    errors = []
    for t, pair in enumerate(pairs):
        cur, nxt = (np.asarray(f, dtype=np.float32) for f in (frames[t], frames[t + 1]))
        if frames[t].dtype == np.uint8:
            cur, nxt = cur / 255, nxt / 255
        warped = cv2.remap(nxt, pair.map_x, pair.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if warped.ndim == 2:  # cv2 drops a single channel axis
            warped = warped[..., None]
        sq = np.square(cur.reshape(warped.shape) - warped).mean(axis=-1)
        if pair.mask.any():
            errors.append(float(sq[pair.mask].mean()))
    return float(np.mean(errors)) if errors else 0.0
