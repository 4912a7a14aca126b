"""Colourisation networks: L (B,1,S,S) normalised as (L-50)/100 to logits (B,313,S/4,S/4)."""

from vidcolor.models import eccv16 as _eccv16  # noqa: F401  (registers)
from vidcolor.models import lite as _lite  # noqa: F401  (registers)
from vidcolor.models._api import Weights
from vidcolor.models._registry import get_model_entry, get_weights, list_models, register_model
from vidcolor.models.loading import LoadedModel, load_model

__all__ = [
    "LoadedModel",
    "Weights",
    "get_model_entry",
    "get_weights",
    "list_models",
    "load_model",
    "register_model",
]
