"""Temporal smoothers, scene-cut reset and flicker metrics, on synthetic tensors (no model needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vidcolor.color.decoding import annealed_mean
from vidcolor.evaluate.flicker import cdc, warp_error, warp_pairs
from vidcolor.temporal import (
    EmaSmoother,
    FlowSmoother,
    NoSmoothing,
    SceneCutDetector,
    TemporalSmoother,
    make_smoother,
)

K, H, W = 313, 32, 32
SMOOTHING_MODES = [pytest.param("ema", id="ema"), pytest.param("flow", id="flow")]


def _scene_l(seed: int, frames: int, shift_per_frame: int = 0) -> torch.Tensor:
    """(N,1,H,W) normalised L of a smooth random texture, optionally moving right."""
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.functional.interpolate(torch.rand(1, 1, 8, 8, generator=g), size=(H, W), mode="bicubic", align_corners=False)
    base = (base - base.mean()) / (base.std() + 1e-6) * 0.15 + (0.25 if seed % 2 else -0.2)
    frames_l = [torch.roll(base, shifts=t * shift_per_frame, dims=-1) for t in range(frames)]
    return torch.cat(frames_l).clamp(-0.5, 0.5)


def _other_scene_l(frames: int) -> torch.Tensor:
    """(N,1,H,W) a scene unlike :func:`_scene_l`'s: large dark and bright blocks (a bimodal histogram)."""
    yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    blocks = torch.where(((yy // 8 + xx // 8) % 2) == 0, -0.3, 0.3)
    return (blocks + 0.02 * _scene_l(9, 1)[0, 0]).expand(frames, 1, H, W).clone()


def _scene_probs(seed: int, frames: int, noise: float = 1.0) -> torch.Tensor:
    """(N,K,H,W) distributions: a fixed per-pixel preference plus per-frame wobble (the network's flicker)."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(1, K, H, W, generator=g) * 3
    wobble = torch.randn(frames, K, H, W, generator=g) * noise
    return torch.softmax(logits + wobble, dim=1)


def _run(smoother: TemporalSmoother, probs: torch.Tensor, l_low: torch.Tensor) -> torch.Tensor:
    return smoother(probs, l_low)


def test_smoothers_follow_the_protocol() -> None:
    for mode in ("off", "ema", "flow"):
        smoother = make_smoother(mode, 0.8)
        assert isinstance(smoother, TemporalSmoother)
        assert smoother.latency_frames == 0


@pytest.mark.parametrize("mode", SMOOTHING_MODES)
def test_static_clip_with_steady_network_keeps_identical_colour(mode: str) -> None:
    l_low = _scene_l(1, 10)
    probs = _scene_probs(1, 1, noise=0).expand(10, -1, -1, -1).contiguous()
    ab = annealed_mean(_run(make_smoother(mode, 0.9), probs, l_low))
    for t in range(1, 10):
        assert torch.equal(ab[t], ab[0])
    assert torch.equal(ab[0], annealed_mean(probs[:1])[0])


@pytest.mark.parametrize("mode", SMOOTHING_MODES)
def test_static_clip_with_flickering_network_settles(mode: str) -> None:
    frames, warm = 40, 10
    l_low = _scene_l(1, frames)
    probs = _scene_probs(1, frames, noise=1.0)
    raw = annealed_mean(probs)[warm:]
    smoothed = annealed_mean(_run(make_smoother(mode, 0.9), probs, l_low))[warm:]
    # Frame-to-frame change of the decoded colour: an EMA with weight 0.9 passes about
    # sqrt((1-w)/(1+w)) = 0.23 of independent noise; allow margin for the annealing.
    raw_jitter = (raw[1:] - raw[:-1]).abs().mean()
    smooth_jitter = (smoothed[1:] - smoothed[:-1]).abs().mean()
    assert smooth_jitter < 0.4 * raw_jitter


@pytest.mark.parametrize("mode", SMOOTHING_MODES)
def test_hard_cut_leaves_no_trace_of_the_previous_scene(mode: str) -> None:
    l_a, l_b = _scene_l(1, 12), _other_scene_l(12)
    p_a, p_b = _scene_probs(1, 12), _scene_probs(2, 12)
    smoother = make_smoother(mode, 0.9)
    out = _run(smoother, torch.cat([p_a, p_b]), torch.cat([l_a, l_b]))
    fresh = _run(make_smoother(mode, 0.9), p_b, l_b)
    assert torch.equal(out[12:], fresh)
    assert smoother.cuts == 1


@pytest.mark.parametrize("mode", SMOOTHING_MODES)
def test_state_crosses_batch_boundaries(mode: str) -> None:
    l_low = torch.cat([_scene_l(1, 9, shift_per_frame=1), _other_scene_l(7)])
    probs = torch.cat([_scene_probs(1, 9), _scene_probs(2, 7)])
    whole = _run(make_smoother(mode, 0.8), probs, l_low)
    smoother = make_smoother(mode, 0.8)
    pieces = [_run(smoother, probs[a:b], l_low[a:b]) for a, b in ((0, 3), (3, 4), (4, 11), (11, 16))]
    assert torch.equal(torch.cat(pieces), whole)


@pytest.mark.parametrize("mode", SMOOTHING_MODES)
def test_warm_up_joins_segments_seamlessly(mode: str) -> None:
    l_low, probs = _scene_l(3, 12, shift_per_frame=1), _scene_probs(3, 12)
    whole = _run(make_smoother(mode, 0.8), probs, l_low)
    joined = make_smoother(mode, 0.8)
    joined.warm_up(probs[:5], l_low[:5])
    assert torch.equal(_run(joined, probs[5:], l_low[5:]), whole[5:])


@pytest.mark.parametrize("mode", SMOOTHING_MODES)
def test_reset_forgets_everything(mode: str) -> None:
    l_low, probs = _scene_l(3, 8), _scene_probs(3, 8)
    smoother = make_smoother(mode, 0.8)
    first = _run(smoother, probs, l_low)
    smoother.reset()
    assert torch.equal(_run(smoother, probs, l_low), first)


def test_outputs_stay_distributions_and_inputs_untouched() -> None:
    l_low, probs = _scene_l(4, 6, shift_per_frame=2), _scene_probs(4, 6)
    before = probs.clone()
    for mode in ("ema", "flow"):
        out = _run(make_smoother(mode, 0.8), probs, l_low)
        assert torch.equal(probs, before)
        assert (out >= 0).all()
        torch.testing.assert_close(out.sum(dim=1), torch.ones(6, H, W))


def test_off_is_per_frame_exactly() -> None:
    from vidcolor.engines import open_engine
    from vidcolor.models import load_model
    from vidcolor.pipeline.predict import RenderPlan, predict_ab
    from vidcolor.color.decoding import Decoding

    engine = open_engine(load_model("tiny", random_seed=0), device="cpu")
    l_full = torch.rand(3, 1, 48, 80) * 100
    plan = RenderPlan((64, 64), Decoding())
    assert torch.equal(predict_ab(engine, l_full, plan, smoother=make_smoother("off", 0.8)), predict_ab(engine, l_full, plan))
    probs = _scene_probs(5, 3)
    assert NoSmoothing()(probs, _scene_l(5, 3)) is probs


def test_zero_strength_is_per_frame() -> None:
    l_low, probs = _scene_l(6, 5, shift_per_frame=1), _scene_probs(6, 5)
    assert torch.equal(EmaSmoother(0.0)(probs, l_low), probs)
    assert torch.equal(FlowSmoother(0.0)(probs, l_low), probs)


def test_weight_falls_where_the_picture_changes() -> None:
    l_low = _scene_l(7, 2)
    patch = (slice(8, 16), slice(8, 16))
    l_low[1, 0][patch] += 0.3  # a small bright object appears: too small to be a cut, too bright to be wobble
    probs = _scene_probs(7, 2, noise=3.0)
    smoother = EmaSmoother(0.9)
    out = smoother(probs, l_low)
    assert smoother.cuts == 0
    changed = (out[1] - probs[1]).abs()
    inside = changed[:, 9:15, 9:15]  # away from the 3x3 box filter's reach across the patch edge
    outside = changed[:, 20:, 20:]
    assert inside.max() < 1e-3
    assert outside.mean() > 100 * inside.mean()


def test_flow_carries_colour_along_with_motion() -> None:
    frames, shift = 12, 1
    l_low = _scene_l(8, frames, shift_per_frame=shift)
    clean = torch.softmax(torch.randn(1, K, H, W, generator=torch.Generator().manual_seed(8)) * 3, dim=1)
    truth = torch.cat([torch.roll(clean, t * shift, dims=-1) for t in range(frames)])
    noisy = torch.softmax(truth.log() + torch.randn(frames, K, H, W, generator=torch.Generator().manual_seed(9)), dim=1)

    def error(out: torch.Tensor) -> float:
        inner = (slice(None), slice(None), slice(4, H - 4), slice(4, W - 4))
        return float((annealed_mean(out)[inner] - annealed_mean(truth)[inner]).abs().mean())

    assert error(FlowSmoother(0.8)(noisy, l_low)) < 0.8 * error(noisy)


def test_scene_cut_detector() -> None:
    detector = SceneCutDetector()
    a, b = _scene_l(1, 2, shift_per_frame=1).numpy(), _other_scene_l(1).numpy()
    assert not detector.is_cut(a[0])  # first frame: nothing to compare with
    assert not detector.is_cut(a[1])
    assert detector.is_cut(b[0])
    detector.reset()
    assert not detector.is_cut(b[0])


def test_exposure_flicker_is_neither_a_cut_nor_motion() -> None:
    l_low = _scene_l(1, 2)
    l_low[1] = l_low[1] * 1.05 + 0.1  # the whole frame brighter and a little harder, as old film pumps
    probs = _scene_probs(1, 2)
    smoother = EmaSmoother(0.9)
    out = smoother(probs, l_low)
    assert smoother.cuts == 0
    assert (out[1] - probs[1]).abs().mean() > 0.5 * (probs[0] - probs[1]).abs().mean()


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        pytest.param(lambda: make_smoother("median", 0.5), "unknown temporal mode", id="mode"),
        pytest.param(lambda: make_smoother("ema", 1.0), "strength", id="strength=1"),
        pytest.param(lambda: EmaSmoother(-0.1), "strength", id="strength<0"),
        pytest.param(lambda: EmaSmoother(0.5, motion_scale=0), "motion_scale", id="motion_scale"),
        pytest.param(lambda: FlowSmoother(0.5, method="lk"), "flow method", id="method"),
        pytest.param(lambda: SceneCutDetector(threshold=3), "threshold", id="cut-threshold"),
        pytest.param(lambda: SceneCutDetector(max_correlation=2), "max_correlation", id="cut-correlation"),
    ],
)
def test_bad_settings_raise_value_error(factory, message: str) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match=message):
        factory()


def test_mismatched_shapes_raise() -> None:
    with pytest.raises(ValueError):
        make_smoother("ema", 0.5)(_scene_probs(1, 2), _scene_l(1, 3))


# --- flicker metrics ------------------------------------------------------------------------


def _texture(seed: int, h: int = 64, w: int = 96) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(1, 1, h // 8, w // 8, generator=g)
    big = torch.nn.functional.interpolate(small, size=(h, w), mode="bicubic", align_corners=False)[0, 0]
    return (big.clamp(0, 1) * 200 + 20).numpy().astype(np.uint8)


def test_cdc_of_identical_frames_is_zero() -> None:
    frame = np.dstack([_texture(1), _texture(2), _texture(3)])
    assert cdc([frame] * 6) == 0.0


def test_cdc_known_answer() -> None:
    black, white = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)
    # Alternating frames: disjoint histograms at d=1 (JS = ln 2), identical at d=2 and d=4.
    assert cdc([black, white] * 3) == pytest.approx(math.log(2) / 3)


def test_cdc_needs_enough_frames() -> None:
    with pytest.raises(ValueError):
        cdc([np.zeros((4, 4, 3), np.uint8)] * 4)


def test_warp_error_of_identical_frames_is_zero() -> None:
    grey = _texture(4)
    colour = np.dstack([grey, grey // 2, 255 - grey])
    # Farneback finds sub-pixel noise even between identical frames, hence approx.
    assert warp_error([colour] * 4, [grey] * 4) == pytest.approx(0.0, abs=1e-6)


def test_warp_error_follows_the_input_motion() -> None:
    grey = [np.roll(_texture(5), 2 * t, axis=1) for t in range(4)]
    tint = np.array([1.0, 0.6, 0.3])
    moving_colour = [(g[..., None] * tint).astype(np.uint8) for g in grey]
    pinned_colour = [moving_colour[0]] * 4  # colour that ignores the motion
    pairs = warp_pairs(grey)
    steady = warp_error(moving_colour, pairs=pairs)
    assert steady < 2e-4
    assert warp_error(pinned_colour, pairs=pairs) > 20 * steady


def test_warp_error_known_answer_on_static_scene() -> None:
    grey = [_texture(6)] * 3
    a = np.zeros((64, 96, 3), np.float32)
    b = np.full((64, 96, 3), 0.5, np.float32)
    assert warp_error([a, b, a], grey) == pytest.approx(0.25)
