"""Turn a model name (and maybe a local file) into a ready network."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from vidcolor.errors import WeightsError
from vidcolor.models._api import Weights
from vidcolor.models._registry import get_model_entry, get_weights
from vidcolor.models.weights_cache import cached_path, locate, sha256_of, verify

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A network in eval mode with the record of the weights it carries."""

    network: nn.Module
    weights: Weights
    random_weights: bool = False

    @property
    def input_size(self) -> int:
        return self.weights.input_size

    @property
    def label(self) -> str:
        return f"{self.weights.name} (seeded random weights)" if self.random_weights else self.weights.name


def _load_state(path: Path, weights: Weights, *, explicit: bool) -> dict[str, torch.Tensor]:
    if explicit and weights.packaged is not None:
        # a decoder the user trained with `vidcolor train`: it cannot match the shipped hash;
        # weights_only loading still refuses anything but tensors
        log.info("using custom %s weights from %s (sha256 %s)", weights.arch, path, sha256_of(path)[:12])
    elif weights.sha256:
        verify(path, weights)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as ex:  # torch raises many types for a damaged pickle
        raise WeightsError(f"{path} is not a loadable weights file: {ex}") from ex
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    return state


def _rescale_prior_correction(state: dict[str, torch.Tensor], weights: Weights) -> dict[str, torch.Tensor]:
    """A lite file holds its prior correction as alpha * log w (``meta["prior_correction"]`` = alpha);
    a record may decode with another alpha, ``meta["decode_prior_correction"]``, chosen after export
    by the archival benchmark without re-exporting the file. Only for the record's own file."""
    stored, wanted = weights.meta.get("prior_correction"), weights.meta.get("decode_prior_correction")
    if wanted is None or not stored or wanted == stored:
        return state
    key = "decoder.prior_correction" if "decoder.prior_correction" in state else "prior_correction"
    return {**state, key: state[key].float() * (float(wanted) / float(stored))}


def load_model(name: str, *, weights_path: Path | None = None, random_seed: int | None = None) -> LoadedModel:
    """Build a registered model with its weights.

    Args:
        name: ``arch`` or ``arch.tag``.
        weights_path: a local weights file instead of the package or cache.
        random_seed: build with seeded random weights (tests and benchmarks).

    Raises:
        WeightsError: the weights are missing or fail their checksum; the message says how to get them.
    """
    entry = get_model_entry(name)
    weights = get_weights(name)
    if random_seed is not None:
        torch.manual_seed(random_seed)
        kwargs = {"pretrained_encoder": False} if entry.name == "lite" else {}
        return LoadedModel(entry.builder(**kwargs).eval(), weights, random_weights=True)
    path = locate(weights, weights_path)
    if path is None:
        raise WeightsError(
            f"{weights.name} weights not found: run `vidcolor weights fetch {entry.name}`, or put "
            f"{weights.filename} at {cached_path(weights)}, or pass --weights PATH"
        )
    state = _load_state(path, weights, explicit=weights_path is not None)
    if weights_path is None:
        state = _rescale_prior_correction(state, weights)
    key = "decoder_state" if entry.name == "lite" else "state_dict"
    network = entry.builder(**{key: state})
    log.info("loaded %s from %s", weights.name, path)
    return LoadedModel(network.eval(), weights)


def has_local_weights(name: str) -> bool:
    weights = get_weights(name)
    return locate(weights) is not None
