"""From per-pixel bin distributions to ab values."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from vidcolor.color.bins import ab_bins

# Zhang et al. 2016, section 2.2: T=0.38 sits between the mean (T=1, desaturated)
# and the mode (T->0, patchy).
DEFAULT_TEMPERATURE = 0.38


def annealed_mean(probs: torch.Tensor, temperature: float = DEFAULT_TEMPERATURE) -> torch.Tensor:
    """Annealed mean of (B, 313, H, W) probabilities; returns (B, 2, H, W) ab in float32.

    Re-annealing probabilities p with temperature T is softmax(log(p) / T), which
    equals softmax(logits / T) when p = softmax(logits), so the smoother can work
    on probabilities and decoding stays exact.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    logp = probs.float().clamp_min(1e-12).log()
    annealed = torch.softmax(logp / temperature, dim=1)
    return torch.einsum("bkhw,kc->bchw", annealed, ab_bins(probs.device))


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the bin axis in float32 (FP16 loses the tails over 313 classes)."""
    return torch.softmax(logits.float(), dim=1)


def certainty(probs: torch.Tensor) -> torch.Tensor:
    """1 - H(p) / log(Q) per pixel of (B, Q, H, W) probabilities: 0 for a flat distribution, 1 for one bin."""
    p = probs.float().clamp_min(1e-12)
    entropy = -(p * p.log()).sum(dim=1, keepdim=True)
    return 1 - entropy / math.log(probs.shape[1])


def _rise(lightness: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """0 at L* ``low`` and below, 1 at ``high`` and above, linear between."""
    return ((lightness - low) / (high - low)).clamp(0, 1)


def _check_lightness_span(what: str, span: tuple[float, float] | None) -> None:
    if span is not None and not 0 <= span[0] < span[1] <= 100:
        raise ValueError(f"{what} needs 0 <= low < high <= 100 (L*), got {span}")


@dataclass(frozen=True)
class Decoding:
    """How a pixel's bin distribution becomes its ab: the annealed mean, scaled toward neutral
    where the distribution is flat.

    Averaging a distribution whose mass sits on several distant hues gives a colour none of
    them is (green and red modes average to a brown, several modes to a rainbow across a
    flat surface), and a wrong vivid hue is what a viewer does not forgive. The confidence
    gate multiplies ab by clamp((certainty - gate_floor) / gate_span, 0, 1); ``gate_span``
    0 turns it off.

    ``gain`` then multiplies ab (1: as decoded), the user's knob for the colour's strength.
    With ``gain_ramp`` (L* low, high) a gain above 1 rises from 1 at the low L* to ``gain`` at
    the high one instead: the shadows, where the network's hues are least reliable (coats
    painted maroon), keep their colour as decoded while the mid-tones and highlights get the
    gain. A gain below 1 mutes everywhere, shadows included.

    ``dark_knee`` fades ab linearly to grey below that L* (0: off). Lab's gamut narrows toward
    black, so a given ab is a far stronger colour in a shadow, and film's crushed blacks carry
    no cue to a coat's colour: that is where the network paints maroon suits.

    ``neutral_shadows`` (L* low, high) is the archivist's stronger knee: no colour below the low
    L*, full colour from the high one. Dark clothing in colour photographs averages a
    maroon-brown (ab about (8, 7): benchmarks/dark_colour.py), and that average is what the
    network paints on a coat it cannot tell is black; 30-45 turns such coats black, and greys
    whatever else is that dark (a shaded lawn, a night scene), at a cost in ab error.

    The knee, a ramped gain and neutral shadows need the full-resolution L: ``by_lightness``
    applies them where ab meets it.
    """

    temperature: float = DEFAULT_TEMPERATURE
    gate_floor: float = 0.0
    gate_span: float = 0.0
    gain: float = 1.0
    dark_knee: float = 0.0
    gain_ramp: tuple[float, float] | None = None
    neutral_shadows: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        if self.gate_span < 0 or not 0 <= self.gate_floor < 1:
            raise ValueError(f"confidence gate needs 0 <= floor < 1 and span >= 0, got {self.gate_floor}, {self.gate_span}")
        if self.gain <= 0:
            raise ValueError(f"colour gain must be positive, got {self.gain}")
        if not 0 <= self.dark_knee <= 100:
            raise ValueError(f"dark knee must be an L* in [0, 100], got {self.dark_knee}")
        _check_lightness_span("gain ramp", self.gain_ramp)
        _check_lightness_span("neutral shadows", self.neutral_shadows)

    def gate(self, probs: torch.Tensor) -> torch.Tensor | None:
        """(B, 1, H, W) factor on ab, or None when the gate is off."""
        if self.gate_span <= 0:
            return None
        return ((certainty(probs) - self.gate_floor) / self.gate_span).clamp(0, 1)

    def __call__(self, probs: torch.Tensor) -> torch.Tensor:
        ab = annealed_mean(probs, self.temperature)
        scale = self.gate(probs)
        if scale is not None:
            ab = ab * scale
        return ab if self.gain == 1 or self._ramped else ab * self.gain

    @property
    def _ramped(self) -> bool:
        return self.gain_ramp is not None and self.gain > 1

    def by_lightness(self, ab: torch.Tensor, lightness: torch.Tensor) -> torch.Tensor:
        """ab (B, 2, H, W) at L* (B, 1, H, W) of the same size: faded toward grey below ``dark_knee``
        and ``neutral_shadows``, and strengthened along ``gain_ramp``."""
        if self._ramped:
            ab = ab * (1 + (self.gain - 1) * _rise(lightness, *self.gain_ramp))
        if self.dark_knee > 0:
            ab = ab * _rise(lightness, 0.0, self.dark_knee)
        if self.neutral_shadows is not None:
            ab = ab * _rise(lightness, *self.neutral_shadows)
        return ab
