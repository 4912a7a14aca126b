"""Colourising one still image with the same prediction step as the stream."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from vidcolor.color.lab import lab_to_rgb, rgb_to_lab
from vidcolor.engines import Engine, open_engine
from vidcolor.media.image import read_rgb, write_rgb
from vidcolor.pipeline.colorize import ColorizeResult, choose_model
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.outputs import atomic_output, check_paths
from vidcolor.pipeline.predict import Reference, RenderPlan, predict_ab, render_plan, upsample_ab


def grey_l(rgb: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(H, W, 3) uint8 RGB to its L (1, 1, H, W); a grey picture's L is its grey's."""
    x = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float().div(255).to(device)
    return rgb_to_lab(x)[:, :1]


def colorize_rgb(engine: Engine, rgb: np.ndarray, plan: RenderPlan, *,
                 reference: Reference | None = None, frame: int | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB (its colour is ignored) to a colourised (H, W, 3) uint8 RGB.

    ``reference`` guides it (vidcolor/reference/); ``frame`` is the picture's number in its film, None for a still.
    """
    lum = grey_l(rgb, engine.device)
    frames = None if frame is None else [frame]
    ab = upsample_ab(predict_ab(engine, lum, plan, reference=reference, frames=frames), lum.shape[-2:])
    ab = plan.decoding.by_lightness(ab, lum)
    out = lab_to_rgb(torch.cat([lum, ab], dim=1))
    return (out[0].permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)


def colorize_image(src: Path | str, dst: Path | str, options: ColorizeOptions | None = None) -> ColorizeResult:
    """Colourise one image file into another (format from ``dst``'s suffix).

    Raises:
        UsageError, MediaError, WeightsError: as ``colorize``.
    """
    options = options or ColorizeOptions()
    src, dst = Path(src), Path(dst)
    check_paths(src, dst, overwrite=options.overwrite)
    start = time.perf_counter()
    rgb = read_rgb(src)
    refs = []
    if options.references:
        from vidcolor.reference.build import check_image_references

        refs = check_image_references(rgb, options.references)  # before the model loads
    model = choose_model(options)
    engine = open_engine(model, device=options.device, engine=options.engine, max_batch=1)
    plan = render_plan(model, engine, options, *rgb.shape[:2])
    guide = None
    if refs:
        from vidcolor.reference.guide import ReferenceGuide

        guide = ReferenceGuide(refs, temperature=plan.decoding.temperature)
    out = colorize_rgb(engine, rgb, plan, reference=guide)
    with atomic_output(dst) as tmp:
        write_rgb(tmp, out)
    return ColorizeResult(dst, 1, time.perf_counter() - start, model.label, engine.describe())
