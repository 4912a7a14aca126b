"""Colour maths: bins, L from luma, chroma codes, annealed mean."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidcolor.color import ChromaSpec, ab_bins, annealed_mean, chroma_from_lab, l_from_luma, lab_to_rgb, rgb_to_lab, soft_encode
from tests.conftest import shared_path


def test_bins_match_the_authors_file() -> None:
    reference = np.load(shared_path("reference", "pts_in_hull.npy"))
    assert ab_bins().shape == (313, 2)
    assert (ab_bins().numpy() == reference).all()


def test_bins_cover_the_srgb_gamut() -> None:
    # every sRGB colour falls into (the cell of) a bin
    g = torch.linspace(0, 1, 33)
    rgb = torch.stack(torch.meshgrid(g, g, g, indexing="ij")).reshape(1, 3, 33, -1)
    ab = rgb_to_lab(rgb)[0, 1:].reshape(2, -1).T
    nearest = torch.cdist(ab, ab_bins()).min(dim=1).values
    assert nearest.max() <= 5 * 2**0.5 + 1e-4


@pytest.mark.parametrize("spec", [ChromaSpec("bt709", False, 8), ChromaSpec("bt601", True, 8), ChromaSpec("bt709", False, 10)], ids=str)
def test_l_from_luma_matches_full_conversion(spec: ChromaSpec) -> None:
    codes = torch.arange(spec.max_code + 1)
    lum = l_from_luma(codes, spec)
    assert lum.min() == 0 and lum.max() == pytest.approx(100, abs=1e-3)
    assert (lum[1:] >= lum[:-1]).all()


def test_grey_lab_gives_neutral_chroma() -> None:
    lab = torch.zeros(1, 3, 4, 4)
    lab[:, 0] = torch.linspace(0, 100, 16).view(4, 4)
    assert (chroma_from_lab(lab, ChromaSpec()) == 128).all()
    assert (chroma_from_lab(lab, ChromaSpec(bits=10)) == 512).all()


@pytest.mark.parametrize(("rgb", "cb", "cr"), [((1, 0, 0), 102, 240), ((0, 0, 1), 240, 118), ((0, 1, 0), 42, 26)], ids=["red", "blue", "green"])
def test_bt709_chroma_of_primaries(rgb: tuple[int, int, int], cb: int, cr: int) -> None:
    lab = rgb_to_lab(torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1))
    codes = chroma_from_lab(lab, ChromaSpec("bt709", False, 8)).flatten().tolist()
    assert codes == pytest.approx([cb, cr], abs=1)


def test_lab_round_trip() -> None:
    rgb = torch.rand(1, 3, 8, 8)
    assert torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-4)


def test_annealed_mean_of_a_one_hot_is_its_bin() -> None:
    probs = torch.zeros(1, 313, 2, 2)
    probs[:, 100] = 1
    ab = annealed_mean(probs)
    assert torch.allclose(ab[0, :, 0, 0], ab_bins()[100])


def test_annealed_mean_equals_softmax_of_logits_over_t() -> None:
    logits = torch.randn(2, 313, 3, 3) * 3
    expected = torch.einsum("bkhw,kc->bchw", torch.softmax(logits / 0.38, 1), ab_bins())
    assert torch.allclose(annealed_mean(torch.softmax(logits, 1), 0.38), expected, atol=1e-3)


def test_soft_encode_puts_mass_on_nearest_bins() -> None:
    ab = ab_bins()[57].view(1, 2, 1, 1).clone()
    target = soft_encode(ab)
    assert target.sum().item() == pytest.approx(1.0)
    assert target[0, :, 0, 0].argmax().item() == 57
    assert (target > 0).sum().item() == 5
