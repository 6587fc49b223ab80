"""Storage metrics kept in the process: every call to the store with its
latency and outcome, over a sliding window (5 minutes). Percentiles are
computed from the samples themselves (nearest rank), not a running average."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_S = 300.0
MAX_SAMPLES = 50_000  # a cap on memory for very busy processes


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class MetricsSnapshot:
    window_s: float
    operations: int
    errors: dict[str, int] = field(default_factory=dict)  # by failure kind
    p50_ms: float | None = None
    p95_ms: float | None = None

    def describe(self) -> str:
        if not self.operations:
            return f"no operations in the last {self.window_s / 60:.0f} min"
        text = (
            f"{self.operations} operations in the last {self.window_s / 60:.0f} min, "
            f"p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms"
        )
        if self.errors:
            text += ", errors: " + ", ".join(f"{k} {n}" for k, n in sorted(self.errors.items()))
        return text


class StorageMetrics:
    def __init__(
        self, *, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_s = window_s
        self._clock = clock
        self._samples: deque[tuple[float, float, str | None]] = deque(maxlen=MAX_SAMPLES)
        self._lock = threading.Lock()

    def record(self, seconds: float, error_kind: str | None = None) -> None:
        with self._lock:
            self._samples.append((self._clock(), seconds, error_kind))

    def snapshot(self) -> MetricsSnapshot:
        horizon = self._clock() - self.window_s
        with self._lock:
            while self._samples and self._samples[0][0] < horizon:
                self._samples.popleft()
            samples = list(self._samples)
        latencies = sorted(seconds * 1000 for _, seconds, _ in samples)
        errors = Counter(kind for _, _, kind in samples if kind is not None)
        return MetricsSnapshot(
            window_s=self.window_s,
            operations=len(samples),
            errors=dict(errors),
            p50_ms=percentile(latencies, 50),
            p95_ms=percentile(latencies, 95),
        )
