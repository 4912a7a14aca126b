"""Colourisation networks: L (B,1,S,S) normalised as (L-50)/100 to logits (B,313,S/4,S/4).

The registry and the shipped models' weights records import without torch (for
``vidcolor weights list``); the networks and ``load_model`` are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidcolor._lazy import lazy_exports
from vidcolor.models import catalog as _catalog  # noqa: F401  (registers eccv16 and lite)
from vidcolor.models._api import Weights
from vidcolor.models._registry import get_model_entry, get_weights, list_models, register_model, register_weights

if TYPE_CHECKING:
    from vidcolor.models.loading import LoadedModel, load_model

__getattr__, __dir__ = lazy_exports(__name__, {
    "LoadedModel": "vidcolor.models.loading",
    "load_model": "vidcolor.models.loading",
})

__all__ = [
    "LoadedModel",
    "Weights",
    "get_model_entry",
    "get_weights",
    "list_models",
    "load_model",
    "register_model",
    "register_weights",
]
