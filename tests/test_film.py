"""Film simulation, the render plan (aspect, render size) and confidence-gated decoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidcolor.color.bins import ab_bins
from vidcolor.color.decoding import Decoding, annealed_mean, certainty
from vidcolor.film import STOCKS, FilmLook, apply_look, film_grey, sample_looks
from vidcolor.film.stocks import linear_to_srgb, srgb_to_linear
from vidcolor.pipeline.predict import network_shape


def _pixel(r: float, g: float, b: float) -> torch.Tensor:
    return torch.tensor([r, g, b]).view(1, 3, 1, 1)


def test_stocks_sum_to_one_and_grey_stays_grey() -> None:
    grey = _pixel(0.5, 0.5, 0.5)
    for stock in STOCKS.values():
        assert sum(stock.weights) == pytest.approx(1.0, abs=1e-3)
        assert film_grey(grey, stock).item() == pytest.approx(srgb_to_linear(torch.tensor(0.5)).item(), abs=1e-3)


def test_orthochromatic_film_renders_red_dark_and_blue_light() -> None:
    red, blue = _pixel(0.8, 0.1, 0.1), _pixel(0.1, 0.1, 0.8)
    ortho_red, ortho_blue = film_grey(red, "ortho").item(), film_grey(blue, "ortho").item()
    pan_red, luma_red = film_grey(red, "pan").item(), film_grey(red, "luma").item()
    assert ortho_red < 0.05 < ortho_blue
    assert ortho_red < pan_red < luma_red  # red darkens as the stock loses red sensitivity
    assert film_grey(blue, "blue").item() > film_grey(blue, "pan").item()


def test_a_plain_look_is_only_the_display_curve() -> None:
    exposure = torch.rand(2, 1, 8, 8)
    out = apply_look(exposure, FilmLook.constant(2))
    torch.testing.assert_close(out, linear_to_srgb(exposure))


def test_looks_are_seeded_and_grain_varies_per_frame() -> None:
    rgb = torch.rand(3, 3, 32, 48)

    def film(seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        stocks, look = sample_looks(3, g)
        look.grain[:] = 0.05
        return apply_look(film_grey(rgb, stocks), look, g)

    assert torch.equal(film(1), film(1))
    assert not torch.equal(film(1), film(2))
    out = film(3)
    assert out.shape == (3, 1, 32, 48) and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize(("h", "w", "size", "expected"), [
    (360, 640, 224, (224, 384)),  # 16:9 chaplin
    (480, 640, 224, (224, 288)),  # 4:3 steamboat
    (640, 360, 192, (352, 192)),  # portrait
    (256, 256, 160, (160, 160)),
    (200, 2000, 224, (224, 576)),  # wider than 2.5:1 stops growing
])
def test_network_shape_keeps_the_aspect(h: int, w: int, size: int, expected: tuple[int, int]) -> None:
    assert network_shape(h, w, size) == expected
    assert network_shape(h, w, size, aspect_true=False) == (size, size)


def test_network_shape_reads_the_pixel_aspect() -> None:
    # 720x576 PAL with 16:11 pixels displays at about 1.82:1
    assert network_shape(576, 720, 224, pixel_aspect=16 / 11) == (224, 416)


def test_gate_leans_flat_distributions_to_neutral_and_keeps_sure_ones() -> None:
    flat = torch.full((1, 313, 2, 2), 1 / 313)
    sure = torch.zeros(1, 313, 2, 2)
    vivid = int(ab_bins().norm(dim=1).argmax())
    sure[:, vivid] = 1.0
    assert certainty(flat).abs().max() < 1e-4 and (certainty(sure) > 0.99).all()
    gated = Decoding(0.38, gate_floor=0.2, gate_span=0.3)
    assert gated(flat).abs().max() < 1e-4
    torch.testing.assert_close(gated(sure), annealed_mean(sure, 0.38))
    torch.testing.assert_close(Decoding(0.38)(flat), annealed_mean(flat, 0.38))  # span 0: no gate
    # mass spread over many saturated hues: the plain mean paints a colour none of them is;
    # the gate pulls it toward grey
    spread = torch.zeros(1, 313, 1, 1)
    rim = ab_bins().norm(dim=1).topk(40).indices
    spread[:, rim] = 1 / 40
    assert gated(spread).norm() < 0.6 * annealed_mean(spread, 0.38).norm()
    with pytest.raises(ValueError):
        Decoding(0.38, gate_floor=1.5, gate_span=0.3)


def test_colour_gain_multiplies_the_gated_ab() -> None:
    probs = torch.softmax(torch.randn(1, 313, 4, 4) * 3, dim=1)
    gated = Decoding(0.7, gate_floor=0.1, gate_span=0.3)
    torch.testing.assert_close(Decoding(0.7, gate_floor=0.1, gate_span=0.3, gain=1.3)(probs), 1.3 * gated(probs))
    with pytest.raises(ValueError, match="gain"):
        Decoding(0.7, gain=0.0)


def test_dark_knee_fades_colour_toward_black_only() -> None:
    ab = torch.full((1, 2, 1, 4), 20.0)
    lightness = torch.tensor([0.0, 10.0, 20.0, 80.0]).view(1, 1, 1, 4)
    faded = Decoding(0.7, dark_knee=20).by_lightness(ab, lightness)
    torch.testing.assert_close(faded[0, 0, 0], torch.tensor([0.0, 10.0, 20.0, 20.0]))
    assert Decoding(0.7).by_lightness(ab, lightness) is ab  # 0: off
    with pytest.raises(ValueError, match="dark knee"):
        Decoding(0.7, dark_knee=-1)


def test_neutral_shadows_grey_below_low_and_keep_colour_from_high() -> None:
    ab = torch.full((1, 2, 1, 5), 20.0)
    lightness = torch.tensor([10.0, 30.0, 37.5, 45.0, 80.0]).view(1, 1, 1, 5)
    out = Decoding(0.7, neutral_shadows=(30.0, 45.0)).by_lightness(ab, lightness)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([0.0, 0.0, 10.0, 20.0, 20.0]))
    # on top of the model's knee, which only matters below its own L*
    both = Decoding(0.7, dark_knee=20, neutral_shadows=(10.0, 25.0)).by_lightness(ab, lightness)
    torch.testing.assert_close(both[0, 0, 0], torch.tensor([0.0, 20.0, 20.0, 20.0, 20.0]))
    with pytest.raises(ValueError, match="neutral shadows"):
        Decoding(0.7, neutral_shadows=(45.0, 30.0))


@pytest.mark.parametrize(("value", "expected"), [("30:45", (30.0, 45.0)), ("30", (30.0, 45.0)), ((20, 50), (20.0, 50.0))])
def test_neutral_shadows_option_reaches_the_render_plan(value, expected) -> None:
    from vidcolor.models.loading import load_model
    from vidcolor.pipeline import ColorizeOptions
    from vidcolor.pipeline.predict import render_plan

    options = ColorizeOptions(neutral_shadows=value)
    assert options.neutral_shadows == expected
    plan = render_plan(load_model("lite", random_seed=0), None, options, 360, 640)
    assert plan.decoding.neutral_shadows == expected and plan.decoding.dark_knee == 20.0
    assert render_plan(load_model("lite", random_seed=0), None, ColorizeOptions(), 360, 640).decoding.neutral_shadows is None


@pytest.mark.parametrize("value", ["30:", "a:b", "30:45:60", "50:45", "-5", "95"])
def test_neutral_shadows_option_refuses_bad_values(value: str) -> None:
    from vidcolor.errors import UsageError
    from vidcolor.pipeline import ColorizeOptions

    with pytest.raises(UsageError, match="--neutral-shadows"):
        ColorizeOptions(neutral_shadows=value)


def test_ramped_gain_leaves_the_shadows_as_decoded() -> None:
    probs = torch.softmax(torch.randn(1, 313, 1, 5) * 3, dim=1)
    plain = Decoding(0.7, dark_knee=20)
    ramped = Decoding(0.7, dark_knee=20, gain=1.5, gain_ramp=(40.0, 60.0))
    # the gain moves from the distributions to where L is known
    torch.testing.assert_close(ramped(probs), plain(probs))
    lightness = torch.tensor([10.0, 30.0, 40.0, 50.0, 80.0]).view(1, 1, 1, 5)
    ab = plain(probs)
    scale = ramped.by_lightness(ab, lightness) / plain.by_lightness(ab, lightness)
    torch.testing.assert_close(scale[0, 0, 0], torch.tensor([1.0, 1.0, 1.0, 1.25, 1.5]))
    with pytest.raises(ValueError, match="ramp"):
        Decoding(0.7, gain=1.2, gain_ramp=(60.0, 40.0))
    # muting is not ramped: the shadows are where muted colour is wanted most
    muted = Decoding(0.7, dark_knee=20, gain=0.5, gain_ramp=(40.0, 60.0))
    torch.testing.assert_close(muted.by_lightness(muted(probs), lightness), 0.5 * plain.by_lightness(ab, lightness))


def test_gate_scales_ab_between_floor_and_floor_plus_span() -> None:
    probs = torch.softmax(torch.randn(1, 313, 4, 4) * 3, dim=1)
    c = certainty(probs)
    dec = Decoding(1.0, gate_floor=float(c.min()), gate_span=float(c.max() - c.min()))
    scale = dec(probs).norm(dim=1, keepdim=True) / annealed_mean(probs, 1.0).norm(dim=1, keepdim=True)
    np.testing.assert_allclose(scale.flatten().numpy(), ((c - c.min()) / (c.max() - c.min())).flatten().numpy(), atol=1e-4)


def test_render_plan_takes_the_gain_ramp_from_the_weights_record() -> None:
    from dataclasses import replace

    from vidcolor.models.loading import load_model
    from vidcolor.pipeline import ColorizeOptions
    from vidcolor.pipeline.predict import render_plan

    model = load_model("lite", random_seed=0)
    # the default model ramps a user's gain in above the shadows, so more colour leaves the coats as they are
    decoding = render_plan(model, None, ColorizeOptions(colour_gain=2.0), 360, 640).decoding
    assert decoding.gain_ramp == (40.0, 60.0) and decoding.gain == 2.0
    ab = torch.full((1, 2, 1, 2), 10.0)
    lightness = torch.tensor([30.0, 70.0]).view(1, 1, 1, 2)
    torch.testing.assert_close(decoding.by_lightness(ab, lightness)[0, 0, 0], torch.tensor([10.0, 20.0]))
    flat = replace(model, weights=replace(model.weights, meta={k: v for k, v in model.weights.meta.items()
                                                               if k != "colour_gain_ramp"}))
    assert render_plan(flat, None, ColorizeOptions(), 360, 640).decoding.gain_ramp is None
