"""Helpers for decoding many records at once."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


class _CollectorPause:
    """Reference-counted pause of the cyclic garbage collector, safe across
    threads: the collector comes back on (if it was on) when the last user
    leaves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    def enter(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._was_enabled:
                gc.enable()


_pause = _CollectorPause()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    Decoding 100,000 records creates millions of objects; with the collector
    on, its repeated full scans of the growing heap more than double the cost.
    Decoded records form no reference cycles, so nothing is left for it to do.
    """
    _pause.enter()
    try:
        yield
    finally:
        _pause.leave()


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter)."""
    stream = iter(items)
    while batch := list(islice(stream, size)):
        yield batch
