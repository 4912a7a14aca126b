"""Hard-cut detection on the low-resolution L the pipeline already has."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SceneCutParams(NamedTuple):
    """Defaults of :class:`SceneCutDetector`.

    Old film flickers in exposure, so both tests ignore a change of brightness
    or contrast: the histogram is of L standardised per frame (z-scores over
    [-3, 3]) and the second test is a correlation. Measured between consecutive
    frames at 56x56 on the shared clips: within a shot the histogram distance
    stays below 0.52 (Steamboat Willie's flicker and smoke puffs) and the
    correlation above 0.88; across cuts between those clips the distance is
    0.77..1.98 and the correlation below 0.33. A cut needs both, so a fast pan
    (low correlation, same histogram) or a tone change in place (new histogram,
    high correlation) is not one. A missed cut between shots of similar tone is
    still caught pixel by pixel by the smoothers' motion weight.

    bins: histogram bins over z in [-3, 3].
    threshold: L1 distance between consecutive normalised histograms, in (0, 2].
    max_correlation: the frames' pixel correlation must also fall below this.
    """

    bins: int = 32
    threshold: float = 0.6
    max_correlation: float = 0.6


_DEFAULTS = SceneCutParams()
# Below this spread (2 L*) a frame is flat (black, a fade): standardising would amplify noise.
_MIN_STD = 0.02


class SceneCutDetector:
    """Says whether each frame starts a new shot, against the previous frame.

    Frames are fed in order through :meth:`is_cut`; the first frame after
    construction or :meth:`reset` is never a cut (there is nothing to compare to).
    """

    def __init__(
        self,
        bins: int = _DEFAULTS.bins,
        threshold: float = _DEFAULTS.threshold,
        max_correlation: float = _DEFAULTS.max_correlation,
    ) -> None:
        if bins < 2:
            raise ValueError(f"bins must be >= 2, got {bins}")
        if not 0 < threshold <= 2:
            raise ValueError(f"threshold is an L1 histogram distance in (0, 2], got {threshold}")
        if not -1 <= max_correlation <= 1:
            raise ValueError(f"max_correlation is a correlation in [-1, 1], got {max_correlation}")
        self.bins = bins
        self.threshold = threshold
        self.max_correlation = max_correlation
        self._previous: tuple[np.ndarray, np.ndarray] | None = None  # (centred L, histogram)
        self.last_distance = 0.0
        self.last_correlation = 1.0

    def reset(self) -> None:
        self._previous = None
        self.last_distance = 0.0
        self.last_correlation = 1.0

    def _standardise(self, l_frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # numpy, not torch: on a few thousand pixels torch's thread pool costs more than the work.
        centred = l_frame.astype(np.float32).ravel() - l_frame.mean()
        z = centred / max(float(centred.std()), _MIN_STD)
        idx = np.clip(((z + 3) * (self.bins / 6)).astype(np.int64), 0, self.bins - 1)
        return centred, np.bincount(idx, minlength=self.bins) / max(idx.size, 1)

    def is_cut(self, l_frame: np.ndarray) -> bool:
        """Feed the next frame (normalised L, any shape); True when it starts a new shot."""
        centred, hist = self._standardise(l_frame)
        previous, self._previous = self._previous, (centred, hist)
        if previous is None:
            self.last_distance, self.last_correlation = 0.0, 1.0
            return False
        prev_centred, prev_hist = previous
        self.last_distance = float(np.abs(hist - prev_hist).sum())
        norm = float(np.sqrt(np.dot(centred, centred) * np.dot(prev_centred, prev_centred)))
        # Two flat frames (a fade through black) correlate as nothing: 0.
        self.last_correlation = float(np.dot(centred, prev_centred)) / norm if norm > 1e-12 else 0.0
        return self.last_distance > self.threshold and self.last_correlation < self.max_correlation
