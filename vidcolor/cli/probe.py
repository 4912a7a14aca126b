"""`vidcolor probe`: what is in a file, and how long colouring it should take."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from vidcolor.engines.hardware import CPU_ENGINE, gpu_possible

# Measured end-to-end on the 2-core CI machine with `lite` (benchmarks/RESULTS.md); a rough guide.
_CPU_LITE_FPS_640x360 = 10.0


def probe(
    input: Annotated[Path, typer.Argument(help="Video file, or image sequence (scans/%06d.dpx or a folder of numbered stills), to inspect.", show_default=False)],
    count: Annotated[bool, typer.Option("--count", help="Demux the whole file to count frames exactly.")] = False,
    fps: Annotated[float | None, typer.Option(help="Frame rate of an image sequence (default 24).", show_default=False)] = None,
) -> None:
    """Show streams, frames, duration and an estimate of the colouring time."""
    from vidcolor.media import probe as probe_media

    info = probe_media(input, count_frames=count, fps=fps)
    v = info.video
    console = Console()
    console.print(f"[bold]{info.path}[/]  container {info.format}, duration {info.duration or 0:.3f} s")
    if v.still:
        from vidcolor.media.sequence import find_sequence

        seq = find_sequence(input, fps)
        gaps = f", missing {seq.describe_gaps()}" if seq.gaps else ""
        console.print(f"image sequence {seq.pattern}: {len(seq.numbers)} stills numbered {seq.first}-{seq.last}{gaps}, "
                      f"{float(seq.fps):.3f} fps ({seq.fps}), read as {v.read_format} full range")
    table = Table("#", "type", "codec", "details")
    for s in info.streams:
        if s.index == v.index:
            rate = f"{float(v.average_rate):.3f} fps" if v.average_rate else "variable"
            details = (f"{v.width}x{v.height} {v.pix_fmt}, {rate}, time base {v.time_base}, {v.frames} frames, "
                       f"rotation {v.rotation}, SAR {v.sample_aspect_ratio}, {v.chroma_spec.matrix} "
                       f"{'full' if v.chroma_spec.full_range else 'limited'} range")
        else:
            details = s.language or ""
        table.add_row(str(s.index), s.type, s.codec or "", details)
    console.print(table)
    if gpu_possible():
        from vidcolor.engines.select import available_engines  # torch, seconds: only where it may see a GPU

        engines = available_engines()
        chosen = next(name for name, why in engines.items() if why.startswith("ready"))
    else:  # no GPU runtime here, so torch sees none and `run` would use the CPU
        engines, chosen = {}, CPU_ENGINE
    pixels = v.width * v.height / (640 * 360)
    if chosen.startswith("torch-cpu"):
        eta = v.frames * pixels / _CPU_LITE_FPS_640x360
        console.print(f"engine {chosen}; estimated time with lite on this CPU: about {eta / 60:.1f} min")
    else:
        console.print(f"engine {chosen} ({engines[chosen]})")
