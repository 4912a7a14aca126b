"""What happens to a film after the emulsion: exposure and its flicker, the print's contrast
curve, faded blacks, lens and printer blur, grain, scratches.

Every parameter is a (B,) tensor, one value per picture, so a training batch can mix looks
and a clip can keep one look while only its exposure flickers from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import kornia.filters
import torch

from vidcolor.film.stocks import STOCKS, linear_to_srgb

# (low, high) of the uniform draws in sample_looks, chosen by eye on the shared old films
# (chaplin, steamboat): contrast from flat to hard, grain from none to heavy.
_RANGES: dict[str, tuple[float, float]] = {
    "exposure": (0.7, 1.35), "contrast": (0.0, 0.7), "fade": (0.0, 0.08), "blur": (0.0, 1.2), "grain": (0.0, 0.07),
}
# mix of stocks in training: most archive film is orthochromatic or early panchromatic
STOCK_MIX: dict[str, float] = {"blue": 0.1, "ortho": 0.35, "pan": 0.35, "luma": 0.2}


@dataclass
class FilmLook:
    """Per-picture look, each field (B,) float32.

    Attributes:
        exposure: gain on the linear exposure (1: as shot).
        contrast: 0 leaves the tone curve as it is, 1 is a full smoothstep S-curve (hard print).
        fade: how far blacks are lifted and whites pulled down (a faded print).
        blur: Gaussian blur sigma in pixels of the picture as given.
        grain: standard deviation of the grain in display units (0..1).
        scratches: 1 adds a few vertical scratches, 0 none.
    """

    exposure: torch.Tensor
    contrast: torch.Tensor
    fade: torch.Tensor
    blur: torch.Tensor
    grain: torch.Tensor
    scratches: torch.Tensor

    @classmethod
    def constant(cls, n: int, *, exposure: float = 1.0, contrast: float = 0.0, fade: float = 0.0, blur: float = 0.0,
                 grain: float = 0.0, scratches: bool = False, device: torch.device | str = "cpu") -> FilmLook:
        values = {"exposure": exposure, "contrast": contrast, "fade": fade, "blur": blur, "grain": grain,
                  "scratches": float(scratches)}
        return cls(**{k: torch.full((n,), float(v), device=device) for k, v in values.items()})

    def __len__(self) -> int:
        return self.exposure.shape[0]


def sample_looks(n: int, generator: torch.Generator, device: torch.device | str = "cpu",
                 scratch_rate: float = 0.1) -> tuple[torch.Tensor, FilmLook]:
    """Random stocks (n, 3) and looks for a training batch, drawn on the CPU from ``generator``."""
    names = list(STOCK_MIX)
    choice = torch.multinomial(torch.tensor(list(STOCK_MIX.values())), n, replacement=True, generator=generator)
    weights = torch.tensor([STOCKS[name].weights for name in names])[choice]

    def draw(name: str) -> torch.Tensor:
        low, high = _RANGES[name]
        return low + (high - low) * torch.rand(n, generator=generator)

    look = FilmLook(**{k: draw(k) for k in _RANGES}, scratches=(torch.rand(n, generator=generator) < scratch_rate).float())
    return weights.to(device), FilmLook(**{f.name: getattr(look, f.name).to(device) for f in fields(FilmLook)})


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    if float(sigma.max()) < 0.05:
        return x
    radius = max(1, int(float(sigma.max()) * 3 + 0.5))
    s = sigma.clamp_min(1e-3).view(-1, 1).expand(-1, 2)
    return kornia.filters.gaussian_blur2d(x, (2 * radius + 1, 2 * radius + 1), s, border_type="replicate")


def apply_look(exposure: torch.Tensor, look: FilmLook, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 1, H, W) linear exposure (from :func:`film_grey`) to display grey in [0, 1].

    ``generator`` seeds grain and scratches (a CPU generator; the noise is drawn on the CPU
    so that a seed gives the same film on every device).
    """
    b, _, h, w = exposure.shape
    view = (b, 1, 1, 1)
    grey = linear_to_srgb(exposure * look.exposure.view(view))
    # S-curve: blend toward smoothstep, steeper mid-tones and compressed ends, as a hard print
    c = look.contrast.view(view)
    grey = (1 - c) * grey + c * grey * grey * (3 - 2 * grey)
    fade = look.fade.view(view)
    grey = fade + (1 - 2 * fade) * grey
    grey = _blur(grey, look.blur)
    if float(look.grain.max()) > 0:
        noise = torch.randn(b, 1, h, w, generator=generator).to(grey.device)
        # grain clumps over a pixel or two, and is strongest in the mid-tones
        noise = _blur(noise, torch.full((b,), 0.7, device=grey.device)) * 1.6
        grey = grey + noise * look.grain.view(view) * (0.4 + 2.4 * grey * (1 - grey))
    if float(look.scratches.max()) > 0:
        grey = _scratch(grey, look.scratches, generator)
    return grey.clamp(0, 1)


def _scratch(grey: torch.Tensor, on: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    b, _, h, w = grey.shape
    count = 3
    cols = (torch.rand(b, count, generator=generator) * w).long().clamp(max=w - 1)
    bright = torch.rand(b, count, generator=generator) < 0.5
    out = grey.clone()
    for i in range(b):
        if on[i] <= 0:
            continue
        for j in range(count):
            out[i, :, :, cols[i, j]] = 0.95 if bright[i, j] else 0.08
    return out
