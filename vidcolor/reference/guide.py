"""The prediction step's reference hook: reweight the network's bin distributions by what references say.

Order in the pipeline (vidcolor/pipeline/predict.py): softmax -> this guide -> temporal
smoother -> annealed mean. The guide is stateless: a picture's guided distribution depends
on that picture's L, its number and the references alone, never on the pictures before it,
so a segment of a split job computes exactly what the plain run does, and the smoother (which
does keep state) sees the same input either way.

Why before the smoother, and why the smoother cannot undo a keyframe: every picture of a
keyframe's shot is guided, the ones before the keyframe too (the keyframe is known before the
run, so no reverse pass is needed). The smoother then averages distributions that are all
guided towards the same colours; where the picture does not move they agree and the
average is the keyframe's colour, where it moves the smoother's weight falls and the current,
guided, distribution takes over. Guiding after the smoother instead would let unguided
network colour leak in through the smoother's memory at every shot's first pictures and would
fight the smoother's own memory of the guided colour.
"""

from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from vidcolor.reference.distributions import KEYFRAME_LAYOUT, PHOTO_LAYOUT, Opinions, PaletteTable, exact_corners, pool
from vidcolor.reference.load import LoadedReference, coloured_share
from vidcolor.reference.shots import ShotPlan
from vidcolor.temporal.flow import sample_maps

log = logging.getLogger(__name__)

# DIS, not Farneback: it follows the large displacements between a picture and a keyframe many
# pictures away. Warping the truth's own frame-0 ab onto frames 1-39 of the benchmark clips at
# 112x112: mean ab error 2.45 against 3.02 (cockatoo), 3.73 against 8.62 (mmaction2); at 56x56
# DIS gave 2.79 and 5.04, hence flow at twice the colour grid. The MEDIUM preset beat FAST in the
# pipeline (cockatoo 2.22 against 2.39).
FLOW_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
# keyframes kept prepared at once: the two a picture blends between, and a few more for previews
_BUILT_KEYFRAMES = 4


@dataclass(frozen=True)
class GuideParams:
    """How strongly references reweight the network (the ``b`` of ``p_net^(1-b) q^b``).

    keyframe: b where a keyframe's colour reaches a position by motion with full confidence.
    keyframe_palette: b where motion fails and the keyframe's own palette (by L, contrast and
        place in the picture) stands in, times that match's confidence.
    photo: b of a palette reference (a photograph), times its match confidence.
    luma_scale: L* difference between a position and the keyframe position motion brings it
        from, at which the motion's confidence falls by e (after removing the exposure shift).
    """

    keyframe: float = 0.97
    # 0.85 rather than 0.5: in the benchmark's moving shots (cockatoo, bedroom) the keyframe's own
    # palette beat the network clearly where flow failed (ab error 2.40 -> 2.28 and 2.69 -> 2.54)
    keyframe_palette: float = 0.85
    photo: float = 0.5
    luma_scale: float = 10.0


def _area(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    if x.shape[:2] == (h, w):
        return x
    interp = cv2.INTER_AREA if x.shape[0] >= h and x.shape[1] >= w else cv2.INTER_LINEAR
    return cv2.resize(x, (w, h), interpolation=interp)


def _to_u8(l_star: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(l_star * 2.55), 0, 255).astype(np.uint8)


class _Keyframe:
    """One keyframe at one colour-grid size: its colours, its film L, and its own palette."""

    def __init__(self, ref: LoadedReference, film_l: np.ndarray, grid: tuple[int, int], temperature: float) -> None:
        h, w = grid
        self.frame = int(ref.frame)  # type: ignore[arg-type]
        self.flow_size = (2 * h, 2 * w)
        # the film's own L at the keyframe (what frames are matched against), the image's ab (what is carried)
        self.l_flow = _area(film_l, self.flow_size)
        self.u8 = _to_u8(self.l_flow)
        self.ab_flow = _area(ref.lab[..., 1:], self.flow_size)
        ab_grid = torch.from_numpy(_area(self.ab_flow, grid)).permute(2, 0, 1)[None]
        self.grid = grid
        self.here = exact_corners(ab_grid, temperature)  # the keyframe's own picture
        lab_grid = np.dstack([_area(film_l, grid), _area(ref.lab[..., 1:], grid)])
        self.palette = PaletteTable(torch.from_numpy(lab_grid).permute(2, 0, 1).float(), KEYFRAME_LAYOUT)


class ReferenceGuide:
    """Reweights the network's distributions by palette references and keyframes.

    Called as ``guide(probs, l_low, l_full, frames)`` with probs (B,313,h,w) float32, l_low
    (B,1,h,w) normalised as (L-50)/100, l_full (B,1,H,W) in L* (for motion; None uses l_low),
    and the pictures' numbers in the film (None: a still image, picture 0). Returns new
    probabilities; the input is not modified.

    ``shots`` (from :func:`vidcolor.reference.shots.shots_for`) carries keyframes through their
    shots; without it (previews) a keyframe colours its own picture only.
    """

    def __init__(
        self,
        references: Sequence[LoadedReference],
        *,
        temperature: float,
        shots: ShotPlan | None = None,
        params: GuideParams = GuideParams(),
    ) -> None:
        self.temperature = temperature
        self.shots = shots
        self.params = params
        # a reference without colour has no opinion (the loader refuses one; a library caller may not)
        usable = [r for r in references if coloured_share(r.lab) > 0]
        self._photos = [r for r in usable if not r.is_keyframe]
        keys = sorted((r for r in usable if r.is_keyframe), key=lambda r: r.frame)
        if shots is not None:
            keys = [r for r in keys if r.frame in shots.key_l]
        self._keys = {int(r.frame): r for r in keys}
        self._key_frames = sorted(self._keys)
        self._grid: tuple[int, int] | None = None
        self._photo_tables: list[PaletteTable] = []
        # Keyframes are prepared when their shot is reached and the oldest dropped: a folder of a
        # thousand keyframes must not cost a thousand tables (0.2 s and 2 MB each) up front.
        self._built: OrderedDict[int, _Keyframe] = OrderedDict()
        self._dis = cv2.DISOpticalFlow_create(FLOW_PRESET)

    @property
    def empty(self) -> bool:
        return not self._photos and not self._keys

    def _prepare(self, grid: tuple[int, int]) -> None:
        if self._grid == grid:
            return
        self._photo_tables = [
            PaletteTable(torch.from_numpy(_area(r.lab, grid)).permute(2, 0, 1).float(), PHOTO_LAYOUT) for r in self._photos
        ]
        self._built.clear()
        self._grid = grid

    def _keyframe(self, frame: int) -> _Keyframe:
        key = self._built.get(frame)
        if key is None:
            ref = self._keys[frame]
            film_l = self.shots.key_l[frame] if self.shots is not None else ref.lab[..., 0]
            key = self._built[frame] = _Keyframe(ref, film_l, self._grid, self.temperature)
            while len(self._built) > _BUILT_KEYFRAMES:
                self._built.popitem(last=False)
        self._built.move_to_end(frame)
        return key

    def _keyframes_for(self, frame: int) -> list[tuple[_Keyframe, float]]:
        """The keyframes colouring ``frame`` and their weights: by time between the two around it, in its shot."""
        if self.shots is None:
            return [(self._keyframe(frame), 1.0)] if frame in self._keys else []
        shot = self.shots.shot_of(frame)
        i = bisect.bisect_right(self._key_frames, frame)
        # shots are runs of pictures: the nearest keyframe on each side is in the shot or none on that side is
        before = self._key_frames[i - 1] if i > 0 and self.shots.shot_of(self._key_frames[i - 1]) == shot else None
        after = self._key_frames[i] if i < len(self._key_frames) and self.shots.shot_of(self._key_frames[i]) == shot else None
        if before is not None and after is not None and before != after and before != frame:
            t = (frame - before) / (after - before)
            return [(self._keyframe(before), 1.0 - t), (self._keyframe(after), t)]
        nearest = before if before is not None else after
        return [] if nearest is None else [(self._keyframe(nearest), 1.0)]

    def _carry(self, key: _Keyframe, frame: int, l_flow: np.ndarray | None, l_grid: torch.Tensor) -> Opinions:
        """What ``key`` says about one picture (its L at flow and grid resolution)."""
        p = self.params
        h, w = key.grid
        if frame == key.frame:
            idx, q = key.here
            return Opinions(sparse=[(idx, q, torch.full((1, 1, h, w), p.keyframe))])
        cur = _to_u8(l_flow)
        backward = self._dis.calc(cur, key.u8, None)  # cur(x) ~ key(x + backward(x))
        map_x, map_y = sample_maps(backward)
        # Trust where the keyframe's L, brought over, agrees with the picture's (after removing exposure
        # flicker), and where it comes from inside the keyframe. No forward/backward flow check: on the
        # benchmark clips it discarded more good matches than bad ones (ab error 2.17 against 2.22 on
        # cockatoo, 7.71 against 7.73 on juggle, at the cost of a second flow per picture).
        fh, fw = cur.shape
        valid = ((map_x >= 0) & (map_x <= fw - 1) & (map_y >= 0) & (map_y <= fh - 1)).astype(np.float32)
        warped_l = cv2.remap(key.l_flow, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        diff = l_flow - warped_l
        diff -= np.median(diff)  # exposure flicker between the two pictures is not a mismatch
        confidence = valid * np.exp(-np.abs(diff) / p.luma_scale)
        ab = cv2.remap(key.ab_flow, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        c = torch.from_numpy(_area(confidence, key.grid))[None, None]
        idx, q = exact_corners(torch.from_numpy(_area(ab, key.grid)).permute(2, 0, 1)[None], self.temperature)
        # where motion fails, the keyframe's own palette (same shot: similar things in similar places)
        log_pal, pal_conf = key.palette.lookup(l_grid)
        return Opinions(dense=[(log_pal, (1 - c) * pal_conf * p.keyframe_palette)], sparse=[(idx, q, c * p.keyframe)])

    @torch.inference_mode()
    def __call__(
        self,
        probs: torch.Tensor,
        l_low: torch.Tensor,
        l_full: torch.Tensor | None = None,
        frames: Sequence[int] | None = None,
    ) -> torch.Tensor:
        if self.empty or probs.shape[0] == 0:
            return probs
        device = probs.device
        bsz, _, h, w = probs.shape
        self._prepare((h, w))
        frames = list(frames) if frames is not None else [0] * bsz
        l_grid = l_low.float().cpu() * 100 + 50
        probs_cpu = probs.float().cpu()
        photos = [table.lookup(l_grid) for table in self._photo_tables]
        keys = [self._keyframes_for(f) for f in frames]
        need_flow = [i for i in range(bsz) if any(k.frame != frames[i] for k, _ in keys[i])]
        l_flow: dict[int, np.ndarray] = {}
        if need_flow:
            src = l_full if l_full is not None else l_grid
            small = F.interpolate(src[need_flow].float().cpu(), size=(2 * h, 2 * w), mode="area")[:, 0].numpy()
            l_flow = dict(zip(need_flow, small))
        out = []
        for i in range(bsz):
            opinions = Opinions()
            for key, weight in keys[i]:
                opinions.extend(self._carry(key, frames[i], l_flow.get(i), l_grid[i : i + 1]).scaled(weight))
            # a photograph speaks where the keyframes leave room: the weights stay <= 1 in all
            room = 1 - opinions.total() if opinions else 1.0
            for log_q, conf in photos:
                opinions.dense.append((log_q[i : i + 1], conf[i : i + 1] * (self.params.photo * room)))
            out.append(pool(probs_cpu[i : i + 1], opinions))
        return torch.cat(out).to(device)
