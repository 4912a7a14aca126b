"""Colouring segments on Ray actors, each holding one engine (one per GPU, or CPU workers).

Workers read the source and write their parts straight into the job's work folder, so on
a multi-machine cluster both must be on storage every node sees (NFS, a mounted bucket),
and vidcolor must be installed on every node. The driver keeps the manifest and does the
join, exactly as for a local job.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from vidcolor.errors import EngineError, UsageError
from vidcolor.jobs.plan import Segment, SegmentResult
from vidcolor.jobs.segment import SegmentDone, SegmentJob, run_segment
from vidcolor.pipeline.colorize import open_model_engine
from vidcolor.pipeline.progress import ProgressMeter

log = logging.getLogger(__name__)

_POLL_S = 0.5


def _import_ray() -> Any:  # noqa: ANN401 (module)
    try:
        import ray
    except ImportError as ex:
        raise UsageError("--cluster needs Ray: pip install 'vidcolor[cluster]'") from ex
    return ray


class SegmentWorker:
    """One engine, colouring whole segments on request; threaded so progress can be asked mid-segment."""

    def __init__(self, job: SegmentJob, threads: int | None, setup: Callable[[], None] | None) -> None:
        if setup is not None:
            setup()
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.job = job
        self.model, self.engine = open_model_engine(job.options)
        self._done = 0
        self._lock = threading.Lock()

    def describe(self) -> tuple[str, str]:
        return self.model.label, self.engine.describe()

    def _count(self, progress: Any) -> None:  # noqa: ANN401 (Progress)
        with self._lock:
            self._done = self._base + progress.done

    def colour(self, segment: Segment) -> SegmentResult:
        with self._lock:
            self._base = self._done
        meter = ProgressMeter(total=segment.frames, callback=self._count)
        result = run_segment(self.job, segment, self.model, self.engine, meter)
        with self._lock:
            self._done = self._base + result.frames
        return result

    def frames_done(self) -> int:
        with self._lock:
            return self._done


class RayRunner:
    """Runs a job's segments on Ray: ``local`` starts a private Ray on this machine, else ``ray://HOST:PORT``.

    Args:
        address: ``local`` or a Ray client address.
        workers: actors to start; None gives one per GPU, or one per two CPU cores without GPUs.
        setup: called in each actor before its engine opens (e.g. to register a model).
        runtime_env: Ray runtime environment for the actors (env vars, working_dir, pip).
    """

    def __init__(self, address: str, *, workers: int | None = None, setup: Callable[[], None] | None = None,
                 runtime_env: dict[str, Any] | None = None) -> None:
        if address != "local" and not address.startswith("ray://"):
            raise UsageError(f"--cluster must be local or ray://HOST:PORT, not {address!r}")
        self.address = address
        self.workers = workers
        self.setup = setup
        self.runtime_env = runtime_env
        self.model_label = self.engine_label = "none (all segments were already done)"

    def _start(self, ray: Any) -> bool:  # noqa: ANN401
        """Connect (or start a local Ray); True when this runner started it and must shut it down."""
        if ray.is_initialized():
            return False
        kwargs: dict[str, Any] = {"runtime_env": self.runtime_env, "log_to_driver": False, "configure_logging": False}
        if self.address == "local":
            # a private instance sized for the requested workers, without the dashboard's processes
            ray.init(num_cpus=max(os.cpu_count() or 1, self.workers or 0), include_dashboard=False, **kwargs)
        else:
            ray.init(address=self.address, **kwargs)
        return True

    def run(self, job: SegmentJob, todo: list[Segment], on_done: SegmentDone, meter: ProgressMeter) -> None:
        ray = _import_ray()
        started = self._start(ray)
        actors: list[Any] = []
        try:
            resources = ray.cluster_resources()
            gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 1))
            count = self.workers or (gpus or max(1, cpus // 2))
            count = min(count, len(todo))
            per_actor_cpus = max(1, cpus // count) if not gpus else 1
            options = {"num_gpus": 1 if gpus else 0, "num_cpus": per_actor_cpus, "max_concurrency": 2}
            worker_cls = ray.remote(SegmentWorker).options(**options)
            actors = [worker_cls.remote(job, None if gpus else per_actor_cpus, self.setup) for _ in range(count)]
            self.model_label, engine = ray.get(actors[0].describe.remote())
            self.engine_label = f"{count} Ray workers: {engine}"
            log.info("%s on %s", self.engine_label, self.address)
            self._fan_out(ray, actors, todo, on_done, meter)
        except ray.exceptions.RayError as ex:
            cause = getattr(ex, "cause", None)
            if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
                raise cause from ex  # a worker's own error (MediaError, ...) reads as in a local run
            raise EngineError(f"Ray cluster {self.address}: {str(ex).splitlines()[0]}") from ex
        finally:
            for actor in actors:
                ray.kill(actor)
            if started:
                ray.shutdown()

    def _fan_out(self, ray: Any, actors: list[Any], todo: list[Segment], on_done: SegmentDone, meter: ProgressMeter) -> None:  # noqa: ANN401
        queue = list(todo)
        running: dict[Any, tuple[Any, Segment]] = {}
        reported = 0
        for actor in actors:
            if queue:
                segment = queue.pop(0)
                running[actor.colour.remote(segment)] = (actor, segment)
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=_POLL_S)
            for ref in ready:
                actor, segment = running.pop(ref)
                on_done(segment, ray.get(ref))
                if queue:
                    nxt = queue.pop(0)
                    running[actor.colour.remote(nxt)] = (actor, nxt)
            # progress across all workers, frame by frame
            done = sum(ray.get([a.frames_done.remote() for a in actors]))
            if done > reported:
                meter.advance(done - reported)
                reported = done
