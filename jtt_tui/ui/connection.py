"""The connection to the store, as the app shows it: health checks, the
recovery modal when MongoDB drops, working offline, the switch to the local
store, and settling the conflicts offline changes ran into.

The app owns one ``Connection``; StorageService events reach it on the UI
thread (``JttApp.on_storage_changed``), blocking calls run in workers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jtt_tui.ui.state import StoreBadge
from jtt_tui.ui.workers import background

if TYPE_CHECKING:
    from jtt_tui.domain.models import Record
    from jtt_tui.services.database import SwitchOutcome
    from jtt_tui.services.health import HealthMonitor
    from jtt_tui.services.storage_service import StorageService
    from jtt_tui.storage.errors import StorageFailure
    from jtt_tui.storage.offline import OutboxEntry
    from jtt_tui.ui.app import JttApp
    from jtt_tui.ui.modals.recovery import Keep, RecoveryChoice, RecoveryModal


class Connection:
    def __init__(self, app: JttApp, *, health_interval_s: float | None = None) -> None:
        self.app = app
        self.pending_writes = 0  # writes waiting in the outbox
        self._health_interval_s = health_interval_s  # None: from the settings
        self._monitor: HealthMonitor | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._recovery: RecoveryModal | None = None
        self._working_offline = False  # the user chose to; do not pop the modal again
        self._settling_conflicts = False  # a conflict dialog (or its next one) is on its way
        self._conflicts_later = False  # the user chose "decide later"

    @property
    def storage(self) -> StorageService:
        return self.app.services.storage

    # -- following the store ---------------------------------------------------------------

    def start(self, pending: int) -> None:
        """The store is open: follow its events and, if remote, its health."""
        from jtt_tui.ui.app import StorageChanged

        app = self.app
        self.pending_writes = pending

        def forward(event: Any) -> None:  # from whichever thread published it
            app.post_message(StorageChanged(event))

        self._unsubscribe = self.storage.subscribe(forward)
        self._start_monitor()

    def explain(self) -> None:
        """MongoDB configured but unreachable at start: the cached data is
        on screen, and the recovery modal says why."""
        storage = self.storage
        if not storage.online and storage.failure is not None:
            self.show_recovery(storage.failure)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._monitor is not None:
            self._monitor.stop()

    def _start_monitor(self) -> None:
        """Watch a remote store (no-op for the local one; safe to call again)."""
        from jtt_tui.services.health import HealthMonitor

        if self._monitor is None:
            settings = self.app.settings
            interval = self._health_interval_s or (
                settings.health_interval_s if settings is not None else 5.0
            )
            self._monitor = HealthMonitor(self.storage, interval_s=interval)
        self._monitor.start()

    def handle(self, event: object) -> None:
        """A StorageService event, on the UI thread."""
        from jtt_tui.services.storage_service import (
            ConnectionLost,
            ConnectionRestored,
            OutboxChanged,
            RetryFailed,
            RetryScheduled,
            Switched,
        )

        app = self.app
        if isinstance(event, OutboxChanged):
            self.pending_writes = event.pending
            if self._recovery is not None:
                self._recovery.set_pending(event.pending)
        elif isinstance(event, ConnectionLost | RetryFailed):
            if self._recovery is not None:
                self._recovery.update_failure(event.failure)
            elif not self._working_offline:
                self.show_recovery(event.failure)
            elif isinstance(event, ConnectionLost):  # a different reason while offline
                app.notify(
                    f"{event.failure.title}. Still working offline (^o for details).",
                    severity="warning",
                    timeout=6,
                )
        elif isinstance(event, RetryScheduled):
            if self._recovery is not None:
                self._recovery.retry_scheduled(event.seconds, event.attempt)
        elif isinstance(event, ConnectionRestored):
            self._restored(event.replayed, event.conflicts)
        elif isinstance(event, Switched):
            self._working_offline = False
            self._start_monitor()
            app.data_changed()
        app.store_badge = self.badge()

    def badge(self) -> StoreBadge:
        storage = self.storage
        if storage.kind == "local":
            return StoreBadge("local", "connected")
        pending = self.pending_writes
        notes = [f"{pending} pending"] if pending else []
        settings = self.app.settings
        if settings is not None and settings.mongodb.tls_allow_invalid_certificates:
            # permanent while the setting is on: anyone on the path can pose as the server
            notes.append("⚠ TLS CERTIFICATES NOT CHECKED")
        detail = " · ".join(notes)
        return StoreBadge(f"mongodb: {short_location(storage.location)}", storage.state, detail)

    # -- the recovery modal ----------------------------------------------------------------

    def show_recovery(self, failure: StorageFailure) -> None:
        from jtt_tui.ui.modals.recovery import RecoveryModal

        if self._recovery is not None:  # never two
            self._recovery.update_failure(failure)
            return
        modal = RecoveryModal(failure, location=self.storage.location, pending=self.pending_writes)
        self._recovery = modal
        self.app.push_screen(modal, self._recovery_closed)

    def _recovery_closed(self, choice: RecoveryChoice | None) -> None:
        self._recovery = None
        if choice is None:
            return  # closed because the connection is back
        self._working_offline = True
        if choice == "offline":
            pending = self.pending_writes
            self.app.notify(
                "Working offline: changes are saved here and sent when the database is back"
                + (f" ({pending} waiting)" if pending else "")
                + ". ^o shows the connection.",
                timeout=8,
            )
        elif choice == "edit":
            self.app.run_worker(self.app.action_switch_mode("database"), exit_on_error=False)
        elif choice == "local":
            self.use_local_storage()

    def _restored(self, replayed: int, conflicts: int) -> None:
        self._working_offline = False
        if self._recovery is not None:
            self._recovery.dismiss(None)
            self._recovery = None
        sent = f": {replayed} change{'s' if replayed != 1 else ''} sent" if replayed else ""
        self.app.notify(f"Connected to the database again{sent}.", title="Back online", timeout=6)
        self.app.data_changed()
        if conflicts:
            self._conflicts_later = False  # a new reconnection: offer them again
            self.show_conflicts(asked=False)

    def retry(self) -> None:
        """Reconnect now (the monitor does it off the UI thread)."""
        if self._monitor is not None and self.storage.mirror is not None:
            self._monitor.retry_now()

    def show(self) -> None:
        """^o: the recovery modal while offline, else where the data is."""
        storage = self.storage
        if not storage.online and storage.failure is not None:
            self.show_recovery(storage.failure)
        elif storage.kind == "local":
            self.app.notify(f"Using the local store: {storage.location}", timeout=5)
        else:
            self.app.notify(f"Connected to {short_location(storage.location)}.", timeout=5)

    # -- leaving the database for the local store -------------------------------------------

    def use_local_storage(self) -> None:
        """Leave the unreachable database for the local store, for good,
        taking the cached data and every queued change along."""
        from jtt_tui.config import load_settings
        from jtt_tui.services.database import switch_backend

        app = self.app
        settings, storage = app.settings, self.storage
        if settings is None:
            app.notify("Settings are not available in this session.", severity="error")
            return
        app.notify("Copying your data to the local store…", timeout=4)
        background(
            app,
            lambda: switch_backend(
                settings, storage, "local", copy_data=True, reload=load_settings
            ),
            self.switched,
            group="switch",
        )

    def switched(self, outcome: SwitchOutcome) -> None:
        """Tell the user a switch is done (and any warning about it)."""
        app = self.app
        app.settings = outcome.settings
        self.pending_writes = 0
        where = "the local store" if outcome.kind == "local" else short_location(outcome.location)
        copied = f"; {outcome.copied} records copied" if outcome.copied else ""
        app.notify(f"Now using {where}{copied}.", title="Switched", timeout=8)
        if outcome.warning:
            app.notify(outcome.warning, severity="warning", timeout=15)
        app.store_badge = self.badge()

    # -- conflicts -------------------------------------------------------------------------

    def show_conflicts(self, *, asked: bool = True) -> None:
        """Settle, one by one, offline changes that collided with others'.
        One chain at a time (a second call while one runs does nothing), and
        after "decide later" they are offered again only when asked (F9) or
        after the next reconnection."""
        if self._settling_conflicts or (not asked and self._conflicts_later):
            return
        self._settling_conflicts = True
        self._conflicts_later = False
        self._next_conflict(asked=asked)

    def _next_conflict(self, *, asked: bool) -> None:
        storage = self.storage

        def load() -> tuple[OutboxEntry, Record | None, int] | None:
            entries = storage.conflicts()
            if not entries:
                return None
            return entries[0], storage.theirs(entries[0]), len(entries)

        def ask(found: tuple[OutboxEntry, Record | None, int] | None) -> None:
            if found is None:
                self._settling_conflicts = False
                if asked:
                    self.app.notify("No conflicts to settle.", timeout=4)
                return
            self._ask_conflict(*found)

        background(self.app, load, ask, group="conflicts")

    def _ask_conflict(self, entry: OutboxEntry, theirs: Record | None, total: int) -> None:
        from jtt_tui.ui.modals.recovery import ConflictModal

        app, storage = self.app, self.storage

        def settle(keep: Keep | None) -> None:
            if keep is None:
                self._settling_conflicts = False
                self._conflicts_later = True
                app.notify(
                    f"{total} conflict{'s' if total != 1 else ''} left: Database section, F9.",
                    timeout=6,
                )
                return
            background(
                app,
                lambda: storage.resolve(entry, keep),
                lambda _: self._settled_one(),
                group="resolve",
                exclusive=False,
            )

        app.push_screen(ConflictModal(entry, theirs, remaining=total - 1), settle)

    def _settled_one(self) -> None:
        self.app.data_changed()
        self._next_conflict(asked=False)

    def resolve_failed(self) -> None:
        """Settling a conflict failed (the failure is reported as any
        other): the chain stops, F9 starts it again."""
        self._settling_conflicts = False


def short_location(location: str) -> str:
    """``mongodb://u:***@db.example:27017 (database jtt)`` -> ``db.example/jtt``."""
    import re

    address = re.sub(r"^mongodb(\+srv)?://([^@/]*@)?", "", location).split()[0]
    host = address.split("/")[0].split("?")[0]
    database = re.search(r"\(database (.+)\)", location)
    return f"{host.split(',')[0]}/{database.group(1) if database else ''}"
