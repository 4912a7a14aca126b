"""How a stream codes its luma and chroma samples; plain data, importable without torch."""

from __future__ import annotations

from dataclasses import dataclass

# Kr, Kb of the Y'CbCr matrices we write.
MATRIX_COEFFS: dict[str, tuple[float, float]] = {
    "bt601": (0.299, 0.114),
    "bt709": (0.2126, 0.0722),
    "bt2020": (0.2627, 0.0593),
}


@dataclass(frozen=True)
class ChromaSpec:
    """How luma and chroma samples are coded in one stream.

    Attributes:
        matrix: ``bt601``, ``bt709`` or ``bt2020``.
        full_range: True for JPEG/full range, False for limited (16-235) range.
        bits: bit depth of the samples (8 or 10 ...).
    """

    matrix: str = "bt709"
    full_range: bool = False
    bits: int = 8

    def __post_init__(self) -> None:
        if self.matrix not in MATRIX_COEFFS:
            raise ValueError(f"unknown matrix {self.matrix!r}; expected one of {sorted(MATRIX_COEFFS)}")
        if not 8 <= self.bits <= 16:
            raise ValueError(f"bit depth must be 8..16, got {self.bits}")

    @property
    def max_code(self) -> int:
        return (1 << self.bits) - 1
