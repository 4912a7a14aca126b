"""One batch of luma planes to Cb/Cr planes: the colouring step of the stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from vidcolor.color.lab import ChromaSpec, chroma_from_lab, l_from_luma
from vidcolor.engines.base import Engine
from vidcolor.pipeline.oom import OOM_ERRORS, HalvingEngine, one_frame_error
from vidcolor.pipeline.predict import (
    Reference,
    RenderPlan,
    Smoother,
    decode_ab,
    predict_probs,
    upsample_ab,
)


@dataclass
class ChromaPredictor:
    """Colours batches of luma planes.

    Attributes:
        engine: the network back-end.
        in_spec: how the input's luma is coded (range, bits, matrix).
        out_spec: how the output's chroma is coded (its bits may differ, e.g. ProRes).
        chroma_shape: (height, width) of the output's chroma planes.
        plan: the network's input shape and the decoding.
    """

    engine: Engine
    in_spec: ChromaSpec
    out_spec: ChromaSpec
    chroma_shape: tuple[int, int]
    plan: RenderPlan
    smoother: Smoother | None = None
    reference: Reference | None = None
    # picture pts -> number in the film, for keyframes (see vidcolor/reference/)
    frame_number: Callable[[int], int] | None = None

    def __post_init__(self) -> None:
        # a batch too large for the GPU's memory is halved and retried, not fatal
        if not isinstance(self.engine, HalvingEngine):
            self.engine = HalvingEngine(self.engine)

    def _l_full(self, lumas: list[np.ndarray]) -> torch.Tensor:
        """(B, H, W) luma codes to L* (B, 1, H, W) on the engine's device."""
        stacked = np.stack(lumas)
        if stacked.dtype == np.uint16:
            stacked = stacked.astype(np.int32)  # torch has no general uint16 arithmetic
        y = torch.from_numpy(stacked).to(self.engine.device, non_blocking=True).unsqueeze(1)
        return l_from_luma(y, self.in_spec)

    def _frames(self, pts: Sequence[int] | None) -> list[int] | None:
        if self.reference is None or pts is None or self.frame_number is None:
            return None
        return [self.frame_number(p) for p in pts]

    def _distributions(self, l_full: torch.Tensor, frames: list[int] | None) -> Iterator[tuple[slice, torch.Tensor, torch.Tensor]]:
        """predict_probs over the batch, in order, in chunks the device's memory holds.

        The engine halves its own calls, but the whole batch's logits, their softmax and what
        follows need memory too: running out there retries the chunk smaller. That is safe because
        only this stateless part has seen it; the smoother gets a chunk once it succeeded.
        """
        start = 0
        while start < len(l_full):
            part = slice(start, start + (self.engine.limit or len(l_full)))
            try:
                probs, l_low = predict_probs(self.engine, l_full[part], self.plan.shape, reference=self.reference,
                                             frames=frames[part] if frames is not None else None)
            except OOM_ERRORS as ex:
                failed = len(l_full[part])
                if failed <= 1:
                    raise one_frame_error(self.engine.device, ex) from ex
            else:
                yield part, probs, l_low
                start = part.stop
                continue
            if self.engine.limit is None or self.engine.limit >= failed:  # else the engine already learned a smaller size
                self.engine.shrink(failed)

    @torch.inference_mode()
    def __call__(self, lumas: list[np.ndarray], pts: Sequence[int] | None = None) -> np.ndarray:
        """(B, H, W) luma codes to (B, 2, h, w) Cb/Cr codes at the output's chroma resolution."""
        l_full = self._l_full(lumas)
        codes = [self._codes(l_full[part], decode_ab(probs, l_low, self.plan, self.smoother))
                 for part, probs, l_low in self._distributions(l_full, self._frames(pts))]
        return codes[0] if len(codes) == 1 else np.concatenate(codes)

    def _codes(self, l_full: torch.Tensor, ab: torch.Tensor) -> np.ndarray:
        ab = upsample_ab(ab, self.chroma_shape)
        l_chroma = F.interpolate(l_full, size=self.chroma_shape, mode="area")
        ab = self.plan.decoding.by_lightness(ab, l_chroma)
        codes = chroma_from_lab(torch.cat([l_chroma, ab], dim=1), self.out_spec)
        out_dtype = np.uint16 if self.out_spec.bits > 8 else np.uint8
        return codes.cpu().numpy().astype(out_dtype)

    @torch.inference_mode()
    def warm_up(self, lumas: list[np.ndarray], pts: Sequence[int] | None = None) -> None:
        """Feed pictures that precede a segment to the smoother without colouring them (invisible joins)."""
        if self.smoother is None or not hasattr(self.smoother, "warm_up"):
            return
        # guided as in __call__, so the smoother's state matches the plain run's
        for _, probs, l_low in self._distributions(self._l_full(lumas), self._frames(pts)):
            self.smoother.warm_up(probs, l_low)
