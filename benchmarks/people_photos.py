"""Build a training shard of people in dark clothes: 8,000 colour news photographs from LFW
(Labeled Faces in the Wild, deep-funneled; Huang et al., UMass Amherst), for issue 11.

Every model so far paints dark coats maroon-brown (Chaplin's policeman and tramp, the navy and
black coats of the period photographs): about half the network's mass at a coat sits on tan
to maroon bins. The training photos have few people in dark suits; about half of LFW's news
photos show one (politicians, officials, actors), with a white shirt and a neutral backdrop.

Source: the repository and commit below (it carries all 13,233 images, 250x250). Fetch it into
--mirrors as owner+name/repo[/.git] first. Selection: people sorted by name, then every
person's first picture, then every second one, and so on, so that the 530 pictures of one
president do not dominate; near-grey pictures (mean |Cb-128|+|Cr-128| < 2) and any within 4
dHash bits of a ../shared/datasets/val picture are skipped. Each is cut to its central 200x200:
deep-funnelling leaves black wedges at the corners. LFW has no licence of its own (news
photographs gathered from the web for research): training only, never committed.

    OMP_NUM_THREADS=1 python benchmarks/people_photos.py --mirrors /work/.mirror \\
        --out /work/data/people/lfw_c200 --pack /work/data/packs_f/lfw112.npz
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grow_training_set import chroma, decode, dhash, git, git_dir, iter_blobs, min_distance, reference_hashes  # noqa: E402

from vidcolor.train.pack import write_pack  # noqa: E402

REPO = "UncleSon21/Face_Recognition"
COMMIT = "3cfa053632a676eeb8b9c165e4bf069382bbc5dd"
PREFIX = "archive/lfw-deepfunneled/lfw-deepfunneled/"
COUNT = 8000
CROP = 25  # px cut from each side of the 250x250 picture
NEAR_VAL = 4

log = logging.getLogger("people_photos")


def round_robin(paths: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(path, sha) ordered: each person's first picture (people by name), then each second one, ..."""
    by_person: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path, sha in sorted(paths):
        by_person[path[len(PREFIX):].split("/")[0]].append((path, sha))
    order = []
    for rank in range(max(len(v) for v in by_person.values())):
        order += [v[rank] for _, v in sorted(by_person.items()) if rank < len(v)]
    return order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="fetched repositories, owner+name/repo")
    parser.add_argument("--out", type=Path, required=True, help="folder for the cut JPEGs")
    parser.add_argument("--pack", type=Path, help="also write them as a training pack (short side 112)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cv2.setNumThreads(1)
    gdir = git_dir(args.mirrors, REPO)
    if gdir is None:
        raise SystemExit(f"fetch {REPO} into {args.mirrors} first")
    rows = [line.split(None, 3) for line in git(gdir, "ls-tree", "-r", COMMIT, "--", PREFIX).splitlines()]
    order = round_robin([(path, sha) for _, kind, sha, path in rows if kind == "blob" and path.lower().endswith(".jpg")])
    val = reference_hashes(args.out.parent / "reference_cache")["val"]
    args.out.mkdir(parents=True, exist_ok=True)
    kept = grey = near = 0
    paths = dict((sha, path) for path, sha in order)
    for sha, data in iter_blobs(gdir, [sha for _, sha in order]):
        if kept == COUNT:
            break
        bgr = None if data is None else decode(data)
        if bgr is None or chroma(bgr) < 2.0:
            grey += 1
            continue
        bgr = bgr[CROP:bgr.shape[0] - CROP, CROP:bgr.shape[1] - CROP]
        if min_distance(np.array([dhash(bgr)], np.uint64), val)[0] <= NEAR_VAL:
            near += 1
            continue
        cv2.imwrite(str(args.out / f"lfw_{Path(paths[sha]).stem}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        kept += 1
    log.info("%d pictures in %s (%d grey or undecodable, %d near a val picture skipped)", kept, args.out, grey, near)
    if args.pack:
        write_pack(args.out, args.pack)
        log.info("pack %s: %d bytes", args.pack, args.pack.stat().st_size)


if __name__ == "__main__":
    main()
