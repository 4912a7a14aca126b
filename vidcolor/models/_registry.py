"""Model registry: names to builders and their weights, after timm and torchvision."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from vidcolor.models._api import Weights

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    """A registered architecture: how to build it and which weights it has (default first)."""

    name: str
    builder: Builder
    weights: tuple[Weights, ...]
    description: str

    @property
    def default_weights(self) -> Weights | None:
        return self.weights[0] if self.weights else None


_MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, *, weights: tuple[Weights, ...], description: str) -> Callable[[Builder], Builder]:
    """Decorator adding a builder to the registry; a duplicate name is a bug and raises."""

    def wrap(builder: Builder) -> Builder:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = ModelEntry(name, builder, weights, description)
        return builder

    return wrap


def list_models(pattern: str = "*") -> list[str]:
    return sorted(n for n in _MODELS if fnmatch.fnmatch(n, pattern))


def get_model_entry(name: str) -> ModelEntry:
    from vidcolor.errors import UsageError

    arch = name.split(".", 1)[0]
    try:
        return _MODELS[arch]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; available: {', '.join(list_models())}") from None


def get_weights(name: str) -> Weights:
    """``arch`` (its default weights) or ``arch.tag`` to a Weights record."""
    from vidcolor.errors import UsageError

    entry = get_model_entry(name)
    if "." not in name:
        if entry.default_weights is None:
            raise UsageError(f"model {name!r} has no weights")
        return entry.default_weights
    for w in entry.weights:
        if w.name == name:
            return w
    raise UsageError(f"unknown weights {name!r}; {entry.name} has: {', '.join(w.name for w in entry.weights)}")
