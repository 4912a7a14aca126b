"""Engines: ONNX export parity (onnxruntime, CPU), plan cache key and verification, profiles, CPU engine, doctor.

TensorRT tests skip without the tensorrt package and GPU tests without CUDA;
everything else runs on the CPU in seconds (small inputs, batch 2).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from tests.conftest import media
from vidcolor.color.decoding import annealed_mean, probabilities
from vidcolor.color.lab import l_from_luma
from vidcolor.engines import tensorrt_engine as trt_engine
from vidcolor.engines.doctor import engine_doctor
from vidcolor.engines.onnx_export import export_onnx, read_export_info
from vidcolor.engines.profiles import (
    EngineProfile,
    find_profile,
    list_profiles,
    load_profile,
    matching_profile,
)
from vidcolor.engines.select import choose_engine
from vidcolor.engines.tensorrt_engine import (
    PlanKey,
    plan_path,
    read_verified_plan,
    write_plan,
)
from vidcolor.engines.torch_engine import TorchEngine
from vidcolor.errors import EngineError, UsageError
from vidcolor.media import FrameReader, probe
from vidcolor.models import get_weights, load_model
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.predict import predict_ab, render_plan

SIZE = 64
MODELS = ("eccv16", "lite")
gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module", params=MODELS)
def model(request: pytest.FixtureRequest):
    return load_model(request.param, random_seed=0)


@pytest.fixture(scope="module")
def l_batch() -> torch.Tensor:
    torch.manual_seed(1)
    # A smooth gradient plus noise: both flat and textured areas, in the (L-50)/100 range.
    ramp = torch.linspace(-0.5, 0.5, SIZE).expand(SIZE, SIZE)
    return (ramp + 0.1 * torch.randn(2, 1, SIZE, SIZE)).clamp(-0.5, 0.5)


def _run_onnx(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_fp32_export_matches_torch(model, l_batch, tmp_path):
    path = export_onnx(model, tmp_path / "m.onnx", fp16=False, input_size=SIZE)
    with torch.inference_mode():
        ref = model.network(l_batch).numpy()
    out = _run_onnx(path, l_batch.numpy())
    assert out.dtype == np.float32 and out.shape == (2, 313, SIZE // 4, SIZE // 4)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5 * float(np.abs(ref).max()) + 1e-6)
    # Traced at batch 1, run at 2 and 3: the batch axis is dynamic.
    assert _run_onnx(path, np.concatenate([l_batch.numpy(), l_batch.numpy()[:1]])).shape[0] == 3


def test_fp16_export_types_and_decoded_ab(model, l_batch, tmp_path):
    path = export_onnx(model, tmp_path / "m16.onnx", fp16=True, input_size=SIZE)
    graph = onnx.load(str(path)).graph
    f16 = onnx.TensorProto.FLOAT16
    assert graph.input[0].type.tensor_type.elem_type == f16
    assert graph.output[0].type.tensor_type.elem_type == f16
    float_inits = [i for i in graph.initializer if i.data_type in (onnx.TensorProto.FLOAT, f16)]
    assert float_inits and all(i.data_type == f16 for i in float_inits), "strong typing needs FP16 weights in the graph"

    with torch.inference_mode():
        ref = model.network(l_batch)
    ref_ab = annealed_mean(probabilities(ref))
    logits16 = torch.from_numpy(_run_onnx(path, l_batch.numpy().astype(np.float16)))
    # Random weights give low-contrast logits, so decoded ab barely varies; check the logits too.
    assert (logits16.float() - ref).abs().max() <= 1e-2 * ref.abs().max()
    ab = annealed_mean(probabilities(logits16))
    err = (ab - ref_ab).abs().flatten()
    assert err.mean() <= 1.0
    assert torch.quantile(err, 0.99) <= 5.0


def test_export_records_sha256_and_detects_changes(tmp_path):
    model = load_model("lite", random_seed=0)
    path = export_onnx(model, tmp_path / "lite.onnx", fp16=True, input_size=SIZE)
    info = read_export_info(path)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (info.model, info.precision, info.input_size, info.opset, info.random_weights) == (get_weights("lite").name, "fp16", SIZE, 17, True)
    # Reproducible bytes are what let the sha256 key the plan cache.
    again = export_onnx(model, tmp_path / "again.onnx", fp16=True, input_size=SIZE)
    assert read_export_info(again).sha256 == info.sha256
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(EngineError, match="changed since export"):
        read_export_info(path)
    with pytest.raises(EngineError, match="opset 13"):
        export_onnx(model, tmp_path / "old.onnx", fp16=False, opset=13)


# --- plan cache -----------------------------------------------------------------------------

PROFILE = EngineProfile("eccv16", 256, 1, 8, 16, "fp16")
KEY = PlanKey.for_profile(PROFILE, onnx_sha256="ab" * 32, tensorrt_version="10.9.0", gpu_name="NVIDIA H100 80GB HBM3", compute_capability="9.0")


@pytest.mark.parametrize(
    "change",
    [
        {"onnx_sha256": "cd" * 32},
        {"tensorrt_version": "10.9.1"},
        {"gpu_name": "NVIDIA H200"},
        {"compute_capability": "8.9"},
        {"input_size": 224},
        {"min_batch": 2},
        {"opt_batch": 4},
        {"max_batch": 32},
        {"precision": "fp32"},
    ],
)
def test_plan_key_changes_with_every_component(change):
    changed = dataclasses.replace(KEY, **change)
    assert changed.digest() != KEY.digest()
    assert plan_path(Path("c"), PROFILE, changed) != plan_path(Path("c"), PROFILE, KEY)


def test_plan_key_is_stable():
    assert dataclasses.replace(KEY).digest() == KEY.digest()


def test_verified_plan_round_trip(tmp_path):
    path = plan_path(tmp_path, PROFILE, KEY)
    write_plan(path, b"plan bytes", KEY)
    assert read_verified_plan(path, KEY) == b"plan bytes"


def test_tampered_plan_is_refused(tmp_path):
    path = plan_path(tmp_path, PROFILE, KEY)
    write_plan(path, b"plan bytes", KEY)
    path.write_bytes(b"evil bytes")
    with pytest.raises(EngineError, match="sha256"):
        read_verified_plan(path, KEY)


def test_plan_for_another_key_is_refused(tmp_path):
    path = plan_path(tmp_path, PROFILE, KEY)
    write_plan(path, b"plan bytes", KEY)
    with pytest.raises(EngineError, match="built for another"):
        read_verified_plan(path, dataclasses.replace(KEY, gpu_name="NVIDIA A100"))


def test_plan_without_record_is_refused(tmp_path):
    path = tmp_path / "user-supplied.plan"
    path.write_bytes(b"plan bytes")
    with pytest.raises(EngineError, match="refusing plan"):
        read_verified_plan(path, KEY)


def test_plan_with_edited_record_is_refused(tmp_path):
    path = plan_path(tmp_path, PROFILE, KEY)
    write_plan(path, b"plan bytes", KEY)
    record = trt_engine.record_path(path)
    data = json.loads(record.read_text())
    data["plan_sha256"] = "0" * 64
    record.write_text(json.dumps(data))
    with pytest.raises(EngineError, match="sha256"):
        read_verified_plan(path, KEY)


@pytest.mark.skipif(not hasattr(__import__("os"), "getuid"), reason="POSIX permissions")
def test_group_writable_plan_is_refused(tmp_path):
    path = plan_path(tmp_path, PROFILE, KEY)
    write_plan(path, b"plan bytes", KEY)
    path.chmod(0o664)
    with pytest.raises(EngineError, match="another user"):
        read_verified_plan(path, KEY)


def test_missing_tensorrt_is_one_line_engine_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # import now raises ImportError
    trt_engine._trt.cache_clear()
    try:
        with pytest.raises(EngineError, match="tensorrt is not installed") as info:
            trt_engine.tensorrt_version()
        assert "\n" not in str(info.value)
    finally:
        trt_engine._trt.cache_clear()


def test_timing_cache_name_is_per_gpu_and_version(tmp_path):
    a = trt_engine.timing_cache_path(tmp_path, "NVIDIA H100 80GB HBM3", "9.0", "10.9.0")
    assert a.name == "timing-nvidia_h100_80gb_hbm3-sm90-trt10.9.0.timing"
    assert a != trt_engine.timing_cache_path(tmp_path, "NVIDIA H100 80GB HBM3", "9.0", "10.9.1")


# --- profiles -------------------------------------------------------------------------------


def test_repository_profiles_load():
    by_name = {p.name: p for p in list_profiles()}
    assert {"eccv16-256", "lite-224"} <= set(by_name)
    assert by_name["eccv16-256"].model == "eccv16" and by_name["eccv16-256"].input_size == 256
    assert by_name["lite-224"].input_size == 224
    profile, path = find_profile("eccv16-256")
    assert path.name == "eccv16-256.toml" and profile == by_name["eccv16-256"]
    assert matching_profile("eccv16", 256, 16, "fp16") == by_name["eccv16-256"]
    assert matching_profile("eccv16", 256, 10_000, "fp16") is None


def test_bad_profiles_are_usage_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "eccv16"\ninput_size = 256\n[batch]\nmin = 4\nopt = 2\nmax = 8\n')
    with pytest.raises(UsageError, match="min <= opt <= max"):
        load_profile(bad)
    bad.write_text('model = "eccv16"\n')
    with pytest.raises(UsageError, match="needs model, input_size"):
        load_profile(bad)
    with pytest.raises(UsageError, match="no engine profile"):
        find_profile("nonexistent-1")
    assert EngineProfile.for_batch("lite", 224, 16) == EngineProfile("lite", 224, 1, 8, 16, "fp16")


# --- PyTorch engine, selection, doctor ------------------------------------------------------


def test_cpu_engine_is_float32_eager(l_batch):
    model = load_model("lite", random_seed=0)
    engine = TorchEngine(model.network, device=torch.device("cpu"), input_size=SIZE, max_batch=2)
    out = engine(l_batch)
    with torch.inference_mode():
        ref = model.network(l_batch)
    assert engine.name == "torch-cpu-fp32" and out.dtype == torch.float32
    assert torch.equal(out, ref)
    assert engine.describe().startswith("torch-cpu-fp32 on cpu")


def test_choose_engine_on_cpu():
    name, dev, reason = choose_engine("cpu", "auto")
    assert (name, dev.type) == ("torch-cpu-fp32", "cpu") and reason
    with pytest.raises(UsageError):
        choose_engine("cpu", "tensorrt")
    with pytest.raises(UsageError):
        choose_engine("cpu", "onnx")


def test_doctor_reports_structured_facts():
    report = engine_doctor(device="cpu").as_dict()
    assert report["engine"] == "torch-cpu-fp32"
    assert report["onnxruntime_version"] == ort.__version__
    assert "CPUExecutionProvider" in report["onnxruntime_providers"]
    assert set(report["engines"]) == {"tensorrt", "torch-cuda-fp16", "torch-cpu-fp32"}
    json.dumps(report)


# --- GPU (skipped without CUDA) -------------------------------------------------------------


@pytest.mark.gpu
@gpu
@pytest.mark.parametrize("graphs", [True, False])
def test_cuda_engine_matches_float32(graphs, l_batch):
    model = load_model("eccv16", random_seed=0)
    with torch.inference_mode():
        ref_ab = annealed_mean(probabilities(model.network(l_batch)))
    engine = TorchEngine(model.network, device=torch.device("cuda"), input_size=SIZE, max_batch=4, cuda_graphs=graphs)
    # CPU input goes through the pinned double buffer; 3 frames pads up to a graph of 4.
    for batch in (l_batch, torch.cat([l_batch, l_batch[:1]]), l_batch[:1]):
        out = engine(batch)
        assert out.dtype == torch.float16 and out.shape[0] == batch.shape[0]
    ab = annealed_mean(probabilities(engine(l_batch))).cpu()
    err = (ab - ref_ab).abs().flatten()
    assert err.mean() <= 1.0 and torch.quantile(err, 0.99) <= 5.0
    # Results handed out earlier are copies, not views of the graph's static output.
    first = engine(l_batch)
    engine(l_batch.flip(0))
    torch.testing.assert_close(first, engine(l_batch))


def _clip_l(name: str, frames: int = 8, every: int = 10) -> torch.Tensor:
    """L* (frames,1,H,W) of every ``every``-th frame of a shared clip."""
    info = probe(media(name)).video
    lumas = [f.luma.copy() for i, f in enumerate(FrameReader(media(name), info)) if i % every == 0][:frames]
    return l_from_luma(torch.from_numpy(np.stack(lumas)).unsqueeze(1), info.chroma_spec)


@pytest.mark.gpu
@gpu
@pytest.mark.parametrize("clip", ["bw/moviepy_chaplin.mp4", "bw/hackverify_steamboat_willie_1928.mp4"])
@pytest.mark.parametrize("name,seed", [("eccv16", 0), ("lite", None)])
def test_cuda_engine_matches_float32_on_shared_clips(clip, name, seed):
    """Issue 5's parity bound on real footage at the models' own input sizes, random ECCV16 and shipped lite."""
    l_full = _clip_l(clip)
    model = load_model(name, random_seed=seed)
    size = model.weights.input_size
    cpu = TorchEngine(copy.deepcopy(model.network), device=torch.device("cpu"), input_size=size, max_batch=8)
    # the shape and decoding the product uses for this clip: aspect-true where the model is
    plan = render_plan(model, cpu, ColorizeOptions(), *l_full.shape[-2:])
    with torch.inference_mode():
        ref_ab = predict_ab(cpu, l_full, plan)
    cuda = TorchEngine(model.network, device=torch.device("cuda"), input_size=size, max_batch=8)
    with torch.inference_mode():
        ab = predict_ab(cuda, l_full.cuda(), plan).cpu()
    err = (ab - ref_ab).abs().flatten()
    assert err.mean() <= 1.0 and torch.quantile(err, 0.99) <= 5.0


@pytest.mark.gpu
@gpu
def test_cuda_batch_that_does_not_fit_runs_in_chunks(tmp_path, caplog):
    """A real CUDA out-of-memory: the card is filled until 2 GiB are left, as another process would,
    and ECCV16 gets chaplin (241 frames) as one batch of 256 at 256x256, whose conv1 output alone
    is 2 GiB. The run halves until it fits, says so once, and writes every frame; its colour is
    the colour of a run with memory to spare."""
    import av

    from vidcolor import colorize

    src = media("bw/moviepy_chaplin.mp4")
    options = ColorizeOptions(model="eccv16", random_seed=0, device="cuda", batch_size=256)
    colorize(src, tmp_path / "roomy.mp4", options)
    torch.cuda.empty_cache()  # what earlier runs left cached would otherwise stay usable
    free, _ = torch.cuda.mem_get_info()
    hog = torch.empty(free - 2 * 2**30, dtype=torch.uint8, device="cuda")
    try:
        with caplog.at_level("WARNING", logger="vidcolor"):
            result = colorize(src, tmp_path / "tight.mp4", options)
    finally:
        del hog
        torch.cuda.empty_cache()
    assert result.frames == 241
    assert len([r for r in caplog.records if "memory" in r.getMessage()]) == 1

    def chroma(path):
        with av.open(str(path)) as c:
            return np.stack([np.concatenate([np.asarray(p, dtype=np.float32).ravel() for p in f.planes[1:]])
                             for f in c.decode(video=0)])

    roomy, tight = chroma(tmp_path / "roomy.mp4"), chroma(tmp_path / "tight.mp4")
    assert roomy.shape == tight.shape and np.abs(roomy - tight).mean() < 1.0  # FP16 kernels differ by batch size


@pytest.mark.gpu
@pytest.mark.tensorrt
@gpu
def test_tensorrt_engine_matches_float32(l_batch, tmp_path):
    pytest.importorskip("tensorrt")
    model = load_model("lite", random_seed=0)
    model.weights = dataclasses.replace(model.weights, input_size=SIZE)
    with torch.inference_mode():
        ref_ab = annealed_mean(probabilities(model.network(l_batch)))
    engine = trt_engine.TensorRTEngine.for_model(model, device="cuda", max_batch=4, cache=tmp_path)
    ab = annealed_mean(probabilities(engine(l_batch.cuda()))).cpu()
    err = (ab - ref_ab).abs().flatten()
    assert err.mean() <= 1.0 and torch.quantile(err, 0.99) <= 5.0
    assert list(tmp_path.glob("*.plan")) and list(tmp_path.glob("*.timing"))
    # Second open: the verified cached plan is loaded, nothing rebuilt.
    plans = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.plan")}
    trt_engine.TensorRTEngine.for_model(model, device="cuda", max_batch=4, cache=tmp_path)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.plan")} == plans
