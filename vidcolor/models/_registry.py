"""Model registry: names to builders and their weights, after timm and torchvision.

Torch-free: listing models and their weights (``vidcolor weights list``) must not
import the networks; a builder named as ``"module:function"`` is imported when it is
first used.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vidcolor.models._api import Weights

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[..., "nn.Module"]


@dataclass(frozen=True)
class ModelEntry:
    """A registered architecture: how to build it and which weights it has (default first).

    ``target`` is the builder itself, or ``"module:function"`` naming it (imported on first use).
    ``retired``: weights names no longer shipped, each with what to use instead, so that a job
    that names one (a resumed run, a script) is told where its weights went.
    """

    name: str
    target: Builder | str
    weights: tuple[Weights, ...]
    description: str
    retired: tuple[tuple[str, str], ...] = ()

    @property
    def builder(self) -> Builder:
        if not isinstance(self.target, str):
            return self.target
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)

    @property
    def default_weights(self) -> Weights | None:
        return self.weights[0] if self.weights else None


_MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, *, weights: tuple[Weights, ...], description: str) -> Callable[[Builder], Builder]:
    """Decorator adding a builder to the registry; a duplicate name is a bug and raises."""

    def wrap(builder: Builder) -> Builder:
        _add(ModelEntry(name, builder, weights, description))
        return builder

    return wrap


def declare_model(name: str, target: str, *, weights: tuple[Weights, ...], description: str,
                  retired: tuple[tuple[str, str], ...] = ()) -> None:
    """Register a builder by its ``"module:function"`` name, imported only when a model is built."""
    _add(ModelEntry(name, target, weights, description, retired))


def register_weights(arch: str, weights: Weights) -> None:
    """Add a weights record to a registered architecture: weights trained outside the package
    (a candidate being scored, a user's own training) with the metadata runs read from it."""
    entry = get_model_entry(arch)
    if any(w.name == weights.name for w in entry.weights):
        raise ValueError(f"weights {weights.name!r} are registered twice")
    _MODELS[entry.name] = ModelEntry(entry.name, entry.target, (*entry.weights, weights), entry.description, entry.retired)


def _add(entry: ModelEntry) -> None:
    if entry.name in _MODELS:
        raise ValueError(f"model {entry.name!r} is registered twice")
    _MODELS[entry.name] = entry


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
    for retired, instead in entry.retired:
        if retired == name:
            raise UsageError(f"{name} no longer ships: {instead}")
    raise UsageError(f"unknown weights {name!r}; {entry.name} has: {', '.join(w.name for w in entry.weights)}")
