"""Weights records and the model metadata they carry, after torchvision's ``Weights``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Weights:
    """One checkpoint of a registered architecture, named ``arch.tag``.

    Attributes:
        name: ``arch.tag``, e.g. ``eccv16.release_v2``.
        filename: file name in the cache; carries the sha256 prefix.
        sha256: the file's full sha256, checked before ``load_state_dict``.
        size: the file's size in bytes.
        license: SPDX identifier or short statement of the weights' licence.
        input_size: the square side S the network was trained at.
        url: where ``vidcolor weights fetch`` downloads it from (HTTPS only), or None
            when the file ships inside the package.
        packaged: path relative to ``vidcolor/models/weights`` for shipped weights.
        meta: anything else worth saying (num_params, origin, metrics, docs).
    """

    name: str
    filename: str
    sha256: str
    size: int
    license: str
    input_size: int
    url: str | None = None
    packaged: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def arch(self) -> str:
        return self.name.split(".", 1)[0]

    def packaged_path(self) -> Path | None:
        if self.packaged is None:
            return None
        return Path(__file__).parent / "weights" / self.packaged
