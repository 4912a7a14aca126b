"""Turn a training checkpoint into the decoder weights file that ships with the package."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vidcolor.errors import UsageError
from vidcolor.models.lite import LiteDecoder
from vidcolor.models.weights_cache import sha256_of
from vidcolor.train.rebalance import rebalance_weights


def export_decoder(checkpoint: Path, out: Path, *, half: bool = True, prior_correction: float = 0.0) -> tuple[str, int]:
    """Write the decoder state_dict (FP16 unless ``half`` is False); returns (sha256, size in bytes).

    Args:
        prior_correction: alpha in [0, 1]; the exported decoder subtracts alpha * log(w) from
            its logits, w being the run's class-rebalancing weights (0: as trained; 1: the
            rebalancing undone, which desaturates).

    Raises:
        UsageError: the checkpoint's decoder widths differ from the ones ``lite`` builds.
    """
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    config = state["config"]
    weights = rebalance_weights(state["prior"], config["rebalance_lambda"])
    decoder = {**state["decoder"], "prior_correction": prior_correction * weights.log()}
    if not _shapes_match(decoder):
        widths = config.get("decoder_widths")
        raise UsageError(f"checkpoint decoder widths {widths} differ from lite's; change LiteDecoder's default first")
    if half:
        decoder = {k: v.half() if v.is_floating_point() else v for k, v in decoder.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save(decoder, tmp)
    os.replace(tmp, out)
    return sha256_of(out), out.stat().st_size


def _shapes_match(decoder: dict[str, torch.Tensor]) -> bool:
    reference = LiteDecoder().state_dict()
    return reference.keys() == decoder.keys() and all(reference[k].shape == v.shape for k, v in decoder.items())

