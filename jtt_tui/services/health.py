"""Watching the remote store: a health check every few seconds while it
answers; while it does not, reconnection attempts with exponential backoff
(1 s, 2 s, 4 s … 30 s). Failures that cannot fix themselves (credentials,
configuration, certificates) wait for the user's "retry now"."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from jtt_tui.services.storage_service import CONNECTION_KINDS, StorageService
from jtt_tui.storage.errors import StorageError, classify

log = logging.getLogger(__name__)

FIRST_RETRY_S = 1.0
# after the driver's heartbeat failed: enough for the driver's immediate
# re-check (500 ms apart at least) to succeed if the failure was a blip
QUICK_PING_S = 0.75
MAX_RETRY_S = 30.0


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1, 2, 4 … capped at 30)."""
    return min(FIRST_RETRY_S * 2 ** max(attempt - 1, 0), MAX_RETRY_S)


class HealthMonitor:
    def __init__(
        self,
        service: StorageService,
        *,
        interval_s: float = 5.0,
        refresh_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.interval_s = interval_s
        self.refresh_s = refresh_s  # how often the offline copy is brought up to date
        self._clock = clock
        self._refreshed_at: float | None = None
        self._watching = False
        self._quick = False  # the next check confirms a failed heartbeat: keep it short
        self._woken_for_outage = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.attempt = 0

    def _heartbeat(self, ok: bool) -> None:
        """The driver's own check of the server (every heartbeatFrequencyMS):
        a failed one triggers a health check now instead of at the next
        interval; a good one while offline, a reconnection now (once per
        outage, so a server that answers hellos but not commands still gets
        the backoff)."""
        service = self.service
        if not ok:
            if service.online:
                self._quick = True
                self._wake.set()
            return
        failure = service.failure
        if service.online or failure is None or not failure.recoverable:
            return
        if not self._woken_for_outage:
            self._woken_for_outage = True
            self.retry_now()

    def start(self) -> None:
        if not self._watching:
            self._watching = True
            self.service.watch_heartbeats(self._heartbeat)
        if self._thread is None and self.service.mirror is not None:
            self._thread = threading.Thread(target=self._run, name="jtt-health", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def retry_now(self) -> None:
        """Check (or reconnect) at once instead of waiting."""
        self.attempt = 0
        self._wake.set()

    def _sleep(self, seconds: float | None) -> bool:
        """Wait ``seconds`` (None: until woken); False when stopping."""
        self._wake.wait(seconds)
        self._wake.clear()
        return not self._stop.is_set()

    def _run(self) -> None:
        service = self.service
        while not self._stop.is_set():
            if service.online:
                self._woken_for_outage = False
                self._refresh_if_due()
                if not self._sleep(self.interval_s):
                    return
                if service.mirror is None:
                    continue  # switched to a local store meanwhile
                quick, self._quick = self._quick, False
                ping = service.ping(QUICK_PING_S if quick else None)
                if not ping.ok and service.online and ping.failure is not None:
                    service.mark_offline(ping.failure)
                continue
            failure = service.failure
            if failure is not None and not failure.recoverable and self.attempt == 0:
                # credentials or settings will not fix themselves: wait to be asked
                self.attempt = 1
                if not self._sleep(None):
                    return
                self.attempt = 0
            else:
                self.attempt += 1
                delay = backoff(self.attempt)
                service.set_reconnecting(delay, self.attempt)
                if not self._sleep(delay):
                    return
            if service.reconnect():
                self.attempt = 0
                self._refreshed_at = self._clock()  # reconnecting refreshed it

    def _refresh_if_due(self) -> None:
        """Bring the offline copy up to date: first thing, then every
        ``refresh_s`` (teammates' changes reach it this way)."""
        service = self.service
        now = self._clock()
        if service.mirror is None or (
            self._refreshed_at is not None and now - self._refreshed_at < self.refresh_s
        ):
            return
        self._refreshed_at = now
        try:
            service.refresh_mirror()
        except StorageError as exc:
            failure = classify(exc)
            if failure.kind in CONNECTION_KINDS:
                service.mark_offline(failure)
            else:
                log.warning("refreshing the offline copy failed: %s", failure.message)
