"""The lite model: ImageNet encoder mapping, shipped decoder weights, output contract."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest
import timm
import torch

from tests.conftest import shared_path
from vidcolor.errors import WeightsError
from vidcolor.models import load_model
from vidcolor.models._registry import get_weights
from vidcolor.models.lite import ENCODER_PACKAGES, Lite, load_encoder_state
from vidcolor.models.weights_cache import sha256_of

# ImageNet-1k classes 151..268 are dog breeds, 281..285 domestic cats.
CAT_OR_DOG = range(151, 286)


@pytest.mark.parametrize("encoder", list(ENCODER_PACKAGES))
def test_encoder_mapping_classifies_cats_and_dogs(encoder: str) -> None:
    """With the mapped state dict, timm's full network recognises pets; a wrong key mapping
    would fail to load (shapes) or give junk classes."""
    folder = shared_path("datasets", "val", "cats_dogs")
    net = timm.create_model(encoder, pretrained=False)
    net.load_state_dict(load_encoder_state(name=encoder), strict=True)
    net.eval()
    paths = sorted(folder.glob("*.jpg"))[:4]
    batch = []
    for path in paths:
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        batch.append(torch.from_numpy(cv2.resize(rgb, (224, 224), interpolation=cv2.INTER_CUBIC)).permute(2, 0, 1))
    x = (torch.stack(batch).float() - 127) / 128  # the package's ImageNet normalisation
    with torch.inference_mode():
        top1 = net(x).argmax(dim=1).tolist()
    assert all(c in CAT_OR_DOG for c in top1), dict(zip([p.name for p in paths], top1))


def test_a_wider_encoder_gets_a_decoder_that_fits_it() -> None:
    """Lite2's stages are wider than Lite0's (48, 120, 352 channels against 40, 112, 320): the
    decoder is built for the encoder it is given, and the output contract stays the same."""
    model = Lite(encoder="efficientnet_lite2").eval()
    assert model.decoder.up16.conv[0].in_channels == 352 + 120
    with torch.inference_mode():
        assert model(torch.zeros(1, 1, 64, 96)).shape == (1, 313, 16, 24)
    with pytest.raises(WeightsError, match="unknown lite encoder"):
        Lite(encoder="efficientnet_b0")


@pytest.mark.parametrize("name", ["lite", "lite.v2", "lite.v1"])
def test_shipped_weights_load_and_match_their_record(name: str) -> None:
    weights = get_weights(name)
    path = weights.packaged_path()
    assert path is not None and path.is_file(), f"{weights.filename} must ship inside the package"
    assert weights.sha256 == sha256_of(path)
    assert weights.size == path.stat().st_size <= 10 * 2**20
    model = load_model(name)
    assert model.weights.name == weights.name
    assert not model.random_weights
    with torch.inference_mode():
        logits = model.network(torch.zeros(2, 1, 64, 64))
    assert logits.shape == (2, 313, 16, 16)


def test_corrupt_weights_fail_the_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidcolor.models import Weights

    bad = tmp_path / get_weights("lite").filename
    shutil.copy(get_weights("lite").packaged_path(), bad)
    data = bytearray(bad.read_bytes())
    data[-1] ^= 0xFF
    bad.write_bytes(bytes(data))
    # the shipped file damaged in place (an explicit --weights file is the user's own and not checked)
    monkeypatch.setattr(Weights, "packaged_path", lambda self: bad)
    with pytest.raises(WeightsError, match="sha256"):
        load_model("lite")


def test_a_record_can_decode_with_another_prior_correction(monkeypatch: pytest.MonkeyPatch) -> None:
    """meta decode_prior_correction rescales the file's alpha * log w, with no new weights file."""
    import dataclasses

    from vidcolor.models import loading

    base = get_weights("lite.v4")
    stored = load_model("lite.v4").network.decoder.prior_correction.clone()
    record = dataclasses.replace(base, meta={**base.meta, "decode_prior_correction": 1.0})
    monkeypatch.setattr(loading, "get_weights", lambda name: record)
    rescaled = load_model("lite.v4").network.decoder.prior_correction
    torch.testing.assert_close(rescaled, stored / base.meta["prior_correction"])
    # a file the user names is not described by the record: left as it is
    explicit = load_model("lite.v4", weights_path=base.packaged_path()).network.decoder.prior_correction
    torch.testing.assert_close(explicit, stored)
