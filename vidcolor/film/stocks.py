"""Film stocks: how strongly an emulsion responds to the red, green and blue of a scene.

A black-and-white emulsion records a weighted sum of the scene's linear light, and
the weights are set by its spectral sensitivity, not by the eye's. The weights
below are the share of each sRGB primary's band that falls inside the stock's
sensitive range, rounded; they are approximations for simulation, not
measurements of a particular batch of film.

- Blue-sensitive ("ordinary", "colour-blind") emulsions: silver halide alone
  responds from the ultraviolet to about 500 nm, so red and most green record as
  black and a blue sky burns out white. Mees & James (eds.), *The Theory of the
  Photographic Process*, 3rd ed. (1966), ch. 10; the native sensitivity curves of
  silver bromide in Hunt, *The Reproduction of Colour*, 6th ed. (2004), §12.
- Orthochromatic emulsions: dye sensitisation (Vogel 1873, erythrosine) extends
  the response to about 580-590 nm, green and yellow but not red: lips and red
  cloth go near black, blue stays light. Most motion-picture negative before the
  late 1920s (Kodak's standard negative) was orthochromatic: Mees & James, ch. 10;
  Salt, *Film Style and Technology* (1983), on the change to panchromatic stock
  around 1926-1928.
- Panchromatic emulsions respond to about 650-680 nm. Early panchromatic negative
  (Kodak Type-1 panchromatic, 1920s-30s) was still less sensitive to red and more
  to blue than the eye (Hunt, §12; Kodak publication F-5 shows the same bias for
  later general-purpose pan films), hence more blue and less red than Rec. 709.
- ``luma`` is not film: Rec. 709's luminance weights, the grey that digital
  desaturation gives (the input the earlier models were trained on).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FilmStock:
    """An emulsion's response as weights on linear R, G, B (summing to 1)."""

    name: str
    weights: tuple[float, float, float]
    description: str


STOCKS: dict[str, FilmStock] = {
    stock.name: stock
    for stock in (
        FilmStock("blue", (0.00, 0.08, 0.92), "blue-sensitive, before about 1880-1900"),
        FilmStock("ortho", (0.00, 0.42, 0.58), "orthochromatic, most film before about 1928"),
        FilmStock("pan", (0.18, 0.52, 0.30), "early panchromatic, 1920s-1950s"),
        FilmStock("luma", (0.2126, 0.7152, 0.0722), "digital Rec. 709 luminance (not film)"),
    )
}


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= 0.04045, x / 12.92, ((x.clamp_min(0) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0, 1)
    return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x.clamp_min(1e-8) ** (1 / 2.4) - 0.055)


def film_grey(rgb: torch.Tensor, stock: FilmStock | str | torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [0, 1] to the (B, 1, H, W) linear exposure the stock records.

    ``stock`` is one stock for the whole batch, or a (B, 3) tensor of weights, one stock per picture.
    """
    if isinstance(stock, str):
        stock = STOCKS[stock]
    if isinstance(stock, FilmStock):
        weights = torch.tensor(stock.weights, device=rgb.device, dtype=torch.float32).expand(rgb.shape[0], 3)
    else:
        weights = stock.to(rgb.device, torch.float32)
    return torch.einsum("bchw,bc->bhw", srgb_to_linear(rgb.float()), weights).unsqueeze(1)
