"""Temporal smoothers of the per-pixel 313-bin distributions, between softmax and decoding.

Per-frame colourisation flickers because the network's distribution over ab
bins wobbles from frame to frame even where nothing moves. The smoothers keep
an exponential average of the distributions, a convex combination of
probability maps and so again a distribution, which annealed-mean decoding
reads as it would the network's own output. The weight of the past falls where
the picture changes (luma difference, after motion compensation for
:class:`FlowSmoother`) and the state is dropped at scene cuts.

Every smoother here is causal (``latency_frames == 0``): the output of frame t
depends on frames <= t only, so a batch can be decoded as soon as it is
smoothed. Frames must be fed in display order; the state carries across calls.
"""

from __future__ import annotations

import logging
from typing import NamedTuple, Protocol, runtime_checkable

import cv2
import numpy as np
import torch
from torch.nn import functional as F

# kept in vidcolor.defaults (with why ema is the default) so the CLI's help needs no torch
from vidcolor.defaults import DEFAULT_MODE, DEFAULT_STRENGTH, TEMPORAL_MODES
from vidcolor.temporal.flow import FlowEstimator, FlowMethod, consistent, sample_maps
from vidcolor.temporal.scenecut import SceneCutDetector

log = logging.getLogger(__name__)


@runtime_checkable
class TemporalSmoother(Protocol):
    """What the pipeline calls between softmax and decoding.

    ``__call__(probs, l_low)`` takes the next B frames in display order: probs
    (B, 313, h, w) float32 summing to 1 over the bins, and the same frames' L at
    that resolution, (B, 1, h, w), normalised as (L-50)/100. It returns smoothed
    probabilities of the same shape; the input is not modified.
    """

    latency_frames: int

    def __call__(self, probs: torch.Tensor, l_low: torch.Tensor) -> torch.Tensor: ...

    def warm_up(self, probs: torch.Tensor, l_low: torch.Tensor) -> None:
        """Consume frames that come before a segment without producing output (segment joins)."""
        ...

    def reset(self) -> None:
        """Forget all state, as at the start of a new film."""
        ...


class SmootherParams(NamedTuple):
    """Defaults of the recursive smoothers.

    strength: weight of the previous state on a pixel whose luma did not change;
        0 turns smoothing off, the effective memory is about 1 / (1 - strength) frames.
    motion_scale: luma change, in normalised L units (0.04 = 4 L*), over which
        that weight falls by a factor e.
    """

    strength: float = DEFAULT_STRENGTH
    motion_scale: float = 0.04


_DEFAULTS = SmootherParams()


def _check_batch(probs: torch.Tensor, l_low: torch.Tensor) -> None:
    if probs.ndim != 4 or l_low.ndim != 4 or l_low.shape[1] != 1:
        raise ValueError(f"expected probs (B,K,h,w) and l_low (B,1,h,w), got {tuple(probs.shape)} and {tuple(l_low.shape)}")
    if probs.shape[0] != l_low.shape[0] or probs.shape[-2:] != l_low.shape[-2:]:
        raise ValueError(f"probs {tuple(probs.shape)} and l_low {tuple(l_low.shape)} differ in batch or size")


class NoSmoothing:
    """Identity: ``--temporal off`` gives exactly the per-frame result."""

    latency_frames = 0

    def __call__(self, probs: torch.Tensor, l_low: torch.Tensor) -> torch.Tensor:
        _check_batch(probs, l_low)
        return probs

    def warm_up(self, probs: torch.Tensor, l_low: torch.Tensor) -> None:
        _check_batch(probs, l_low)

    def reset(self) -> None:
        pass


class EmaSmoother:
    """Motion-adaptive exponential average of the bin distributions, per pixel.

    state_t = p_t + w (state_{t-1} - p_t) with w = strength * exp(-m / motion_scale),
    where m is |L_t - L_{t-1} - median(L_t - L_{t-1})| box-filtered over 3x3
    pixels: neither exposure flicker nor film grain should count as motion.
    Where a pixel's luma changes, the new distribution takes over; where it does
    not, the past damps the network's wobble.

    The (h, w) maps (L, motion, weights) are handled in numpy/OpenCV on the CPU:
    at a few thousand pixels torch's intra-op thread pool costs more than the
    work, and on a GPU pipeline they are a few kilobytes to move. Only the
    (313, h, w) blend runs in torch, on the probabilities' device.
    """

    latency_frames = 0

    def __init__(
        self,
        strength: float = _DEFAULTS.strength,
        motion_scale: float = _DEFAULTS.motion_scale,
        *,
        scene_cuts: SceneCutDetector | None = None,
    ) -> None:
        if not 0 <= strength < 1:
            raise ValueError(f"strength must be in [0, 1), got {strength}")
        if motion_scale <= 0:
            raise ValueError(f"motion_scale must be positive, got {motion_scale}")
        self.strength = strength
        self.motion_scale = motion_scale
        self.scene_cuts = scene_cuts if scene_cuts is not None else SceneCutDetector()
        self.cuts = 0
        self._state: torch.Tensor | None = None
        self._prev_l: np.ndarray | None = None

    def reset(self) -> None:
        self.scene_cuts.reset()
        self._state = None
        self._prev_l = None

    def warm_up(self, probs: torch.Tensor, l_low: torch.Tensor) -> None:
        self(probs, l_low)

    @torch.inference_mode()
    def __call__(self, probs: torch.Tensor, l_low: torch.Tensor) -> torch.Tensor:
        _check_batch(probs, l_low)
        if probs.shape[0] == 0:
            return probs.float()
        # A copy: on the CPU .numpy() would share memory with the caller's tensor, and L is kept as state.
        l_frames = l_low[:, 0].float().cpu().numpy().copy()
        out = torch.empty_like(probs, dtype=torch.float32)
        for i in range(probs.shape[0]):
            self._step(probs[i].float(), l_frames[i], out[i])
        # The state must not alias the returned tensor, which the caller owns.
        self._state = self._state.clone()
        return out

    def _step(self, p: torch.Tensor, l: np.ndarray, out: torch.Tensor) -> None:
        cut = self.scene_cuts.is_cut(l)
        if cut:
            self.cuts += 1
            log.debug(
                "scene cut (histogram distance %.2f, correlation %.2f): temporal state reset",
                self.scene_cuts.last_distance,
                self.scene_cuts.last_correlation,
            )
        if self._state is None or cut or self.strength == 0:
            out.copy_(p)
        else:
            state, prev_l, valid = self._align(self._state, self._prev_l, l)
            diff = l - prev_l
            # Old film flickers in exposure: a global shift of L is not motion.
            diff -= np.median(diff)
            motion = cv2.blur(np.abs(diff), (3, 3), borderType=cv2.BORDER_REPLICATE)
            weight = np.exp(motion * (-1 / self.motion_scale)) * np.float32(self.strength)
            if valid is not None:
                weight *= valid
            torch.lerp(p, state, torch.from_numpy(weight).to(p.device)[None], out=out)
        self._state = out
        self._prev_l = l

    def _align(
        self, state: torch.Tensor, prev_l: np.ndarray, l: np.ndarray
    ) -> tuple[torch.Tensor, np.ndarray, np.ndarray | None]:
        """The previous state and L brought onto the current frame's pixels, and where that is valid."""
        return state, prev_l, None


def _to_uint8(l_norm: np.ndarray) -> np.ndarray:
    return np.clip(np.rint((l_norm + 0.5) * 255), 0, 255).astype(np.uint8)


class FlowSmoother(EmaSmoother):
    """:class:`EmaSmoother` that first warps the previous state along dense optical flow.

    Flow runs both ways on the low-resolution L (OpenCV Farneback or DIS, about
    a millisecond per pair at 56x56); the previous distributions and L are
    resampled bilinearly along the backward flow, and pixels that fail the
    forward/backward check (occluded or uncovered) or come from outside the
    frame restart from the network's distribution. Flow shorter than ``min_flow``
    pixels is taken as no motion. The luma residual after
    warping then sets the weight as in :class:`EmaSmoother`, so a wrong flow
    vector costs smoothing, not colour bleeding.
    """

    def __init__(
        self,
        strength: float = _DEFAULTS.strength,
        motion_scale: float = _DEFAULTS.motion_scale,
        *,
        method: FlowMethod = "farneback",
        min_flow: float = 0.5,
        scene_cuts: SceneCutDetector | None = None,
    ) -> None:
        super().__init__(strength, motion_scale, scene_cuts=scene_cuts)
        if min_flow < 0:
            raise ValueError(f"min_flow must be >= 0, got {min_flow}")
        self.min_flow = min_flow
        self._flow = FlowEstimator(method)

    def _align(
        self, state: torch.Tensor, prev_l: np.ndarray, l: np.ndarray
    ) -> tuple[torch.Tensor, np.ndarray, np.ndarray | None]:
        cur, prev = _to_uint8(l), _to_uint8(prev_l)
        backward = self._flow(cur, prev)  # cur(x) ~ prev(x + backward(x))
        valid = consistent(backward, self._flow(prev, cur)).astype(np.float32)
        # Sub-pixel flow on a still picture is mostly estimation noise (Farneback reports up to
        # ~0.4 px between identical frames), and resampling along it would blur the state frame
        # after frame. Below min_flow the state stays where it is; the luma residual still
        # lowers the weight where that is wrong.
        moving = np.square(backward).sum(axis=2) >= self.min_flow**2
        if not moving.any():
            return state, prev_l, valid
        map_x, map_y = sample_maps(backward * moving[..., None])
        warped_l = np.where(moving, cv2.remap(prev_l, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), prev_l)
        h, w = l.shape
        # grid_sample wants positions in [-1, 1]; with align_corners=True those are the corner pixels' centres.
        grid = np.stack([map_x * (2 / max(w - 1, 1)) - 1, map_y * (2 / max(h - 1, 1)) - 1], axis=-1)
        grid_t = torch.from_numpy(grid).to(state.device)[None]
        warped = F.grid_sample(state[None], grid_t, mode="bilinear", padding_mode="border", align_corners=True)[0]
        return torch.where(torch.from_numpy(moving).to(state.device), warped, state), warped_l, valid


def make_smoother(mode: str = DEFAULT_MODE, strength: float = DEFAULT_STRENGTH) -> TemporalSmoother:
    """The smoother behind ``--temporal MODE --temporal-strength S``.

    Raises:
        ValueError: unknown mode, or strength outside [0, 1).
    """
    if not 0 <= strength < 1:
        raise ValueError(f"temporal strength must be in [0, 1), got {strength}")
    if mode == "off":
        return NoSmoothing()
    if mode == "ema":
        return EmaSmoother(strength)
    if mode == "flow":
        return FlowSmoother(strength)
    raise ValueError(f"unknown temporal mode {mode!r}; expected one of {TEMPORAL_MODES}")
