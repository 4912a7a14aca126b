"""ONNX export of a model's network body: L in, 313-bin logits out, dynamic batch.

The FP16 export carries its types in the graph (FP16 weights, input, activations
and logits), which is what a strongly typed TensorRT network needs: TensorRT 11
has no FP16 builder flag, so precision can only come from the ONNX file.
Softmax and decoding are not part of the graph; they run in float32 outside.

The legacy TorchScript exporter is used on purpose: the torch.export-based one
needs ``onnxscript``, which vidcolor does not depend on, and for these plain
convolutional networks the TorchScript exporter gives a clean graph (Conv,
ConvTranspose, BatchNormalization, Relu, Resize, Concat) that is byte-for-byte
reproducible, so its sha256 can key the TensorRT plan cache.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from vidcolor.defaults import MIN_OPSET  # kept there so the CLI's help needs no torch
from vidcolor.engines._files import atomic_write
from vidcolor.errors import EngineError
from vidcolor.models.loading import LoadedModel
from vidcolor.models.weights_cache import sha256_of

log = logging.getLogger(__name__)

INPUT_NAME = "l"
OUTPUT_NAME = "logits"


@dataclass(frozen=True)
class ExportInfo:
    """What an ONNX file holds; written beside it as ``<file>.json``."""

    sha256: str
    model: str
    random_weights: bool
    input_size: int
    precision: str
    opset: int
    torch_version: str


def info_path(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.name + ".json")


def export_onnx(
    model: LoadedModel,
    path: Path,
    *,
    fp16: bool,
    opset: int = MIN_OPSET,
    input_size: int | None = None,
) -> Path:
    """Write ``model``'s network body to ``path`` as ONNX and record its sha256 beside it.

    Args:
        fp16: FP16 weights, input, activations and logits; otherwise float32 throughout.
        opset: ONNX opset, at least 17.
        input_size: square side S the graph is traced at (the batch axis stays dynamic);
            defaults to the size the model was trained at.

    Returns:
        ``path``; :func:`read_export_info` gives its sha256 and what it holds.

    Raises:
        EngineError: the opset is too old or the exporter fails.
    """
    if opset < MIN_OPSET:
        raise EngineError(f"ONNX opset {opset} is too old; use {MIN_OPSET} or newer")
    size = input_size or model.input_size
    # Export a copy on the CPU so the caller's network keeps its device and dtype.
    network = copy.deepcopy(model.network).eval().cpu()
    dtype = torch.float16 if fp16 else torch.float32
    network = network.to(dtype)
    example = torch.zeros((1, 1, size, size), dtype=dtype)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter announces its own deprecation on every call.
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        try:
            torch.onnx.export(
                network,
                (example,),
                buffer,
                dynamo=False,
                opset_version=opset,
                do_constant_folding=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            )
        except Exception as ex:  # the exporter raises many types for one failure: cannot export
            raise EngineError(f"ONNX export of {model.weights.name} failed: {ex}") from ex
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, buffer.getvalue())
    info = ExportInfo(
        sha256=sha256_of(path),
        model=model.weights.name,
        random_weights=model.random_weights,
        input_size=size,
        precision="fp16" if fp16 else "fp32",
        opset=opset,
        torch_version=torch.__version__,
    )
    atomic_write(info_path(path), json.dumps(asdict(info), indent=2).encode())
    log.info("exported %s (%s, %dx%d) to %s, sha256 %s", info.model, info.precision, size, size, path, info.sha256[:12])
    return path


def read_export_info(path: Path) -> ExportInfo:
    """The record written by :func:`export_onnx`, checked against the file's current sha256."""
    sidecar = info_path(path)
    try:
        info = ExportInfo(**json.loads(sidecar.read_text()))
    except (OSError, ValueError, TypeError) as ex:
        raise EngineError(f"{path} has no readable export record {sidecar.name}; export it again") from ex
    actual = sha256_of(path)
    if actual != info.sha256:
        raise EngineError(f"{path} changed since export (sha256 {actual[:12]}..., recorded {info.sha256[:12]}...)")
    return info

