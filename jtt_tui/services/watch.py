"""Noticing that the store changed underneath: another `jtt`, another
machine on the same MongoDB. One thread, one cheap read about once a second
(SQLite's ``data_version``; on MongoDB a change stream where the server has
them, else three one-field reads); the callback runs only when something
changed, so an idle app costs next to nothing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable

from jtt_tui.storage.base import Storage
from jtt_tui.storage.errors import StorageError

log = logging.getLogger(__name__)
_UNREAD = object()


class ChangeWatcher:
    def __init__(
        self, store: Storage, on_change: Callable[[], None], *, interval_s: float = 1.0
    ) -> None:
        self.store = store
        self.on_change = on_change
        self.interval_s = interval_s
        self.checks = 0  # reads made (for tests and benchmarks)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="jtt-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _token(self) -> Hashable:
        self.checks += 1
        try:
            return self.store.change_token()
        except StorageError:
            return _UNREAD  # away: the health monitor says so; try again next time

    def _run(self) -> None:
        last = self._token()
        while not self._stop.is_set():
            pushed = None
            try:
                pushed = self.store.wait_for_change(self.interval_s)
            except StorageError:
                pushed = None
            if pushed is None and self._stop.wait(self.interval_s):
                return
            token = self._token()
            if token is _UNREAD:
                continue
            if pushed or (token != last and last is not _UNREAD):
                try:
                    self.on_change()
                except Exception:  # a closing app: nothing to tell any more
                    log.debug("change callback failed", exc_info=True)
                    return
            last = token
