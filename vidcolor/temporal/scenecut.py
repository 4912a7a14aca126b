"""Hard-cut detection on the low-resolution L the pipeline already has."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SceneCutParams(NamedTuple):
    """Defaults of :class:`SceneCutDetector`.

    ``threshold`` is the L1 distance between consecutive normalised L histograms,
    which lies in [0, 2]. Consecutive frames of one shot on the clips in
    ``benchmarks/temporal.py`` stay below about 0.3 (film flicker and grain
    included); a cut between different shots is well above 0.5. A missed cut
    between shots of similar tone is still caught pixel by pixel by the
    smoothers' motion weight.
    """

    bins: int = 32
    threshold: float = 0.5


_DEFAULTS = SceneCutParams()


class SceneCutDetector:
    """Says whether each frame starts a new shot, from its L histogram against the previous frame's.

    Frames are fed in order through :meth:`is_cut`; the first frame after
    construction or :meth:`reset` is never a cut (there is nothing to compare to).
    """

    def __init__(self, bins: int = _DEFAULTS.bins, threshold: float = _DEFAULTS.threshold) -> None:
        if bins < 2:
            raise ValueError(f"bins must be >= 2, got {bins}")
        if not 0 < threshold <= 2:
            raise ValueError(f"threshold is an L1 histogram distance in (0, 2], got {threshold}")
        self.bins = bins
        self.threshold = threshold
        self._previous: np.ndarray | None = None
        self.last_distance: float = 0.0

    def reset(self) -> None:
        self._previous = None
        self.last_distance = 0.0

    def histogram(self, l_frame: np.ndarray) -> np.ndarray:
        """Normalised histogram of one frame's L, normalised as (L-50)/100 (range [-0.5, 0.5])."""
        # numpy, not torch: on a few thousand pixels torch's thread pool costs more than the work.
        idx = np.clip(((l_frame.ravel() + 0.5) * self.bins).astype(np.int64), 0, self.bins - 1)
        return np.bincount(idx, minlength=self.bins) / max(idx.size, 1)

    def is_cut(self, l_frame: np.ndarray) -> bool:
        """Feed the next frame (any shape, normalised L as float); True when it starts a new shot."""
        hist = self.histogram(l_frame)
        previous, self._previous = self._previous, hist
        if previous is None:
            self.last_distance = 0.0
            return False
        self.last_distance = float(np.abs(hist - previous).sum())
        return self.last_distance > self.threshold
