"""TensorRT back-end: a strongly typed plan built from the ONNX export, cached and verified.

A plan is machine code for one GPU and one TensorRT version, so it is cached
under a key of (ONNX sha256, TensorRT version, GPU name, compute capability,
batch profile) and rebuilt whenever any part changes. A plan is also executable
code: the tool only deserialises plans it built itself, which it recognises by
a JSON record written beside each plan holding the key and the plan's sha256.
Both are checked, on the very bytes handed to TensorRT, before deserialising.

``tensorrt`` is imported inside functions so this module (and the cache logic
tested without a GPU) imports on any machine.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from vidcolor.engines._files import atomic_write
from vidcolor.engines.onnx_export import export_onnx
from vidcolor.engines.profiles import PROFILES_DIR, EngineProfile, matching_profile
from vidcolor.errors import EngineError
from vidcolor.models.loading import LoadedModel
from vidcolor.models.weights_cache import cache_dir

log = logging.getLogger(__name__)

RECORD_FORMAT = 1
INSTALL_HINT = "install it with: pip install 'vidcolor[tensorrt]' (needs an NVIDIA GPU and driver)"


def plan_cache_dir() -> Path:
    """Where plans built on demand are cached: ``<vidcolor cache>/engines``."""
    return cache_dir() / "engines"


def profile_cache_dir() -> Path:
    """Where plans built ahead of time from the repository's profiles go (git-ignored)."""
    return PROFILES_DIR / "cache"


@dataclass(frozen=True)
class PlanKey:
    """Everything a plan depends on; any change means a rebuild."""

    onnx_sha256: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: str
    input_size: int
    min_batch: int
    opt_batch: int
    max_batch: int
    precision: str

    @classmethod
    def for_profile(cls, profile: EngineProfile, *, onnx_sha256: str, tensorrt_version: str, gpu_name: str, compute_capability: str) -> PlanKey:
        return cls(
            onnx_sha256=onnx_sha256,
            tensorrt_version=tensorrt_version,
            gpu_name=gpu_name,
            compute_capability=compute_capability,
            input_size=profile.input_size,
            min_batch=profile.min_batch,
            opt_batch=profile.opt_batch,
            max_batch=profile.max_batch,
            precision=profile.precision,
        )

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def plan_path(cache: Path, profile: EngineProfile, key: PlanKey) -> Path:
    return cache / f"{profile.stem}-{key.digest()[:16]}.plan"


def record_path(plan: Path) -> Path:
    return plan.with_name(plan.name + ".json")


def write_plan(path: Path, plan: bytes, key: PlanKey) -> None:
    """Store a plan this process built, then its record; a crash in between leaves a plan that is refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, plan)
    record = {
        "format": RECORD_FORMAT,
        "key": asdict(key),
        "key_digest": key.digest(),
        "plan_sha256": hashlib.sha256(plan).hexdigest(),
        "plan_size": len(plan),
    }
    atomic_write(record_path(path), json.dumps(record, indent=2, sort_keys=True).encode())


def read_verified_plan(path: Path, key: PlanKey) -> bytes:
    """The plan's bytes, only if its record matches ``key`` and the bytes hash to the recorded sha256.

    Raises:
        EngineError: no record, another key, a changed plan, or files another user could have written.
    """
    record_file = record_path(path)
    for f in (path, record_file):
        _check_owned(f)
    try:
        record = json.loads(record_file.read_text())
        recorded_key = PlanKey(**record["key"])
        recorded_sha = str(record["plan_sha256"])
    except (OSError, ValueError, TypeError, KeyError) as ex:
        raise EngineError(f"refusing plan {path.name}: its record {record_file.name} is unreadable ({ex})") from ex
    if record.get("format") != RECORD_FORMAT or recorded_key != key:
        raise EngineError(f"refusing plan {path.name}: it was built for another model, GPU, TensorRT or profile")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != recorded_sha:
        raise EngineError(f"refusing plan {path.name}: sha256 {actual[:12]}... differs from its record {recorded_sha[:12]}...")
    return data


def _check_owned(path: Path) -> None:
    # The record proves nothing if someone else can rewrite plan and record together.
    try:
        st = path.stat()
    except OSError as ex:
        raise EngineError(f"refusing plan: {path} is missing ({ex.strerror})") from ex
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        raise EngineError(f"refusing plan: {path} is writable by or owned by another user")


@functools.cache
def _trt() -> Any:
    try:
        import tensorrt
    except ImportError as ex:
        raise EngineError(f"tensorrt is not installed; {INSTALL_HINT}") from ex
    return tensorrt


@functools.cache
def _logger() -> Any:
    """One ILogger for every builder and runtime, forwarding to Python logging."""
    trt = _trt()
    sev = trt.ILogger.Severity
    levels = {
        sev.INTERNAL_ERROR: logging.ERROR,
        sev.ERROR: logging.ERROR,
        sev.WARNING: logging.WARNING,
        sev.INFO: logging.DEBUG,  # TensorRT's INFO is per-layer chatter
    }

    class _LogBridge(trt.ILogger):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            level = levels.get(severity)
            if level is not None:
                log.log(level, "TensorRT: %s", msg)

    return _LogBridge()


def tensorrt_version() -> str:
    return str(_trt().__version__)


def cuda_device(device: torch.device | str) -> torch.device:
    """``device`` with an explicit index, checked to be a visible CUDA GPU."""
    dev = torch.device(device)
    if dev.type != "cuda" or not torch.cuda.is_available():
        raise EngineError(f"TensorRT needs a CUDA GPU, got device {dev}")
    return torch.device("cuda", dev.index if dev.index is not None else torch.cuda.current_device())


def gpu_identity(device: torch.device) -> tuple[str, str]:
    """(GPU name, compute capability as ``major.minor``)."""
    major, minor = torch.cuda.get_device_capability(device)
    return torch.cuda.get_device_name(device), f"{major}.{minor}"


def timing_cache_path(cache: Path, gpu_name: str, compute_capability: str, trt_version: str) -> Path:
    # Timings only transfer between identical GPUs and TensorRT versions; models share one cache.
    slug = re.sub(r"[^A-Za-z0-9]+", "_", gpu_name).strip("_").lower()
    return cache / f"timing-{slug}-sm{compute_capability.replace('.', '')}-trt{trt_version}.timing"


def _network_flags(trt: Any) -> int:
    # TensorRT 10 needs STRONGLY_TYPED to take precision from the ONNX types; 11.x is always
    # strongly typed and accepts (ignores) the flag, so it is set whenever it exists.
    flag = getattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED", None)
    return 0 if flag is None else 1 << int(flag)


def build_plan(onnx: bytes, profile: EngineProfile, *, timing_cache: Path) -> bytes:
    """Build a serialised plan on the current CUDA device from ONNX bytes, reading and updating ``timing_cache``.

    Raises:
        EngineError: TensorRT is missing, the ONNX does not parse, does not fit the profile, or the build fails.
    """
    trt = _trt()
    logger = _logger()
    builder = trt.Builder(logger)
    if builder is None:
        raise EngineError("TensorRT could not create a builder (is the CUDA driver working?)")
    network = builder.create_network(_network_flags(trt))
    if network is None:
        raise EngineError("TensorRT could not create a network definition")
    parser = trt.OnnxParser(network, logger)
    if parser is None:
        raise EngineError("TensorRT could not create an ONNX parser")
    if not parser.parse(onnx):
        errors = "; ".join(" ".join(str(parser.get_error(i)).split()) for i in range(parser.num_errors))
        raise EngineError(f"TensorRT cannot parse the ONNX export: {errors or 'no detail given'}")
    if network.num_inputs != 1 or network.num_outputs != 1:
        raise EngineError(f"expected one input and one output, the ONNX has {network.num_inputs} and {network.num_outputs}")
    net_input = network.get_input(0)
    size = profile.input_size
    if tuple(net_input.shape)[1:] != (1, size, size):
        raise EngineError(f"the ONNX input is {tuple(net_input.shape)}, the profile wants (batch, 1, {size}, {size})")

    config = builder.create_builder_config()
    if config is None:
        raise EngineError("TensorRT could not create a builder config")
    opt_profile = builder.create_optimization_profile()
    opt_profile.set_shape(
        net_input.name,
        (profile.min_batch, 1, size, size),
        (profile.opt_batch, 1, size, size),
        (profile.max_batch, 1, size, size),
    )
    if config.add_optimization_profile(opt_profile) < 0:
        raise EngineError(f"TensorRT rejected the batch profile {profile.min_batch}/{profile.opt_batch}/{profile.max_batch}")

    cache = _load_timing_cache(config, timing_cache)
    if not config.set_timing_cache(cache, False):
        raise EngineError(f"TensorRT rejected the timing cache {timing_cache}")

    log.info("building TensorRT plan %s (batch %d..%d, opt %d); this takes minutes the first time",
             profile.stem, profile.min_batch, profile.max_batch, profile.opt_batch)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EngineError("TensorRT failed to build the plan; run with --verbose for TensorRT's log")
    plan = bytes(serialized)

    updated = config.get_timing_cache()
    if updated is not None:
        timing_cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(timing_cache, bytes(updated.serialize()))
    return plan


def _load_timing_cache(config: Any, path: Path) -> Any:
    data = path.read_bytes() if path.is_file() else b""
    cache = config.create_timing_cache(data)
    if cache is None and data:
        # A damaged or foreign cache only costs build time: start afresh rather than fail.
        log.warning("ignoring unusable TensorRT timing cache %s", path)
        cache = config.create_timing_cache(b"")
    if cache is None:
        raise EngineError("TensorRT could not create a timing cache")
    return cache


@dataclass(frozen=True)
class CachedPlan:
    plan: bytes
    key: PlanKey
    path: Path
    built: bool


def ensure_plan(
    model: LoadedModel,
    profile: EngineProfile,
    *,
    device: torch.device,
    cache: Path,
    also_search: Sequence[Path] = (),
    rebuild: bool = False,
) -> CachedPlan:
    """A verified plan for ``model`` under ``profile`` on ``device``: from ``cache`` (or ``also_search``), else built into ``cache``.

    The ONNX export is redone every time (seconds) because its sha256 is what
    ties a cached plan to the weights actually loaded.
    """
    trt_version = tensorrt_version()
    dev = cuda_device(device)
    gpu_name, capability = gpu_identity(dev)
    onnx_file = export_onnx(
        model, cache / "onnx" / f"{profile.stem}.onnx", fp16=profile.precision == "fp16", input_size=profile.input_size
    )
    onnx = onnx_file.read_bytes()
    key = PlanKey.for_profile(
        profile,
        onnx_sha256=hashlib.sha256(onnx).hexdigest(),
        tensorrt_version=trt_version,
        gpu_name=gpu_name,
        compute_capability=capability,
    )
    if not rebuild:
        for folder in (cache, *also_search):
            candidate = plan_path(folder, profile, key)
            if not candidate.is_file():
                continue
            try:
                plan = read_verified_plan(candidate, key)
            except EngineError as ex:
                log.warning("%s; rebuilding", ex)
                continue
            log.info("using cached TensorRT plan %s", candidate)
            return CachedPlan(plan, key, candidate, built=False)
    with torch.cuda.device(dev):
        plan = build_plan(onnx, profile, timing_cache=timing_cache_path(cache, gpu_name, capability, trt_version))
    target = plan_path(cache, profile, key)
    write_plan(target, plan, key)
    log.info("saved TensorRT plan %s (%.1f MB)", target, len(plan) / 1e6)
    return CachedPlan(plan, key, target, built=True)


_TORCH_DTYPES = {"FLOAT": torch.float32, "HALF": torch.float16, "BF16": torch.bfloat16}


class TensorRTEngine:
    """Runs a plan on torch CUDA tensors on torch's current stream, so it orders with the code around it."""

    # the plan's profile fixes one square input side; the pipeline squashes pictures to it
    square_only = True

    def __init__(self, plan: bytes, *, device: torch.device, profile: EngineProfile, label: str) -> None:
        """Deserialise ``plan``, which the caller must have verified with :func:`read_verified_plan` or just built."""
        trt = _trt()
        self.device = cuda_device(device)
        self.input_size = profile.input_size
        self.max_batch = profile.max_batch
        self.name = f"tensorrt-{profile.precision}"
        self.label = label
        with torch.cuda.device(self.device):
            self._runtime = trt.Runtime(_logger())  # must outlive the engine
            if self._runtime is None:
                raise EngineError("TensorRT could not create a runtime")
            self._engine = self._runtime.deserialize_cuda_engine(plan)
            if self._engine is None:
                raise EngineError("TensorRT could not deserialise the plan (built by another TensorRT version?)")
            self._context = self._engine.create_execution_context()
            if self._context is None:
                raise EngineError("TensorRT could not create an execution context (out of GPU memory?)")
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        inputs = [n for n in names if self._engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if self._engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        if len(inputs) != 1 or len(outputs) != 1:
            raise EngineError(f"the plan has inputs {inputs} and outputs {outputs}; expected one of each")
        self._input, self._output = inputs[0], outputs[0]
        self._input_dtype = self._torch_dtype(self._input)
        self._output_dtype = self._torch_dtype(self._output)

    def _torch_dtype(self, tensor: str) -> torch.dtype:
        dtype = self._engine.get_tensor_dtype(tensor)
        try:
            return _TORCH_DTYPES[dtype.name]
        except KeyError:
            raise EngineError(f"plan tensor {tensor!r} has unsupported type {dtype.name}") from None

    @classmethod
    def for_model(
        cls,
        model: LoadedModel,
        *,
        device: torch.device | str,
        max_batch: int = 16,
        precision: str = "fp16",
        cache: Path | None = None,
    ) -> TensorRTEngine:
        """Load (or build, minutes the first time) a plan for ``model`` covering batches 1..max_batch.

        A repository profile covering the request (same model, size and precision,
        a larger batch range) is preferred so plans built ahead of time by
        ``vidcolor engine build`` are used.
        """
        arch = model.weights.arch
        profile = matching_profile(arch, model.input_size, max_batch, precision) or EngineProfile.for_batch(
            arch, model.input_size, max_batch, precision
        )
        also = (profile_cache_dir(),) if profile.name else ()
        cached = ensure_plan(model, profile, device=torch.device(device), cache=cache or plan_cache_dir(), also_search=also)
        return cls(cached.plan, device=torch.device(device), profile=profile, label=model.label)

    def __call__(self, l_batch: torch.Tensor) -> torch.Tensor:
        if l_batch.shape[0] > self.max_batch:
            return torch.cat([self(chunk) for chunk in l_batch.split(self.max_batch)])
        if tuple(l_batch.shape[1:]) != (1, self.input_size, self.input_size):
            raise EngineError(f"the plan takes (batch, 1, {self.input_size}, {self.input_size}), got {tuple(l_batch.shape)}")
        x = l_batch.to(self.device, dtype=self._input_dtype, non_blocking=True).contiguous()
        ctx = self._context
        if not ctx.set_input_shape(self._input, tuple(x.shape)):
            raise EngineError(f"batch of {x.shape[0]} is outside the plan's profile 1..{self.max_batch}")
        out = torch.empty(tuple(ctx.get_tensor_shape(self._output)), dtype=self._output_dtype, device=self.device)
        if not ctx.set_tensor_address(self._input, x.data_ptr()) or not ctx.set_tensor_address(self._output, out.data_ptr()):
            raise EngineError("TensorRT rejected a tensor address")
        # Enqueued on torch's stream: x stays valid (the caching allocator is stream-ordered)
        # and whatever the caller does with `out` next runs after the plan.
        if not ctx.execute_async_v3(torch.cuda.current_stream(self.device).cuda_stream):
            raise EngineError("TensorRT failed to enqueue inference")
        return out

    def describe(self) -> str:
        gpu = torch.cuda.get_device_name(self.device)
        return f"{self.name} on {self.device} ({gpu}), TensorRT {tensorrt_version()}, batch 1..{self.max_batch}, {self.label}"


def build_from_profile(
    profile: EngineProfile,
    *,
    device: str = "cuda",
    cache: Path | None = None,
    weights_path: Path | None = None,
    rebuild: bool = False,
) -> CachedPlan:
    """Build (or find already built) the plan for a repository profile, ahead of time."""
    from vidcolor.models.loading import load_model

    _trt()  # fail on a missing tensorrt before loading weights
    model = load_model(profile.model, weights_path=weights_path)
    return ensure_plan(model, profile, device=torch.device(device), cache=cache or profile_cache_dir(), rebuild=rebuild)
