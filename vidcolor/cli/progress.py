"""A rich progress bar on stderr fed by the library's progress callback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

if TYPE_CHECKING:  # the pipeline package imports torch
    from vidcolor.pipeline.progress import Progress as RunProgress


@contextlib.contextmanager
def progress_bar(*, enabled: bool, label: str) -> Iterator[Callable[[RunProgress], None]]:
    if not enabled:
        yield lambda _p: None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames  {task.fields[fps]:.1f} fps"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    task = bar.add_task(label, total=None, fps=0.0)

    def update(p: RunProgress) -> None:
        # started on the first frame, so errors found before any work print without a bar
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=p.done, total=p.total, fps=p.fps)

    try:
        yield update
    finally:
        bar.stop()
