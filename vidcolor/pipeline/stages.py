"""Threads joined by bounded queues: the decode and encode stages around inference."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()
_POLL_S = 0.1


class Cancelled(Exception):
    """Raised inside a stage when the run is being torn down."""


class BoundedChannel(Generic[T]):
    """A bounded queue whose put/get give up when ``stop`` is set, so no thread can hang."""

    def __init__(self, maxsize: int, stop: threading.Event) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize)
        self._stop = stop

    def put(self, item: T | object) -> None:
        while True:
            if self._stop.is_set():
                raise Cancelled
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        self.put(_END)

    def __iter__(self) -> Iterator[T]:
        while True:
            if self._stop.is_set():
                raise Cancelled
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if item is _END:
                return
            yield item


class StageThread(threading.Thread):
    """Runs ``work`` in a thread, keeping its exception for the caller to re-raise."""

    def __init__(self, name: str, work: Callable[[], None], stop: threading.Event) -> None:
        super().__init__(name=f"vidcolor-{name}", daemon=True)
        self._work = work
        self._stop_event = stop
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._work()
        except Cancelled:
            pass
        except BaseException as ex:  # re-raised in the caller's thread
            self.error = ex
            self._stop_event.set()


def produce(items: Iterable[T], channel: BoundedChannel[T]) -> Callable[[], None]:
    """Work for a StageThread that feeds ``items`` into ``channel`` and closes it."""

    def work() -> None:
        for item in items:
            channel.put(item)
        channel.close()

    return work
