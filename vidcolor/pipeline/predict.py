"""From full-resolution L to ab: resize, run the engine, softmax, smooth, decode.

Shared by the video stream, still images and evaluation, so every path colours
the same way. What the network sees (its input shape) and how its distributions are
decoded are settled once per film by :func:`render_plan`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch.nn import functional as F

from vidcolor.color.decoding import DEFAULT_TEMPERATURE, Decoding, probabilities
from vidcolor.engines.base import Engine

if TYPE_CHECKING:
    from vidcolor.models.loading import LoadedModel
    from vidcolor.pipeline.options import ColorizeOptions

log = logging.getLogger(__name__)

# probs (B,313,h,w) float32, low-res L (B,1,h,w) -> smoothed probs
Smoother = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# probs, low-res L (normalised), full-res L* (B,1,H,W), the pictures' numbers in the film (None: a still)
# -> guided probs; see vidcolor/reference/guide.py
Reference = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, Sequence[int] | None], torch.Tensor]

# the network's input sides are multiples of this (EfficientNet's deepest stride)
SHAPE_MULTIPLE = 32
# a wider picture is not stretched further: beyond this the network's long side stops growing
MAX_ASPECT = 2.5


def network_shape(height: int, width: int, render_size: int, *, aspect_true: bool = True,
                  pixel_aspect: float = 1.0) -> tuple[int, int]:
    """(h, w) the network sees for a (height, width) picture: the short side ``render_size``,
    the long side at the picture's display aspect, rounded to a multiple of 32; a square when
    ``aspect_true`` is False (models trained on square crops)."""
    if not aspect_true:
        return render_size, render_size
    aspect = min(MAX_ASPECT, max(1 / MAX_ASPECT, width * pixel_aspect / height))
    if aspect >= 1:
        return render_size, max(SHAPE_MULTIPLE, round(render_size * aspect / SHAPE_MULTIPLE) * SHAPE_MULTIPLE)
    return max(SHAPE_MULTIPLE, round(render_size / aspect / SHAPE_MULTIPLE) * SHAPE_MULTIPLE), render_size


@dataclass(frozen=True)
class RenderPlan:
    """What the network sees and how its output is decoded, for one film or image."""

    shape: tuple[int, int]
    decoding: Decoding


def render_plan(model: LoadedModel, engine: Engine, options: ColorizeOptions, height: int, width: int,
                pixel_aspect: float = 1.0) -> RenderPlan:
    """The model's own settings (its weights record's meta), overridden by the options."""
    meta = model.weights.meta
    size = options.render_size or int(meta.get("render_size", model.input_size))
    aspect_true = bool(meta.get("aspect_true", False))
    if aspect_true and getattr(engine, "square_only", False):
        # a TensorRT plan is built for one square shape
        log.warning("%s takes square input only; the picture is squashed to %dx%d", engine.name, size, size)
        aspect_true = False
    gate = options.confidence_gate if options.confidence_gate is not None else tuple(meta.get("confidence_gate", (0.0, 0.0)))
    decoding = Decoding(
        temperature=options.temperature or float(meta.get("temperature", DEFAULT_TEMPERATURE)),
        gate_floor=float(gate[0]), gate_span=float(gate[1]),
        gain=options.colour_gain or float(meta.get("colour_gain", 1.0)),
        dark_knee=float(options.dark_knee if options.dark_knee is not None else meta.get("dark_knee", 0.0)),
        gain_ramp=tuple(float(x) for x in meta["colour_gain_ramp"]) if meta.get("colour_gain_ramp") else None,
        neutral_shadows=options.neutral_shadows,
    )
    return RenderPlan(network_shape(height, width, size, aspect_true=aspect_true, pixel_aspect=pixel_aspect), decoding)


def network_input(l_full: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B,1,H,W) L in [0,100] to the network's (B,1,h,w) input, normalised as (L-50)/100."""
    l_small = F.interpolate(l_full.float(), size=shape, mode="area")
    return (l_small - 50) / 100


def predict_probs(
    engine: Engine, l_full: torch.Tensor, shape: tuple[int, int], *,
    reference: Reference | None = None, frames: Sequence[int] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-pixel bin distributions (B,313,h/4,w/4) float32 the smoother gets, and the L at that
    resolution: softmax, then the references' reweighting (also for a segment's warm-up pictures).

    References come before the smoother so that it averages distributions that already carry a
    keyframe's colour and cannot wash it out (see vidcolor/reference/guide.py).
    """
    x = network_input(l_full, shape)
    probs = probabilities(engine(x))
    l_low = F.interpolate(x, size=probs.shape[-2:], mode="area")
    if reference is not None:
        probs = reference(probs, l_low, l_full, frames)
    return probs, l_low


def predict_ab(
    engine: Engine,
    l_full: torch.Tensor,
    plan: RenderPlan,
    *,
    smoother: Smoother | None = None,
    reference: Reference | None = None,
    frames: Sequence[int] | None = None,
) -> torch.Tensor:
    """ab at the network's output resolution, (B,2,h/4,w/4) float32, for L (B,1,H,W) in [0,100].

    ``frames`` numbers the pictures in the film for ``reference`` (keyframes); None is a still image.
    """
    probs, l_low = predict_probs(engine, l_full, plan.shape, reference=reference, frames=frames)
    return decode_ab(probs, l_low, plan, smoother)


def decode_ab(probs: torch.Tensor, l_low: torch.Tensor, plan: RenderPlan, smoother: Smoother | None = None) -> torch.Tensor:
    """predict_probs's distributions, smoothed over time if asked, to ab (B,2,h/4,w/4)."""
    if smoother is not None:
        probs = smoother(probs, l_low)
    return plan.decoding(probs)


def upsample_ab(ab: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """ab to (height, width) with bilinear interpolation."""
    return F.interpolate(ab, size=size, mode="bilinear", align_corners=False)
