"""Out of GPU memory on a too-large batch: halve the batch and retry, and say so once."""

from __future__ import annotations

import logging
from typing import Any

import torch

from vidcolor.engines.base import Engine
from vidcolor.errors import EngineError

log = logging.getLogger(__name__)

# torch >= 2.5 has torch.OutOfMemoryError; torch.cuda.OutOfMemoryError is the same class there
OOM_ERRORS: tuple[type[BaseException], ...] = tuple(
    {cls for cls in (getattr(torch, "OutOfMemoryError", None), getattr(torch.cuda, "OutOfMemoryError", None)) if cls is not None}
)


class HalvingEngine:
    """Wraps an engine so that a batch too large for the device's memory runs in halves.

    The largest chunk size that worked is kept for the rest of the run, so the cost of
    a failed attempt is paid once. Only the engine call is retried: nothing downstream
    (softmax, the stateful temporal smoother) has seen the batch when it fails.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.limit: int | None = None  # None: no OOM seen, whole batches go through
        self.halvings = 0

    def __getattr__(self, name: str) -> Any:
        # name, device, input_size, max_batch, describe: the wrapped engine's
        return getattr(self._engine, name)

    def __call__(self, l_batch: torch.Tensor) -> torch.Tensor:
        size = len(l_batch) if self.limit is None else min(self.limit, len(l_batch))
        outputs: list[torch.Tensor] = []
        start = 0
        while start < len(l_batch):
            chunk = l_batch[start : start + size]
            try:
                outputs.append(self._engine(chunk))
                start += len(chunk)
                continue
            except OOM_ERRORS as ex:
                if len(chunk) <= 1:
                    raise one_frame_error(self._engine.device, ex) from ex
            # Halved only here, after the except block: until then the error's traceback holds the
            # failed attempt's activations, and emptying the cache could not hand them back.
            size = self.shrink(len(chunk))
        return outputs[0] if len(outputs) == 1 else torch.cat(outputs)

    def shrink(self, failed: int) -> int:
        """Halve the chunk size after ``failed`` frames ran out of memory (here or in the caller's work on them)."""
        if self._engine.device.type == "cuda":
            torch.cuda.empty_cache()
        self.limit = failed // 2
        self.halvings += 1
        if self.halvings == 1:
            log.warning("out of %s memory with a batch of %d frames; retrying in batches of %d", self._engine.device, failed, self.limit)
        else:
            log.info("still out of memory; batches of %d frames now", self.limit)
        return self.limit


def one_frame_error(device: torch.device, ex: BaseException) -> EngineError:
    """The one-line error for a device that cannot hold even one frame."""
    text = str(ex).strip()
    first = text.splitlines()[0] if text else type(ex).__name__
    return EngineError(f"out of {device} memory even for one frame ({first}); free the GPU or use --device cpu")
