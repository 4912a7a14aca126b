"""Grow the colour-photo training data from the repositories in shared/datasets/SOURCES.txt.

For every set listed there (or those named with --sets) whose repository has been fetched
into --mirrors (owner+name/repo[/.git]), the images under the listed paths at the listed
commit are streamed out of git (``git cat-file --batch``), decoded (OpenCV, Pillow as a
fallback), and kept when the short side is >= 128 and they are not near-grey (mean
|Cb-128|+|Cr-128| below 2.0, 4.0 for human_faces and utkface_crop). Kept images go to
--work/images/<set>/ (short side above 256 resized to 256, JPEG q90, like [shrunk] sets),
with a manifest; a set whose manifest exists is not extracted again.

Then all sets are deduplicated together (md5 of the source bytes, exact 64-bit dHash),
and against every image in shared/datasets/val and train: exact dHash, plus dHash within
--near-val / --near-train bits (train/val hold re-encoded 160 px copies, so an exact hash
misses about a quarter of them), plus, for val only, a 32x32 grey thumbnail check on
anything within 16 bits (neighbouring video frames). What is left is shuffled with --seed and written as shard packs
(vidcolor.train.pack.write_pack, short side 112, WebP q70), each at most --max-mb MB:
--work/shard1_112.npz, shard2_112.npz, ..., each with a .tsv naming its images in order.

Run from the repository root, on one core:

    OMP_NUM_THREADS=1 nice -n 10 /work/venv/bin/python benchmarks/grow_training_set.py \
        --mirrors /work/.mirror --work /work/data/grown
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import re
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vidcolor.train.data import IMAGE_SUFFIXES, list_images
from vidcolor.train.pack import write_pack

log = logging.getLogger("grow_training_set")

DATASETS = REPO.parent / "shared" / "datasets"
GREY_THRESHOLD = {"human_faces": 4.0, "utkface_crop": 4.0}
GREY_DEFAULT = 2.0
MIN_SIDE = 128
SHRINK_SIDE = 256
MANIFEST = "manifest.json"


@dataclass
class Source:
    """One line of SOURCES.txt: a set, its repository, commit and path prefixes."""

    name: str
    count: int
    repo: str
    commit: str
    prefixes: list[str]


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside braces."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _expand(pattern: str) -> list[str]:
    """Shell-style brace expansion: part_{A,B}/x -> part_A/x, part_B/x."""
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    out = []
    for alt in m.group(1).split(","):
        out += _expand(pattern[: m.start()] + alt + pattern[m.end() :])
    return out


def parse_sources(path: Path) -> list[Source]:
    """The set lines of SOURCES.txt."""
    line_re = re.compile(r"^(\w+)\s+(\d+)\s+(\S+/\S+)\s+@\s+([0-9a-f]{7,40})\s+:\s+(.*)$")
    sources = []
    for line in path.read_text().splitlines():
        m = line_re.match(line.strip())
        if not m:
            continue
        spec = re.split(r"\s+[(\[]", m.group(5), maxsplit=1)[0]
        prefixes = []
        for part in _split_top(spec):
            for p in _expand(part):
                p = p.split("<", 1)[0]  # train/,val/<wnid>/ -> val/
                prefixes.append(p if p.endswith("/") else p + "/")
        sources.append(Source(m.group(1), int(m.group(2)), m.group(3), m.group(4), prefixes))
    return sources


def git_dir(mirrors: Path, repo: str) -> Path | None:
    base = mirrors / repo.replace("/", "+") / "repo"
    if (base / ".git" / "HEAD").is_file():
        return base / ".git"
    if (base / "HEAD").is_file():
        return base
    return None


def git(gdir: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={gdir}", *args], check=True, capture_output=True,
                          text=True).stdout


def resolve_commit(gdir: Path, short: str) -> tuple[str, bool]:
    """The full commit for ``short``; the newest (HEAD) when it is absent, with False."""
    try:
        return git(gdir, "rev-parse", "--verify", "-q", f"{short}^{{commit}}").strip(), True
    except subprocess.CalledProcessError:
        return git(gdir, "rev-parse", "HEAD").strip(), False


def iter_blobs(gdir: Path, shas: list[str]):
    """(sha, bytes or None if missing) for each sha, streamed through one ``git cat-file --batch``."""
    proc = subprocess.Popen(["git", f"--git-dir={gdir}", "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdin and proc.stdout

    def feed() -> None:
        for sha in shas:
            proc.stdin.write(f"{sha}\n".encode())
        proc.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    for sha in shas:
        header = proc.stdout.readline().decode().split()
        if len(header) < 3 or header[1] == "missing":
            yield sha, None
            continue
        size = int(header[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)
        yield sha, data
    proc.wait()


def decode(data: bytes) -> np.ndarray | None:
    """BGR uint8, or None when neither OpenCV nor Pillow can decode it."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is not None:
        return bgr
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(im.convert("RGB"))
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    except Exception:  # noqa: BLE001 - any decoder failure means "undecodable"
        return None


def chroma(bgr: np.ndarray) -> float:
    """Mean |Cb-128| + mean |Cr-128| (on a copy at most 256 px on the short side)."""
    h, w = bgr.shape[:2]
    if min(h, w) > 256:
        s = 256 / min(h, w)
        bgr = cv2.resize(bgr, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    ycc = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    return float(np.abs(ycc[..., 1] - 128).mean() + np.abs(ycc[..., 2] - 128).mean())


def dhash(bgr: np.ndarray) -> int:
    """64-bit difference hash: grey 9x8 (area), each pixel brighter than its right neighbour."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, :-1] > small[:, 1:]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def extract_set(src: Source, gdir: Path, out_dir: Path) -> dict:
    """Extract, decode and filter one set into ``out_dir``; the manifest it writes (and returns)."""
    commit, exact = resolve_commit(gdir, src.commit)
    if not exact:
        log.warning("%s: commit %s absent in the mirror, using newest %s", src.name, src.commit, commit)
    rows = []
    for line in git(gdir, "ls-tree", "-r", commit).splitlines():
        meta, path = line.split("\t", 1)
        _, kind, sha = meta.split()
        if kind == "blob" and any(path.startswith(p) for p in src.prefixes) \
                and Path(path).suffix.lower() in IMAGE_SUFFIXES:
            rows.append((path, sha))
    log.info("%s: %d image files at %s under %s", src.name, len(rows), commit[:10], ",".join(src.prefixes))
    out_dir.mkdir(parents=True, exist_ok=True)
    threshold = GREY_THRESHOLD.get(src.name, GREY_DEFAULT)
    drops: Counter[str] = Counter()
    kept, seen_md5 = [], set()
    path_of = {}
    for path, sha in rows:
        path_of.setdefault(sha, []).append(path)
    for n, (sha, data) in enumerate(iter_blobs(gdir, list(path_of))):
        drops["md5_within_set"] += len(path_of[sha]) - 1  # the very same blob at other paths
        path = path_of[sha][0]
        if data is None:
            drops["missing_blob"] += 1
            continue
        md5 = hashlib.md5(data).hexdigest()
        if md5 in seen_md5:
            drops["md5_within_set"] += 1
            continue
        seen_md5.add(md5)
        bgr = decode(data)
        if bgr is None:
            drops["undecodable"] += 1
            continue
        h, w = bgr.shape[:2]
        if min(h, w) < MIN_SIDE:
            drops["small"] += 1
            continue
        c = chroma(bgr)
        if c < threshold:
            drops["grey"] += 1
            continue
        name = f"{n:06d}_{Path(path).stem[:60]}"
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        if min(h, w) > SHRINK_SIDE:
            s = SHRINK_SIDE / min(h, w)
            small = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (round(w * s), round(h * s)),
                               interpolation=cv2.INTER_LANCZOS4)
            name += ".jpg"
            ok, enc = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                                   [cv2.IMWRITE_JPEG_QUALITY, 90])
            if not ok:
                drops["undecodable"] += 1
                continue
            (out_dir / name).write_bytes(enc.tobytes())
        else:
            name += Path(path).suffix.lower()
            (out_dir / name).write_bytes(data)
        kept.append({"file": name, "path": path, "md5": md5, "dhash": f"{dhash(bgr):016x}",
                     "chroma": round(c, 2)})
        if (n + 1) % 2000 == 0:
            log.info("%s: %d/%d blobs, %d kept", src.name, n + 1, len(path_of), len(kept))
    manifest = {"set": src.name, "repo": src.repo, "commit": commit, "exact_commit": exact,
                "prefixes": src.prefixes, "files": len(rows), "drops": dict(drops), "kept": kept}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=0))
    log.info("%s: kept %d of %d files; dropped %s", src.name, len(kept), len(rows), dict(drops))
    return manifest


def thumb(bgr: np.ndarray) -> np.ndarray:
    """32x32 grey thumbnail (float32), to confirm a near-duplicate the dHash half-sees."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)


def reference_hashes(work: Path) -> dict[str, np.ndarray]:
    """dHash of every image in shared/datasets/{val,train}, and val thumbnails (cached in ``work``)."""
    cache = work / "reference_dhash.npz"
    keys = ("val", "train", "val_thumbs")
    if cache.is_file():
        data = np.load(cache)
        if all(k in data for k in keys):
            return {k: data[k] for k in keys}
    out: dict[str, np.ndarray] = {}
    thumbs = []
    for split in ("val", "train"):
        hashes = []
        for p in list_images(DATASETS / split):
            bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if bgr is None:
                log.warning("cannot read %s", p)
                continue
            hashes.append(dhash(bgr))
            if split == "val":
                thumbs.append(thumb(bgr))
        out[split] = np.array(hashes, dtype=np.uint64)
        log.info("reference %s: %d hashes", split, len(hashes))
    out["val_thumbs"] = np.stack(thumbs)
    work.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def min_distance(hashes: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """For each of ``hashes``, the least Hamming distance to a ``ref`` hash (64 when ``ref`` is empty)."""
    out = np.full(len(hashes), 64, np.int64)
    if not len(ref):
        return out
    for i in range(0, len(hashes), 512):
        out[i : i + 512] = np.bitwise_count(hashes[i : i + 512, None] ^ ref[None, :]).min(axis=1)
    return out


def select(manifests: list[dict], refs: dict[str, np.ndarray], images: Path, near_val: int, near_train: int,
           thumb_val: float, stats: dict[str, Counter]) -> list[dict]:
    """Images new to train/val and to each other, in a fixed (set, file) order.

    Against val: dHash within ``near_val`` bits, or (up to 16 bits) a 32x32 grey thumbnail within
    ``thumb_val`` mean absolute difference of a val image's (e.g. the next frame of a val video frame).
    """
    rows = [dict(r, set=m["set"]) for m in manifests for r in m["kept"]]
    hashes = np.array([int(r["dhash"], 16) for r in rows], dtype=np.uint64)
    dist_v = min_distance(hashes, refs["val"])
    dist_t = min_distance(hashes, refs["train"])
    val_thumbs = refs["val_thumbs"]
    seen_md5: set[str] = set()
    seen_hash: set[int] = set()
    out = []
    for r, h, dv, dt in zip(rows, hashes.tolist(), dist_v.tolist(), dist_t.tolist()):
        s = stats[r["set"]]
        if dv == 0:
            s["val_dhash_exact"] += 1
        elif dv <= near_val:
            s["val_dhash_near"] += 1
        elif dv <= 16 and np.abs(val_thumbs - thumb(cv2.imread(str(images / r["set"] / r["file"])))).mean(
                axis=(1, 2)).min() < thumb_val:
            s["val_thumb_near"] += 1
        elif dt == 0:
            s["train_dhash_exact"] += 1
        elif dt <= near_train:
            s["train_dhash_near"] += 1
        elif r["md5"] in seen_md5:
            s["md5_cross_set"] += 1
        elif h in seen_hash:
            s["dhash_within_grown"] += 1
        else:
            seen_md5.add(r["md5"])
            seen_hash.add(h)
            out.append(r)
            s["new"] += 1
    return out


def _listing(chunk: list[dict]) -> str:
    return "".join(f"{i}\t{r['set']}\t{r['path']}\t{r['md5']}\t{r['dhash']}\n" for i, r in enumerate(chunk))


def _existing_shard(out: Path, listing: Path, rest: list[dict]) -> int:
    """How many images a shard written earlier holds when it is the start of ``rest``; else 0."""
    if not out.is_file() or not listing.is_file():
        return 0
    text = listing.read_text()
    n = text.count("\n")
    if not n or _listing(rest[:n]) != text:
        return 0
    with np.load(out) as data:
        return n if len(data["offsets"]) - 1 == n else 0


def write_shards(rows: list[dict], work: Path, images: Path, max_bytes: int, seed: int,
                 first_guess: int) -> list[tuple[Path, int, int]]:
    """Shuffle ``rows`` and write shard packs of at most ``max_bytes``; (file, images, bytes) each."""
    order = np.random.default_rng(seed).permutation(len(rows))
    rows = [rows[i] for i in order]
    shards, start, k = [], 0, 1
    per = first_guess
    while start < len(rows):
        out = work / f"shard{k}_112.npz"
        listing = work / f"shard{k}_112.tsv"
        count = _existing_shard(out, listing, rows[start:])
        if count:
            log.info("shard %d: up to date (%d images)", k, count)
        else:
            count = min(per, len(rows) - start)
        while _existing_shard(out, listing, rows[start:]) != count:
            chunk = rows[start : start + count]
            folder = work / "shards" / f"shard{k}"
            if folder.exists():
                for p in folder.iterdir():
                    p.unlink()
            folder.mkdir(parents=True, exist_ok=True)
            for i, r in enumerate(chunk):  # flat, named in shuffled order: the pack keeps that order
                src = images / r["set"] / r["file"]
                (folder / f"{i:06d}_{r['set']}_{r['file']}").symlink_to(src)
            tmp = work / f".shard{k}_112.tmp.npz"
            n = write_pack(folder, tmp, short_side=112, quality=70)
            assert n == count, (n, count)
            size = tmp.stat().st_size
            if size <= max_bytes:
                tmp.replace(out)
                listing.write_text(_listing(chunk))
                log.info("shard %d: %d images, %.1f MB", k, n, size / 1e6)
                break
            tmp.unlink()
            count = int(count * max_bytes / size * 0.98)
            log.info("shard %d: %.1f MB is over the limit, retrying with %d images", k, size / 1e6, count)
        size = out.stat().st_size
        shards.append((out, count, size))
        per = max(1, int(max_bytes * 0.985 / (size / count)))
        start += count
        k += 1
    for stale in sorted(work.glob("shard*_112.npz")):
        if stale not in [s[0] for s in shards]:
            log.warning("stale shard %s left from an earlier run (not part of this one)", stale)
    return shards


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", type=Path, default=DATASETS / "SOURCES.txt")
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--work", type=Path, default=Path("/work/data/grown"))
    ap.add_argument("--sets", default="", help="comma-separated set names (default: all fetched)")
    ap.add_argument("--near-val", type=int, default=6, help="dHash bits from a val image that still count as it")
    ap.add_argument("--near-train", type=int, default=4, help="the same for train images")
    ap.add_argument("--thumb-val", type=float, default=4.0,
                    help="32x32 grey mean abs difference below which an image counts as a val image")
    ap.add_argument("--max-mb", type=float, default=30.0, help="largest shard, MB (1e6 bytes)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--no-packs", action="store_true", help="extract and select only")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cv2.setNumThreads(1)

    sources = parse_sources(args.sources)
    wanted = {s for s in args.sets.split(",") if s}
    if wanted - {s.name for s in sources}:
        ap.error(f"unknown sets: {sorted(wanted - {s.name for s in sources})}")
    images = args.work / "images"
    manifests, skipped = [], []
    for src in sources:
        if wanted and src.name not in wanted:
            continue
        out_dir = images / src.name
        if (out_dir / MANIFEST).is_file():
            manifests.append(json.loads((out_dir / MANIFEST).read_text()))
            log.info("%s: already extracted (%d kept)", src.name, len(manifests[-1]["kept"]))
            continue
        gdir = git_dir(args.mirrors, src.repo)
        if gdir is None:
            log.warning("%s: %s not fetched into %s, skipped", src.name, src.repo, args.mirrors)
            skipped.append(src.name)
            continue
        manifests.append(extract_set(src, gdir, out_dir))

    refs = reference_hashes(args.work)
    stats: dict[str, Counter] = {m["set"]: Counter(m["drops"]) for m in manifests}
    rows = select(manifests, refs, images, args.near_val, args.near_train, args.thumb_val, stats)
    summary = {"sets": {m["set"]: {"files": m["files"], "commit": m["commit"], "exact_commit": m["exact_commit"],
                                   **stats[m["set"]]} for m in manifests},
               "new_total": len(rows), "skipped_sets": skipped}
    shards = []
    if not args.no_packs and rows:
        shards = write_shards(rows, args.work, images, int(args.max_mb * 1e6), args.seed, first_guess=11000)
        summary["shards"] = [{"file": str(p), "images": n, "bytes": b} for p, n, b in shards]
    (args.work / "summary.json").write_text(json.dumps(summary, indent=1))

    cols = ["files", "missing_blob", "md5_within_set", "undecodable", "small", "grey", "val_dhash_exact",
            "val_dhash_near", "val_thumb_near", "train_dhash_exact", "train_dhash_near", "md5_cross_set", "dhash_within_grown", "new"]
    print("set".ljust(20) + "".join(c[:12].rjust(13) for c in cols))
    for name, s in summary["sets"].items():
        print(name.ljust(20) + "".join(str(s.get(c, 0)).rjust(13) for c in cols))
    print(f"new images: {len(rows)}; skipped sets: {', '.join(skipped) or 'none'}")
    for p, n, b in shards:
        print(f"{p}: {n} images, {b / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
