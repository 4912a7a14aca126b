"""Luma to CIE L*, and (L*, a*, b*) to Y'CbCr chroma planes.

CIE Lab conversions come from kornia (sRGB primaries, D65). Video luma is treated
as gamma-encoded sRGB grey, the usual convention of colourisation models.
"""

from __future__ import annotations

import functools

import kornia.color
import torch

# ChromaSpec lives in a torch-free module: probing a file needs it, colouring it needs torch
from vidcolor.color.spec import MATRIX_COEFFS, ChromaSpec


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [0, 1] to Lab (L in [0, 100])."""
    return kornia.color.rgb_to_lab(rgb)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) Lab to sRGB, clipped to [0, 1]."""
    return kornia.color.lab_to_rgb(lab, clip=True)


def luma_to_unit(luma: torch.Tensor, spec: ChromaSpec) -> torch.Tensor:
    """Integer luma codes to gamma-encoded grey in [0, 1] (range expansion)."""
    y = luma.float()
    if spec.full_range:
        return (y / spec.max_code).clamp(0, 1)
    scale = 1 << (spec.bits - 8)
    return ((y - 16 * scale) / (219 * scale)).clamp(0, 1)


@functools.lru_cache(maxsize=16)
def _l_lut(spec: ChromaSpec, device: torch.device) -> torch.Tensor:
    # built once per (coding, device) rather than on every batch of the stream
    codes = torch.arange(spec.max_code + 1, device=device)
    grey = luma_to_unit(codes, spec).view(1, 1, 1, -1).expand(1, 3, 1, -1)
    return rgb_to_lab(grey.contiguous())[0, 0, 0]


def l_from_luma(luma: torch.Tensor, spec: ChromaSpec) -> torch.Tensor:
    """CIE L* of grey pixels with the given luma codes.

    For a grey pixel R=G=B, so L* depends on the luma code alone: a lookup table
    of 2**bits entries instead of a full colour conversion per pixel.
    """
    lut = _l_lut(spec, luma.device)
    return lut[luma.long().clamp(0, spec.max_code)]


def chroma_from_lab(lab: torch.Tensor, spec: ChromaSpec) -> torch.Tensor:
    """Cb and Cr codes of (B, 3, H, W) Lab pixels: an integer (B, 2, H, W) tensor."""
    rgb = lab_to_rgb(lab)
    kr, kb = MATRIX_COEFFS[spec.matrix]
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    y = kr * r + (1 - kr - kb) * g + kb * b
    cb = (b - y) / (2 * (1 - kb))
    cr = (r - y) / (2 * (1 - kr))
    chroma = torch.stack([cb, cr], dim=1)
    scale = 1 << (spec.bits - 8)
    if spec.full_range:
        codes = 128 * scale + chroma * spec.max_code
    else:
        codes = 128 * scale + chroma * 224 * scale
    return codes.round().clamp(0, spec.max_code).to(torch.int32)
