"""Training the lite decoder: targets, rebalancing, loss, and a tiny run that learns and resumes."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vidcolor.color import ab_bins, soft_encode
from vidcolor.train import TrainConfig, TrainProgress, export_decoder, train
from vidcolor.train.loss import rebalanced_cross_entropy
from vidcolor.train.rebalance import bin_counts, nearest_bin, rebalance_weights, smooth_prior
from vidcolor.train.targets import densify, sparse_soft_encode


def test_sparse_soft_encode_matches_dense() -> None:
    ab = torch.tensor([[3.0, -7.0], [0.0, 0.0], [55.0, 21.0]]).T.reshape(1, 2, 1, 3)
    index, weight = sparse_soft_encode(ab)
    assert torch.allclose(densify(index, weight), soft_encode(ab), atol=1e-6)
    assert torch.allclose(weight.sum(dim=1), torch.ones(1, 1, 3))
    # ab exactly on bin (0, 0): nearest first; its 4 grid neighbours at distance 10 each get
    # exp(-100/50) of its mass, the 5th... there are exactly 4 at distance 10, so 5 bins in all
    centre = weight[0, :, 0, 1]
    assert ab_bins()[index[0, 0, 0, 1]].tolist() == [0.0, 0.0]
    expected = torch.tensor([1.0] + [math.exp(-2.0)] * 4)
    assert torch.allclose(centre, expected / expected.sum(), atol=1e-6)


def test_rebalance_weights_hand_made() -> None:
    q = 313
    uniform = torch.full((q,), 1.0 / q)
    assert torch.allclose(rebalance_weights(uniform, 0.5), torch.ones(q))
    prior = torch.zeros(q, dtype=torch.float64)
    prior[0], prior[1] = 0.75, 0.25
    w = rebalance_weights(prior, 0.5).double()
    # w_k proportional to 1 / (0.5 p_k + 0.5/313), scaled so that sum p w = 1
    raw = 1 / (0.5 * prior + 0.5 / q)
    assert torch.allclose(w, raw / (prior * raw).sum(), rtol=1e-6)
    assert (prior * w).sum().item() == pytest.approx(1.0)
    assert w[1] > w[0] and w[2] > w[1]  # rarer bins weigh more
    assert torch.allclose(rebalance_weights(prior, 1.0), torch.ones(q) / 1.0)  # lambda 1: no rebalancing


def test_smooth_prior_spreads_mass_to_grid_neighbours() -> None:
    counts = torch.zeros(313)
    centre = int(nearest_bin(torch.zeros(1, 2, 1, 1)).item())
    counts[centre] = 10
    assert torch.equal(smooth_prior(counts, 0.0), counts.double() / 10)
    p = smooth_prior(counts, 5.0)
    assert p.sum().item() == pytest.approx(1.0)
    neighbour = int(nearest_bin(torch.tensor([10.0, 0.0]).view(1, 2, 1, 1)).item())
    assert p[neighbour] / p[centre] == pytest.approx(math.exp(-2.0), rel=1e-6)
    assert torch.equal(bin_counts(torch.tensor([[centre, centre], [neighbour, centre]])).nonzero().flatten().sort().values,
                       torch.tensor(sorted({centre, neighbour})))


def test_loss_weights_pixels_by_their_most_likely_bin() -> None:
    ab = torch.tensor([[0.0, 0.0], [50.0, 50.0]]).T.reshape(1, 2, 1, 2)
    index, weight = sparse_soft_encode(ab)
    logits = torch.zeros(1, 313, 1, 2)
    ones = torch.ones(313)
    base = rebalanced_cross_entropy(logits, index, weight, ones)
    assert base.item() == pytest.approx(math.log(313), rel=1e-5)  # uniform prediction
    heavy = ones.clone()
    heavy[index[0, 0, 0, 1]] = 3.0  # weight only the second pixel's bin
    assert rebalanced_cross_entropy(logits, index, weight, heavy).item() == pytest.approx(2 * base.item(), rel=1e-5)
    # the target's own log-probabilities do better than uniform
    good = torch.log(densify(index, weight).clamp_min(1e-6))
    assert rebalanced_cross_entropy(good, index, weight, ones) < base


def _write_images(folder: Path, n: int) -> None:
    rng = np.random.default_rng(1)
    folder.mkdir()
    for i in range(n):
        image = np.zeros((48, 64, 3), np.uint8)
        # sky over grass: colour that L predicts, so a few steps can learn it
        image[:24] = (rng.integers(60, 110), rng.integers(130, 170), 230)
        image[24:] = (rng.integers(30, 70), 150, rng.integers(20, 60))
        cv2.imwrite(str(folder / f"im{i}.png"), image[:, :, ::-1])


def test_tiny_run_learns_resumes_and_exports(tmp_path: Path) -> None:
    _write_images(tmp_path / "data", 6)
    config = TrainConfig(
        data=tmp_path / "data", work_dir=tmp_path / "work", crop_size=32, batch_size=6, steps=30, lr=3e-3,
        warmup_steps=1, checkpoint_every=10, feature_batch=4, device="cpu", seed=3,
    )
    seen: list[TrainProgress] = []
    result = train(TrainConfig(**{**config.__dict__, "steps": 10}), progress=seen.append, log_every=5)
    assert result.steps_done == 10 and (tmp_path / "work" / "features.pt").is_file()
    assert any(p.stage == "features" for p in seen)
    result = train(config, progress=seen.append, log_every=5)  # resumes at step 10
    losses = [p.loss for p in seen if p.stage == "train"]
    assert [p.done for p in seen if p.stage == "train"] == [5, 10, 15, 20, 25, 30]
    assert result.finished and losses[-1] < 0.7 * losses[0], losses
    sha, size = export_decoder(result.checkpoint, tmp_path / "decoder.pt", prior_correction=0.5)
    state = torch.load(tmp_path / "decoder.pt", weights_only=True)
    assert size < 10 * 2**20 and len(sha) == 64
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())
    # half the log rebalancing weights of the run's own prior, subtracted from the logits
    checkpoint = torch.load(result.checkpoint, weights_only=True)
    expected = 0.5 * rebalance_weights(checkpoint["prior"], config.rebalance_lambda).log()
    assert torch.allclose(state["prior_correction"].float(), expected, atol=2e-3)
