"""Dense optical flow on grey frames and its forward/backward consistency mask.

Shared by the flow smoother (on the network's 1/4-resolution L) and by the
warp-error metric (on full evaluation frames), so both judge motion the same way.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import cv2
import numpy as np

FlowMethod = Literal["farneback", "dis"]
FLOW_METHODS: tuple[str, ...] = ("farneback", "dis")


class FarnebackParams(NamedTuple):
    """cv2.calcOpticalFlowFarneback settings; the defaults suit 56x56..64x64 frames."""

    pyr_scale: float = 0.5
    levels: int = 2
    winsize: int = 7
    iterations: int = 3
    poly_n: int = 5
    poly_sigma: float = 1.1


# For frames of a few hundred pixels (evaluation), OpenCV's usual choice.
FARNEBACK_FULL = FarnebackParams(levels=3, winsize=15, poly_n=5, poly_sigma=1.2)


class FlowEstimator:
    """``flow(src, dst)`` with src(x) ~ dst(x + flow(x)), float32 (H, W, 2) in pixels (dx, dy)."""

    def __init__(self, method: FlowMethod = "farneback", farneback: FarnebackParams = FarnebackParams()) -> None:
        if method not in FLOW_METHODS:
            raise ValueError(f"unknown flow method {method!r}; expected one of {FLOW_METHODS}")
        self.method = method
        self.farneback = farneback
        # DIS keeps no state between calc() calls unless asked to, so one instance serves all frames.
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST) if method == "dis" else None

    def __call__(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        if self._dis is not None:
            return self._dis.calc(src, dst, None)
        p = self.farneback
        return cv2.calcOpticalFlowFarneback(
            src, dst, None, p.pyr_scale, p.levels, p.winsize, p.iterations, p.poly_n, p.poly_sigma, 0
        )


def sample_maps(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps that read each pixel x at x + flow(x)."""
    h, w = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return xs + flow[..., 0], ys + flow[..., 1]


def consistent(flow_ab: np.ndarray, flow_ba: np.ndarray) -> np.ndarray:
    """Boolean (H, W): where flow a->b lands inside b and b->a leads back.

    The criterion of Sundaram et al. (ECCV 2010), used by Ruder et al. and by
    Lai et al.'s warp error: |f + g(x+f)|^2 < 0.01 (|f|^2 + |g(x+f)|^2) + 0.5,
    which lets the tolerance grow with the motion.
    """
    h, w = flow_ab.shape[:2]
    map_x, map_y = sample_maps(flow_ab)
    back = cv2.remap(flow_ba, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    round_trip = np.square(flow_ab + back).sum(axis=2)
    tolerance = 0.01 * (np.square(flow_ab).sum(axis=2) + np.square(back).sum(axis=2)) + 0.5
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    return (round_trip < tolerance) & inside
