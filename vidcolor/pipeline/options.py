"""Configuration of one colourisation run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidcolor.defaults import DEFAULT_MODE, DEFAULT_STRENGTH, ON_ERROR_CHOICES, TEMPORAL_MODES
from vidcolor.errors import UsageError
from vidcolor.media.encode import EncodeOptions
from vidcolor.reference.spec import ReferenceSpec, parse_reference

DEFAULT_BATCH_SIZE = 8
# L* over which colour returns when --neutral-shadows names only where it starts
NEUTRAL_SHADOWS_SPAN = 15.0


def parse_neutral_shadows(value: str | tuple[float, float]) -> tuple[float, float]:
    """``"30:45"`` (no colour below L* 30, full colour from 45), ``"30"`` (30 to 45) or a pair."""
    if isinstance(value, str):
        try:
            parts = [float(x) for x in value.split(":")]
        except ValueError:
            parts = []
        if len(parts) == 1:
            parts.append(parts[0] + NEUTRAL_SHADOWS_SPAN)
        if len(parts) != 2:
            raise UsageError(f"--neutral-shadows takes L* values LOW:HIGH or LOW, e.g. 30:45, not {value!r}")
        value = (parts[0], parts[1])
    low, high = (float(x) for x in value)
    if not 0 <= low < high <= 100:
        raise UsageError(f"--neutral-shadows needs 0 <= LOW < HIGH <= 100 (L*), e.g. 30:45, not {low:g}:{high:g}")
    return low, high


@dataclass(frozen=True)
class ColorizeOptions:
    """Everything ``colorize`` needs besides the two paths.

    Attributes:
        model: a registered model name, or ``auto`` (eccv16 when its weights are on
            this machine, else the bundled ``lite``).
        weights: a local weights file for the model.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        engine: ``auto``, ``torch`` or ``tensorrt``.
        batch_size: frames per network call.
        temperature: annealed-mean temperature; None takes the model's own default.
        render_size: the short side of the picture the network sees (a multiple of 32);
            smaller is faster and coarser. None takes the model's own default.
        confidence_gate: (floor, span) of the decoding's confidence gate (see
            ``vidcolor.color.decoding.Decoding``); (0, 0) turns it off, None takes the model's.
        colour_gain: ab multiplied by this after the gate (1: as decoded); None takes the model's.
            A model's record may ramp a gain above 1 in by lightness (lite.v4: from L* 40 to 60, shadows as decoded).
        dark_knee: L* below which colour fades to grey at black (0: off); None takes the model's.
        neutral_shadows: (L* low, high), or ``"LOW:HIGH"``: no colour below the low L*, full colour
            from the high one, on top of the model's knee; for dark clothes painted maroon. None: off.
        temporal: temporal smoothing mode (``off``, ``ema``, ``flow``).
        temporal_strength: 0 to below 1, how strongly colour is carried from frame to frame.
        encode: how the video stream is encoded.
        overwrite: replace an existing output.
        on_error: ``stop`` at the first undecodable frame, or ``skip`` (conceal) it.
        hwaccel: ``cuda`` for NVDEC decoding, None for software.
        random_seed: use seeded random weights (tests and benchmarks only).
        references: colour references: ``IMAGE`` (a palette for the whole film) or
            ``IMAGE@TIME`` (a keyframe: a coloured version of the picture at TIME, in seconds,
            ``HH:MM:SS[.mmm]`` or ``#FRAME``); strings, paths or ``ReferenceSpec``.
        fps: the frame rate of an image sequence input (stills carry none); None is 24.
            Ignored for video files, which carry their own timing.
    """

    model: str = "auto"
    weights: Path | None = None
    device: str = "auto"
    engine: str = "auto"
    batch_size: int = DEFAULT_BATCH_SIZE
    temperature: float | None = None
    render_size: int | None = None
    confidence_gate: tuple[float, float] | None = None
    colour_gain: float | None = None
    dark_knee: float | None = None
    neutral_shadows: tuple[float, float] | str | None = None
    temporal: str = DEFAULT_MODE
    temporal_strength: float = DEFAULT_STRENGTH
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    overwrite: bool = False
    on_error: str = "stop"
    hwaccel: str | None = None
    random_seed: int | None = None
    references: tuple[ReferenceSpec, ...] = ()
    fps: float | None = None

    def __post_init__(self) -> None:
        refs = self.references
        if isinstance(refs, (str, Path, ReferenceSpec)):
            refs = (refs,)
        # parsed here so a malformed time fails before anything loads; files are checked against the film later
        object.__setattr__(self, "references", tuple(parse_reference(r) for r in refs))
        if self.neutral_shadows is not None:
            object.__setattr__(self, "neutral_shadows", parse_neutral_shadows(self.neutral_shadows))
        # checked here, before a model loads, so a typo costs a second and not a model load
        if self.temporal not in TEMPORAL_MODES:
            raise UsageError(f"--temporal must be {', '.join(TEMPORAL_MODES[:-1])} or {TEMPORAL_MODES[-1]}, not {self.temporal!r}")
        if not 0 <= self.temporal_strength < 1:
            raise UsageError(f"--temporal-strength must be in [0, 1), not {self.temporal_strength}")
        if self.on_error not in ON_ERROR_CHOICES:
            raise UsageError(f"--on-error must be {' or '.join(ON_ERROR_CHOICES)}, not {self.on_error!r}")
        if self.render_size is not None and (self.render_size % 32 or not 64 <= self.render_size <= 1024):
            raise UsageError(f"--render-size must be a multiple of 32 from 64 to 1024, not {self.render_size}")
        if self.batch_size < 1:
            raise UsageError(f"--batch-size must be at least 1, not {self.batch_size}")
        if self.fps is not None and not 0 < self.fps <= 1000:
            raise UsageError(f"--fps must be above 0 and at most 1000, not {self.fps:g}")
