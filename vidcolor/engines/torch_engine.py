"""PyTorch back-end: float32 eager channels-last on the CPU; on CUDA an FP16 channels-last body replayed from CUDA graphs.

On CUDA, per-launch CPU overhead matters at small batches and host-to-device
copies would otherwise serialise with compute, so the CUDA path:

* captures one CUDA graph per padded batch size (powers of two up to
  ``max_batch``) and pads a partial batch up to the captured size;
* stages CPU input in pinned host memory and uploads it on a separate copy
  stream, double-buffered, so the upload of batch N+1 overlaps the compute of
  batch N (``__call__`` does not wait for the GPU).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

log = logging.getLogger(__name__)

_WARMUP_RUNS = 3  # lets cudnn.benchmark pick its algorithms before capture freezes them


@dataclass
class _Graph:
    graph: torch.cuda.CUDAGraph
    static_in: torch.Tensor  # (B,1,S,S) float32; the graph casts to FP16 itself
    static_out: torch.Tensor


@dataclass
class _Staging:
    """One of two upload slots: pinned host buffer, device buffer, and the events guarding them."""

    host: torch.Tensor
    device: torch.Tensor
    uploaded: torch.cuda.Event  # the copy from `host` finished: host may be rewritten
    consumed: torch.cuda.Event  # compute has read `device`: it may be overwritten


class TorchEngine:
    """Eager float32 channels-last PyTorch on the CPU; FP16 channels-last with CUDA graphs and overlapped uploads on CUDA."""

    def __init__(
        self,
        network: nn.Module,
        *,
        device: torch.device,
        input_size: int,
        max_batch: int = 16,
        cuda_graphs: bool = True,
    ) -> None:
        self.device = device
        self.input_size = input_size  # the square side the model was trained at; any shape runs
        self.max_batch = max_batch
        self.half = device.type == "cuda"
        self.name = "torch-cuda-fp16" if self.half else f"torch-{device.type}-fp32"
        # channels-last on the CPU too: oneDNN's depthwise convolutions, most of EfficientNet, run
        # about 1.3-1.5x faster in it (lite at 224x224 and 192x352, benchmarks/RESULTS.md)
        network = network.eval().to(device).to(memory_format=torch.channels_last)
        if self.half:
            network = network.half()
            torch.backends.cudnn.benchmark = True
        self.network = network
        self.cuda_graphs = cuda_graphs and self.half
        # keyed by (batch, h, w) and (h, w): a film has one input shape, so a few of each
        self._graphs: dict[tuple[int, int, int], _Graph] = {}
        self._staging: dict[tuple[int, int], list[_Staging]] = {}
        self._slot = 0
        if self.half:
            self._copy_stream = torch.cuda.Stream(device)

    def _new_staging(self, hw: tuple[int, int]) -> _Staging:
        shape = (self.max_batch, 1, *hw)
        # Events never recorded make the first waits on them no-ops.
        return _Staging(
            host=torch.empty(shape, dtype=torch.float32, pin_memory=True),
            device=torch.empty(shape, dtype=torch.float32, device=self.device),
            uploaded=torch.cuda.Event(),
            consumed=torch.cuda.Event(),
        )

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """The body on (B,1,S,S) float32 device input; what CUDA graphs capture."""
        if self.half:
            x = x.half().contiguous(memory_format=torch.channels_last)
        return self.network(x)

    @torch.inference_mode()
    def __call__(self, l_batch: torch.Tensor) -> torch.Tensor:
        if not self.half:
            return self.network(l_batch.to(self.device).contiguous(memory_format=torch.channels_last))
        if l_batch.shape[0] > self.max_batch:
            return torch.cat([self(chunk) for chunk in l_batch.split(self.max_batch)])
        n = l_batch.shape[0]
        compute = torch.cuda.current_stream(self.device)
        slot = self._upload(l_batch, compute) if l_batch.device.type == "cpu" else None
        x = slot.device[:n] if slot is not None else l_batch.to(self.device).float()
        if self.cuda_graphs:
            try:
                g = self._graph_for(n, tuple(x.shape[-2:]))
                g.static_in[:n].copy_(x)
                if n < g.static_in.shape[0]:
                    g.static_in[n:].zero_()  # padding rows: deterministic, and never returned
                self._release(slot, compute)
                g.graph.replay()
                # The static output is overwritten by the next replay; hand out a copy.
                return g.static_out[:n].clone()
            except torch.cuda.OutOfMemoryError:
                # Each graph keeps a private memory pool that nothing else can use: a caller that
                # retries smaller batches (HalvingEngine) would otherwise find the memory still held.
                self._drop_graphs()
                raise
        out = self._forward(x)
        self._release(slot, compute)
        return out

    def _upload(self, l_batch: torch.Tensor, compute: torch.cuda.Stream) -> _Staging:
        """Start copying CPU input to the GPU via pinned memory on the copy stream; ``compute`` waits for it."""
        n = l_batch.shape[0]
        hw = tuple(l_batch.shape[-2:])
        if hw not in self._staging:
            self._staging[hw] = [self._new_staging(hw) for _ in range(2)]
        slot = self._staging[hw][self._slot]
        self._slot ^= 1
        slot.uploaded.synchronize()  # the last copy out of this pinned buffer is done (two calls ago)
        slot.host[:n].copy_(l_batch)
        with torch.cuda.stream(self._copy_stream):
            # The device buffer may still be read by compute enqueued two calls ago.
            self._copy_stream.wait_event(slot.consumed)
            slot.device[:n].copy_(slot.host[:n], non_blocking=True)
            slot.uploaded.record(self._copy_stream)
        compute.wait_event(slot.uploaded)
        return slot

    @staticmethod
    def _release(slot: _Staging | None, compute: torch.cuda.Stream) -> None:
        # Recorded after the work reading slot.device is enqueued, so the next upload into it waits for that work.
        if slot is not None:
            slot.consumed.record(compute)

    def _graph_for(self, n: int, hw: tuple[int, int]) -> _Graph:
        size = min(self.max_batch, 1 << (n - 1).bit_length())
        graph = self._graphs.get((size, *hw))
        if graph is None:
            graph = self._capture(size, hw)
            self._graphs[(size, *hw)] = graph
        return graph

    def _capture(self, size: int, hw: tuple[int, int]) -> _Graph:
        static_in = torch.zeros((size, 1, *hw), device=self.device)
        # Warm-up on a side stream, as torch.cuda.graph's documentation requires, so lazy
        # initialisation and cudnn autotuning happen outside the capture.
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(_WARMUP_RUNS):
                self._forward(static_in)
        torch.cuda.current_stream(self.device).wait_stream(side)
        # The graph allocates from a private pool that cannot reuse the warm-up's cached blocks:
        # hand those back first, or a batch near the memory limit is held twice and does not fit.
        torch.cuda.empty_cache()
        graph = torch.cuda.CUDAGraph()
        try:
            # thread_local: a decoder thread touching CUDA meanwhile must not invalidate the capture.
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                static_out = self._forward(static_in)
        except BaseException:
            graph.reset()  # a failed capture's pool would stay held while its traceback lives
            raise
        log.debug("captured a CUDA graph for batch %d", size)
        return _Graph(graph, static_in, static_out)

    def _drop_graphs(self) -> None:
        for g in self._graphs.values():
            g.graph.reset()
        self._graphs.clear()
        torch.cuda.empty_cache()

    def describe(self) -> str:
        if self.device.type == "cpu":
            return f"{self.name} on cpu, channels-last, {torch.get_num_threads()} threads"
        graphs = "CUDA graphs" if self.cuda_graphs else "eager"
        return f"{self.name} on {self.device} ({torch.cuda.get_device_name(self.device)}), channels-last, {graphs}, batch <= {self.max_batch}"
