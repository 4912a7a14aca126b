"""Progress of a run as plain data, for a CLI bar or any other caller."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """``done`` counts every finished frame; ``skipped`` those of them an earlier run finished (a resumed job)."""

    done: int
    total: int | None
    elapsed: float
    skipped: int = 0

    @property
    def fps(self) -> float:
        # frames finished before this run took none of ``elapsed``: counting them would inflate the rate
        return (self.done - self.skipped) / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        fps = self.fps
        if not self.total or fps <= 0:
            return None
        return max(self.total - self.done, 0) / fps


ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Counts frames and tells the callback; thread-safe enough for one writer thread."""

    def __init__(self, total: int | None, callback: ProgressCallback | None) -> None:
        self.total = total if total and total > 0 else None
        self.callback = callback
        self.done = 0
        self.skipped = 0
        self._start = time.perf_counter()

    def skip(self, n: int) -> None:
        """Count ``n`` frames an earlier run finished: in the total done, not in the rate."""
        self.skipped += n
        self.advance(n)

    def advance(self, n: int) -> None:
        self.done += n
        if self.callback is not None:
            self.callback(Progress(self.done, self.total, time.perf_counter() - self._start, self.skipped))
