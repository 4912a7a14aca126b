"""Temporal smoothing of the per-pixel bin distributions, with scene-cut resets.

The pipeline calls ``make_smoother(mode, strength)`` once per film (or segment)
and passes the result as ``smoother=`` to :func:`vidcolor.pipeline.predict.predict_ab`.
"""

from vidcolor.temporal.scenecut import SceneCutDetector, SceneCutParams
from vidcolor.temporal.smoothers import (
    DEFAULT_MODE,
    DEFAULT_STRENGTH,
    TEMPORAL_MODES,
    EmaSmoother,
    FlowSmoother,
    NoSmoothing,
    SmootherParams,
    TemporalSmoother,
    make_smoother,
)

__all__ = [
    "DEFAULT_MODE",
    "DEFAULT_STRENGTH",
    "TEMPORAL_MODES",
    "EmaSmoother",
    "FlowSmoother",
    "NoSmoothing",
    "SceneCutDetector",
    "SceneCutParams",
    "SmootherParams",
    "TemporalSmoother",
    "make_smoother",
]
