"""The jtt application: four sections as modes, global keys, the shared
status snapshot, and the one place worker failures are handled.

The app paints its first screen before anything heavy is imported: settings,
the store and the services arrive from a boot worker (see ``launch.py``), and
the sections fill in when they are ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from jtt_tui.domain.clock import Clock, SystemClock
from jtt_tui.ui.commands import REGISTRY, SCREEN_TITLES, bindings_for, commands_for
from jtt_tui.ui.resources import stylesheets
from jtt_tui.ui.state import StoreBadge, TimerSnapshot

if TYPE_CHECKING:
    from pathlib import Path

    from jtt_tui.config import Settings
    from jtt_tui.services.container import Services
    from jtt_tui.services.health import HealthMonitor
    from jtt_tui.services.watch import ChangeWatcher
    from jtt_tui.storage.errors import StorageFailure
    from jtt_tui.ui.modals.recovery import RecoveryChoice, RecoveryModal
    from jtt_tui.ui.timekeeping import Timekeeping

JIRA_FIRST_RETRY_S = 10.0
JIRA_RETRY_S = 120.0
THEMES = {"dark": "textual-dark", "light": "jtt-light", "ansi": "ansi-dark"}
_SCREEN_CLASSES = {
    "timer": "TimerScreen",
    "projects": "ProjectsScreen",
    "billing": "BillingScreen",
    "database": "DatabaseScreen",
    "jira": "JiraScreen",
}


@dataclass
class Booted:
    """What the boot worker hands the app."""

    services: Services
    settings: Settings | None
    notes: list[str] = field(default_factory=list)
    pending: int = 0  # writes waiting in the outbox (read off the UI thread)
    # the one other user id the local store holds data of, when this user
    # has none there (settings lost?): the app offers to adopt it
    adoptable: tuple[str, int] | None = None


class StorageChanged(Message):
    """A StorageService event (ConnectionLost, OutboxChanged …), posted from
    whatever thread published it; handled on the UI thread."""

    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event


class BootFailed(Exception):
    """Start-up cannot continue; ``exit_code`` and the message go to the shell."""

    def __init__(self, message: str, exit_code: int, *, folder: Path | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.folder = folder  # LOCAL_STORE_PATH's missing folder: the app offers to make it


def _screen(name: str) -> Any:
    """A factory importing a section only when it is first opened."""

    def factory() -> Screen[None]:
        import importlib

        module = importlib.import_module(f"jtt_tui.ui.screens.{name}")
        screen: Screen[None] = getattr(module, _SCREEN_CLASSES[name])()
        return screen

    return factory


class JttApp(App[int]):
    TITLE = "jtt"
    CSS_PATH = stylesheets()
    MODES = {name: _screen(name) for name in SCREEN_TITLES}
    DEFAULT_MODE = "timer"
    BINDINGS = bindings_for("app")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    timer_snapshot: reactive[TimerSnapshot] = reactive(TimerSnapshot, always_update=True)
    store_badge: reactive[StoreBadge] = reactive(StoreBadge("…", "opening"))
    ready: reactive[bool] = reactive(False)

    def __init__(
        self,
        services: Services | None = None,
        settings: Settings | None = None,
        *,
        boot: Callable[[], Booted] | None = None,
        clock: Clock | None = None,
        status_refresh_s: float = 15.0,
        startup_notes: list[str] | None = None,
        health_interval_s: float | None = None,
        log_path: Path | None = None,
        debug: bool = False,
    ) -> None:
        super().__init__()
        self.log_path = log_path  # where a crash's details go
        self._debug = debug
        if services is None and boot is None:
            raise ValueError("JttApp needs services, or a boot function that makes them")
        self._services = services
        self.settings = settings
        self._boot = boot
        self._clock_given = clock is not None
        self.clock: Clock = clock or (services.storage.clock if services else SystemClock())
        self._status_refresh_s = status_refresh_s
        self._startup_notes = startup_notes or []
        self._pending_mode: str | None = None
        # worklogs waiting for Jira: None until first checked
        self.jira_queued: bool | None = None
        self.farewell: str | None = None
        self.exit_message: str | None = None
        # the connection to a remote store: watched, and explained when it drops
        self._monitor: HealthMonitor | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._recovery: RecoveryModal | None = None
        self._working_offline = False  # the user chose to; do not pop the modal again
        self._pending_writes = 0
        self._health_interval_s = health_interval_s  # None: from the settings
        self.timekeeping: Timekeeping | None = None  # undo, forgotten timers, reminders
        self.live: ChangeWatcher | None = None  # changes made elsewhere
        self._settling_conflicts = False  # a conflict dialog (or its next one) is on its way
        self.restart = False  # exit, then open again (new settings: an adopted user id)
        self._conflicts_later = False  # the user chose "decide later"
        from jtt_tui.ui.keys import OrderedKeys

        self._keys = OrderedKeys(self)
        from jtt_tui.ui.palette import LIGHT_THEME

        self.register_theme(LIGHT_THEME)  # textual-light with readable state colours
        if services is None and settings is not None:
            # the settings are read before the first frame: say which store is opening
            self.set_reactive(JttApp.store_badge, _opening_badge(settings))

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the store is still opening")
        return self._services

    @property
    def tz(self) -> tzinfo | None:
        """The time zone days and clock times are shown in (None: the system's)."""
        return self._services.timer.tz if self._services else None

    # -- start-up ------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.settings is not None:
            self.theme = THEMES.get(self.settings.ui.theme, "textual-dark")
        if self._services is not None:
            pending = self._services.storage.pending()
            self._on_booted(Booted(self._services, self.settings, self._startup_notes, pending))
        else:
            # the store opens in a thread while the first frame paints. (Not
            # after a refresh: Textual runs such callbacks when the screen is
            # idle, which on a real terminal may wait for the first key press.)
            self._start_boot()

    def _start_boot(self) -> None:
        boot = self._boot
        assert boot is not None

        def run() -> None:
            try:
                booted = boot()
            except BootFailed as exc:
                self.call_from_thread(self._boot_failed, exc)
                return
            self.call_from_thread(self._on_booted, booted)

        self.run_worker(run, group="boot", thread=True, exit_on_error=False)

    def _boot_failed(self, failure: BootFailed) -> None:
        if failure.folder is not None:
            self._offer_folder(failure)
            return
        self.exit_message = str(failure)
        self.exit(return_code=failure.exit_code)

    def _offer_folder(self, failure: BootFailed) -> None:
        """LOCAL_STORE_PATH names a folder that is not there: a typo, or a
        new place? Ask; yes makes it and opens again, no quits saying why."""
        from jtt_tui.ui.modals.confirm import ConfirmModal

        folder = failure.folder
        assert folder is not None
        self._keys.opened.set()  # no store will open: the keys go to this question

        def answer(yes: bool | None) -> None:
            if yes:
                try:
                    folder.mkdir(parents=True, mode=0o700)
                except OSError as exc:
                    self.exit_message = f"jtt: cannot make {folder}: {exc.strerror}"
                    self.exit(return_code=1)
                    return
                self.restart = True
                self.exit()
                return
            self.exit_message = str(failure)
            self.exit(return_code=failure.exit_code)

        self.push_screen(
            ConfirmModal(
                f"LOCAL_STORE_PATH points into {folder}, which does not exist. A typo? "
                "Create the folder and keep the store there?",
                yes="Create it",
            ),
            answer,
        )

    def _on_booted(self, booted: Booted) -> None:
        self._services = booted.services
        self.settings = booted.settings
        if not self._clock_given:
            self.clock = booted.services.storage.clock
        if self.settings is not None:
            self.theme = THEMES.get(self.settings.ui.theme, "textual-dark")
            self._apply_keymap(self.settings.keys)
        storage = booted.services.storage
        self._pending_writes = booted.pending

        def forward(event: Any) -> None:
            self.post_message(StorageChanged(event))

        self._unsubscribe = storage.subscribe(forward)
        self._start_monitor()
        self.store_badge = self._badge()
        self.ready = True
        self._keys.opened.set()  # the keys held meanwhile run now, in order
        for note in booted.notes:
            self.notify(note, severity="warning", timeout=15)
        if booted.adoptable is not None:
            self._offer_adoption(*booted.adoptable)
        if not storage.online and storage.failure is not None:
            # MongoDB configured but unreachable: the cached data, and why
            self._show_recovery(storage.failure)
        self.set_interval(self._status_refresh_s, self.refresh_status)
        if self.settings is not None and self.settings.local.backup_enabled:
            self.set_interval(3600, self._backup_if_due)
        if self.settings is not None and self.settings.jira.configured:
            self.set_timer(JIRA_FIRST_RETRY_S, self.retry_jira_queue)
            self.set_interval(JIRA_RETRY_S, self.retry_jira_queue)
        self.data_changed()
        from jtt_tui.services.watch import ChangeWatcher
        from jtt_tui.ui.timekeeping import Timekeeping

        self.timekeeping = Timekeeping(self)
        self.timekeeping.start()
        # another jtt, another machine: their changes show here within ~1 s
        self.live = ChangeWatcher(storage, self._changed_elsewhere)
        self.live.start()
        if self._pending_mode is not None:
            self.switch_mode(self._pending_mode)

    def _offer_adoption(self, owner: str, records: int) -> None:
        """This user has no records here, one other id has: settings lost or
        moved? Offer to go on as that id (saved in settings.toml; the app
        opens again on its data)."""
        from jtt_tui.ui.modals.confirm import ConfirmModal

        settings = self.settings
        if settings is None:
            return

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            from jtt_tui.config import update_settings_file

            update_settings_file(settings.config_dir, {"user_id": owner})
            self.restart = True
            self.exit()

        self.push_screen(
            ConfirmModal(
                f"This store holds no data for you ('{settings.user_id}') but {records} "
                f"record{'s' * (records != 1)} of '{owner}'. Settings lost or moved? Use "
                f"'{owner}' as yours? (saved in {settings.settings_path}; n keeps things as "
                f"they are — `jtt user adopt {owner}` does it later)",
                yes=f"Use '{owner}'",
            ),
            answer,
        )

    def _changed_elsewhere(self) -> None:
        """From the watcher's thread: another process changed the store."""
        if self.is_running:
            self.call_from_thread(self.data_changed)

    def _apply_keymap(self, keys: dict[str, str]) -> None:
        known = {c.id for c in REGISTRY}
        unknown = sorted(set(keys) - known)
        if unknown:
            self.notify(
                "settings.toml [keys]: unknown command ids ignored: " + ", ".join(unknown),
                severity="warning",
                timeout=8,
            )
        self.set_keymap({k: v for k, v in keys.items() if k in known})

    def _badge(self) -> StoreBadge:
        storage = self.services.storage
        if storage.kind == "local":
            return StoreBadge("local", "connected")
        pending = self._pending_writes
        notes = [f"{pending} pending"] if pending else []
        if self.settings is not None and self.settings.mongodb.tls_allow_invalid_certificates:
            # permanent while the setting is on: anyone on the path can pose as the server
            notes.append("⚠ TLS CERTIFICATES NOT CHECKED")
        detail = " · ".join(notes)
        return StoreBadge(f"mongodb: {_short_location(storage.location)}", storage.state, detail)

    # -- Jira: queued worklogs are sent on their own ---------------------------------------

    def retry_jira_queue(self) -> None:
        """Send the worklogs queued while Jira was away (nothing to do when
        the last push left none: ``jira_queued`` False)."""
        if self.jira_queued is False or not self.ready:
            return
        from jtt_tui.ui.screens.jira import jira_service

        service = jira_service(self)
        if not service.configured:
            return

        def run() -> None:
            from jtt_tui.jira.client import JiraError

            try:
                report = service.push(only_pending=True)
            except JiraError:
                return  # Jira still away (or not set up right): try again later
            self.call_from_thread(self._jira_retried, report)

        self.run_worker(run, group="jira-retry", thread=True, exclusive=True, exit_on_error=False)

    def _jira_retried(self, report: Any) -> None:
        self.jira_queued = False  # (set again just below if some are still queued)
        words = self.note_push(report)
        if report.outcomes and not self.jira_queued:
            self.notify(f"Jira queue: {words}", timeout=6)
            self.data_changed()

    def note_push(self, report: Any) -> str:
        """Remember whether a push left worklogs queued (the retry timer
        then sends them); the report in words."""
        from jtt_tui.services.jira import describe

        if report.count("queued"):
            self.jira_queued = True
        return describe(report)

    # -- the connection: health checks, the recovery modal, conflicts --------------------

    def _start_monitor(self) -> None:
        """Watch a remote store (no-op for the local one; safe to call again)."""
        from jtt_tui.services.health import HealthMonitor

        if self._monitor is None:
            interval = self._health_interval_s or (
                self.settings.health_interval_s if self.settings is not None else 5.0
            )
            self._monitor = HealthMonitor(self.services.storage, interval_s=interval)
        self._monitor.start()

    def on_unmount(self) -> None:
        self._keys.stop()
        if self.live is not None:
            self.live.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._monitor is not None:
            self._monitor.stop()

    def on_storage_changed(self, message: StorageChanged) -> None:
        from jtt_tui.services.storage_service import (
            ConnectionLost,
            ConnectionRestored,
            OutboxChanged,
            RetryFailed,
            RetryScheduled,
            Switched,
        )

        event = message.event
        if isinstance(event, OutboxChanged):
            self._pending_writes = event.pending
            if self._recovery is not None:
                self._recovery.set_pending(event.pending)
        elif isinstance(event, ConnectionLost | RetryFailed):
            if self._recovery is not None:
                self._recovery.update_failure(event.failure)
            elif not self._working_offline:
                self._show_recovery(event.failure)
            elif isinstance(event, ConnectionLost):  # a different reason while offline
                self.notify(
                    f"{event.failure.title}. Still working offline (^o for details).",
                    severity="warning",
                    timeout=6,
                )
        elif isinstance(event, RetryScheduled):
            if self._recovery is not None:
                self._recovery.retry_scheduled(event.seconds, event.attempt)
        elif isinstance(event, ConnectionRestored):
            self._connection_restored(event.replayed, event.conflicts)
        elif isinstance(event, Switched):
            self._working_offline = False
            self._start_monitor()
            self.data_changed()
        self.store_badge = self._badge()

    def _show_recovery(self, failure: StorageFailure) -> None:
        from jtt_tui.ui.modals.recovery import RecoveryModal

        if self._recovery is not None:  # never two
            self._recovery.update_failure(failure)
            return
        storage = self.services.storage
        modal = RecoveryModal(failure, location=storage.location, pending=self._pending_writes)
        self._recovery = modal
        self.push_screen(modal, self._recovery_closed)

    def _recovery_closed(self, choice: RecoveryChoice | None) -> None:
        self._recovery = None
        if choice is None:
            return  # closed because the connection is back
        self._working_offline = True
        if choice == "offline":
            pending = self._pending_writes
            self.notify(
                "Working offline: changes are saved here and sent when the database is back"
                + (f" ({pending} waiting)" if pending else "")
                + ". ^o shows the connection.",
                timeout=8,
            )
        elif choice == "edit":
            self.run_worker(self.action_switch_mode("database"), exit_on_error=False)
        elif choice == "local":
            self.use_local_storage()

    def _connection_restored(self, replayed: int, conflicts: int) -> None:
        self._working_offline = False
        if self._recovery is not None:
            self._recovery.dismiss(None)
            self._recovery = None
        sent = f": {replayed} change{'s' if replayed != 1 else ''} sent" if replayed else ""
        self.notify(f"Connected to the database again{sent}.", title="Back online", timeout=6)
        self.data_changed()
        if conflicts:
            self._conflicts_later = False  # a new reconnection: offer them again
            self.action_show_conflicts(asked=False)

    def retry_connection(self) -> None:
        """Reconnect now (the monitor does it off the UI thread)."""
        if self._monitor is not None and self.services.storage.mirror is not None:
            self._monitor.retry_now()

    def action_show_connection(self) -> None:
        storage = self.services.storage
        if not storage.online and storage.failure is not None:
            self._show_recovery(storage.failure)
        elif storage.kind == "local":
            self.notify(f"Using the local store: {storage.location}", timeout=5)
        else:
            self.notify(f"Connected to {_short_location(storage.location)}.", timeout=5)

    def use_local_storage(self) -> None:
        """Leave the unreachable database for the local store, for good,
        taking the cached data and every queued change along."""
        from jtt_tui.config import load_settings
        from jtt_tui.services.database import switch_backend

        settings, storage = self.settings, self.services.storage
        if settings is None:
            self.notify("Settings are not available in this session.", severity="error")
            return
        self.notify("Copying your data to the local store…", timeout=4)

        def run() -> None:
            outcome = switch_backend(
                settings, storage, "local", copy_data=True, reload=load_settings
            )
            self.call_from_thread(self.show_switch, outcome)

        self.run_worker(run, group="switch", exclusive=True, thread=True, exit_on_error=False)

    def show_switch(self, outcome: Any) -> None:
        """Tell the user a switch is done (and any warning about it)."""
        self.settings = outcome.settings
        self._pending_writes = 0
        where = "the local store" if outcome.kind == "local" else _short_location(outcome.location)
        copied = f"; {outcome.copied} records copied" if outcome.copied else ""
        self.notify(f"Now using {where}{copied}.", title="Switched", timeout=8)
        if outcome.warning:
            self.notify(outcome.warning, severity="warning", timeout=15)
        self.store_badge = self._badge()

    def action_show_conflicts(self, *, asked: bool = True) -> None:
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
        storage = self.services.storage

        def load() -> None:
            entries = storage.conflicts()
            if not entries:
                self.call_from_thread(self._conflicts_settled, asked)
                return
            entry = entries[0]
            theirs = storage.theirs(entry)
            self.call_from_thread(self._ask_conflict, entry, theirs, len(entries))

        self.run_worker(load, group="conflicts", exclusive=True, thread=True, exit_on_error=False)

    def _conflicts_settled(self, asked: bool) -> None:
        self._settling_conflicts = False
        if asked:
            self.notify("No conflicts to settle.", timeout=4)

    def _ask_conflict(self, entry: Any, theirs: Any, total: int) -> None:
        from jtt_tui.ui.modals.recovery import ConflictModal

        storage = self.services.storage

        def settle(keep: str | None) -> None:
            if keep is None:
                self._settling_conflicts = False
                self._conflicts_later = True
                self.notify(
                    f"{total} conflict{'s' if total != 1 else ''} left: Database section, F9.",
                    timeout=6,
                )
                return

            def run() -> None:
                try:
                    storage.resolve(entry, keep)  # type: ignore[arg-type]
                except Exception:
                    self.call_from_thread(setattr, self, "_settling_conflicts", False)
                    raise
                self.call_from_thread(self.data_changed)
                self.call_from_thread(self._next_conflict, asked=False)

            self.run_worker(run, group="resolve", thread=True, exit_on_error=False)

        self.push_screen(ConflictModal(entry, theirs, remaining=total - 1), settle)

    def _backup_if_due(self) -> None:
        """Every hour, write a backup of the local store if one is due."""
        from jtt_tui.services.backup import LocalBackups, local_backend

        settings, store = self.settings, local_backend(self.services.storage)
        if settings is None or store is None:
            return
        backups = LocalBackups(settings.backup_dir)
        hours = settings.local.backup_interval_hours

        def run() -> None:
            backups.run_if_due(store, hours, self.clock.now().astimezone())

        self.run_worker(run, group="backup", exclusive=True, thread=True, exit_on_error=False)

    async def action_switch_mode(self, mode: str) -> None:
        if not self.ready:
            self._pending_mode = mode  # the section opens as soon as the store is open
            return
        await self.switch_mode(mode)

    # -- shared state --------------------------------------------------------------------

    def refresh_status(self) -> None:
        """Re-read the active timers and today's total (in a worker)."""
        if not self.ready:
            return
        timer = self.services.timer

        def show(snapshot: TimerSnapshot) -> None:
            self.timer_snapshot = snapshot

        def run() -> None:
            status = timer.status()
            snapshot = TimerSnapshot(status.active, status.today_total, status.now)
            self.call_from_thread(show, snapshot)

        self.run_worker(run, group="status", exclusive=True, thread=True, exit_on_error=False)

    def data_changed(self) -> None:
        """Something was written: refresh the status line and the screen."""
        self.refresh_status()
        from jtt_tui.ui.screens.base import JttScreen

        # the section on screen, even under a modal (e.g. the recovery modal)
        section = next((s for s in reversed(self.screen_stack) if isinstance(s, JttScreen)), None)
        if section is not None:
            section.refresh_data()

    # -- failures ------------------------------------------------------------------------

    def _fatal_error(self) -> None:
        """An unhandled exception (a bug): Textual would print a traceback on
        the user's terminal. Instead the redacted traceback goes to the log,
        the app exits 1 (the terminal restored as always) and one line says
        where the details are; ``--debug`` prints them too."""
        import logging
        import traceback

        from jtt_tui.storage.errors import redact

        error = self._exception
        details = ""
        if error is not None:
            details = redact("".join(traceback.format_exception(error)))
            logging.getLogger("jtt_tui.crash").error("the app stopped on an error:\n%s", details)
        where = f"the details are in {self.log_path}" if self.log_path else "no log file"
        self.exit_message = (
            "jtt: the app stopped on an unexpected error (a bug: please report it); what "
            f"was saved is safe and a running timer keeps running; {where}"
            + (f"\n{details}" if self._debug and details else "")
        )
        self.bell()
        self._close_messages_no_wait()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.report_failure(event.worker.error)

    def report_failure(self, error: BaseException) -> None:
        """The one place a failed action is turned into words for the user."""
        from pydantic import ValidationError

        from jtt_tui.domain.errors import DomainError
        from jtt_tui.domain.validation import explain
        from jtt_tui.storage.errors import ConflictError, StorageError, classify

        if isinstance(error, ConflictError):
            self.notify(f"{error}. Reloaded: try again.", severity="warning", timeout=6)
            self.data_changed()
        elif isinstance(error, ValidationError):
            self.notify(explain(error), severity="error", timeout=6)
        elif isinstance(error, DomainError | ValueError):
            self.notify(str(error), severity="error", timeout=6)
        elif _is_jira_error(error):
            self.notify(str(error), title="Jira", severity="error", timeout=10)
        elif isinstance(error, StorageError):
            failure = classify(error)
            self.notify(
                f"{failure.message}\n{failure.suggestions[0]}",
                title=failure.title,
                severity="error",
                timeout=10,
            )
        else:
            from jtt_tui.storage.errors import redact

            self.log.error(redact(repr(error)))
            self.notify(
                f"Unexpected error: {redact(str(error)) or type(error).__name__}",
                severity="error",
                timeout=10,
            )

    # -- keys and the ledger ---------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self.timekeeping is not None:
                self.timekeeping.key_pressed()  # every key, also those an input keeps
            self._keys.push(event)  # in order, one at a time (see ui/keys.py)
            return
        await super().on_event(event)

    def action_undo(self) -> None:
        if self.ready and self.timekeeping is not None and self._on_a_section():
            self.timekeeping.undo()

    def action_redo(self) -> None:
        if self.ready and self.timekeeping is not None and self._on_a_section():
            self.timekeeping.redo()

    def _on_a_section(self) -> bool:
        """Not in a dialog: undo there would change data under an open form."""
        from jtt_tui.ui.screens.base import JttScreen

        return isinstance(self.screen, JttScreen)

    # -- commands ------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        scope = getattr(screen, "SCOPE", None)
        for command in commands_for("app"):
            yield SystemCommand(command.label, command.help, _runner(self, command.action))
        if scope:
            title = SCREEN_TITLES.get(scope, scope)
            for command in commands_for(scope):
                yield SystemCommand(
                    f"{title}: {command.label}", command.help, _runner(screen, command.action)
                )
        for name, theme in THEMES.items():
            yield SystemCommand(
                f"Theme: {name}",
                f"Switch to the {name} theme ({theme})",
                lambda t=theme: setattr(self, "theme", t),
                discover=False,
            )

    def action_show_keys(self) -> None:
        from jtt_tui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_next_theme(self) -> None:
        names = list(THEMES.values())
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def watch_theme(self, theme: str) -> None:
        """Remember the theme (dark / light / ansi) for the next start; the
        lists repaint their state colours for it."""
        if self.ready:
            self.data_changed()
        if self.settings is None:
            return
        choice = next((name for name, value in THEMES.items() if value == theme), None)
        if choice and choice != self.settings.ui.theme:
            from jtt_tui.config import update_settings_file

            self.settings.ui.theme = choice  # type: ignore[assignment]
            try:
                update_settings_file(self.settings.config_dir, {"ui": {"theme": choice}})
            except OSError as exc:
                self.notify(f"Could not save the theme: {exc.strerror}", severity="warning")

    async def action_quit(self) -> None:
        running = self.timer_snapshot.running
        if running:
            names = ", ".join(s.ticket_number for s in running)
            self.farewell = (
                f"{names} keeps running: a timer is a start time, not a process. "
                "Stop it with `jtt stop` or from jtt."
            )
        self.exit(return_code=0)


def _runner(target: Any, action: str) -> Any:
    async def run() -> None:
        await target.run_action(action)

    return run


def _opening_badge(settings: Settings) -> StoreBadge:
    """The badge while the store opens (never "reconnecting" for a local file)."""
    if settings.mongodb.enabled and settings.mongodb.uri:
        return StoreBadge("mongodb", "connecting")
    return StoreBadge("local", "opening")


def _short_location(location: str) -> str:
    """``mongodb://u:***@db.example:27017 (database jtt)`` -> ``db.example/jtt``."""
    import re

    address = re.sub(r"^mongodb(\+srv)?://([^@/]*@)?", "", location).split()[0]
    host = address.split("/")[0].split("?")[0]
    database = re.search(r"\(database (.+)\)", location)
    return f"{host.split(',')[0]}/{database.group(1) if database else ''}"


def _is_jira_error(error: BaseException) -> bool:
    """Without importing the HTTP client when Jira was never used."""
    import sys

    client = sys.modules.get("jtt_tui.jira.client")
    return client is not None and isinstance(error, client.JiraError)
