"""Package attributes imported on first use, so that importing a light submodule stays light.

A package's ``__init__`` runs whenever any of its submodules is imported; one that
re-exports torch-backed names eagerly would make ``vidcolor --help`` import torch.
Only for names that differ from the package's submodule names: importing a submodule
sets the package attribute of that name, which would shadow a lazy export.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` that import ``exports`` (name -> module) when first asked."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
