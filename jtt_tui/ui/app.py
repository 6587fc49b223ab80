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
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from jtt_tui.domain.clock import Clock, SystemClock
from jtt_tui.ui.commands import REGISTRY, SCREEN_TITLES, bindings_for, commands_for
from jtt_tui.ui.connection import Connection
from jtt_tui.ui.resources import stylesheets
from jtt_tui.ui.state import StoreBadge, TimerSnapshot
from jtt_tui.ui.workers import background

if TYPE_CHECKING:
    from pathlib import Path

    from jtt_tui.config import Settings
    from jtt_tui.services.container import Services
    from jtt_tui.services.jira_plan import PushReport
    from jtt_tui.services.watch import ChangeWatcher
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
        self.connection = Connection(self, health_interval_s=health_interval_s)
        self.timekeeping: Timekeeping | None = None  # undo, forgotten timers, reminders
        self.live: ChangeWatcher | None = None  # changes made elsewhere
        self.restart = False  # exit, then open again (new settings: an adopted user id)
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
        self.app_resume_signal.subscribe(self, self._redraw)
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

    def _redraw(self, _app: object) -> None:
        """Back from a suspend (`fg`): the shell had the terminal meanwhile,
        so every cell is drawn again, not only those that changed."""
        self.refresh(repaint=True, layout=True)

    def _start_boot(self) -> None:
        boot = self._boot
        assert boot is not None

        def attempt() -> Booted | BootFailed:
            try:
                return boot()
            except BootFailed as exc:
                return exc

        background(self, attempt, self._booted_or_failed, group="boot")

    def _booted_or_failed(self, outcome: Booted | BootFailed) -> None:
        if isinstance(outcome, BootFailed):
            self._boot_failed(outcome)
        else:
            self._on_booted(outcome)

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
        self.connection.start(booted.pending)
        self.store_badge = self.connection.badge()
        self.ready = True
        self._keys.opened.set()  # the keys held meanwhile run now, in order
        for note in booted.notes:
            self.notify(note, severity="warning", timeout=15)
        if booted.adoptable is not None:
            self._offer_adoption(*booted.adoptable)
        self.connection.explain()  # opened offline: the recovery modal says why
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

        def push() -> PushReport | None:
            from jtt_tui.jira.client import JiraError

            try:
                return service.push(only_pending=True)
            except JiraError:
                return None  # Jira still away (or not set up right): try again later

        background(self, push, self._jira_retried, group="jira-retry")

    def _jira_retried(self, report: PushReport | None) -> None:
        if report is None:
            return
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

    # -- the connection (see ``connection.py``) ----------------------------------------

    def on_storage_changed(self, message: StorageChanged) -> None:
        self.connection.handle(message.event)

    def action_show_connection(self) -> None:
        self.connection.show()

    def action_show_conflicts(self) -> None:
        self.connection.show_conflicts()

    def on_unmount(self) -> None:
        self._keys.stop()
        if self.live is not None:
            self.live.stop()
        self.connection.stop()

    # -- backups -----------------------------------------------------------------------

    def _backup_if_due(self) -> None:
        """Every hour, write a backup of the local store if one is due."""
        from jtt_tui.services.backup import back_up_local

        settings, storage, clock = self.settings, self.services.storage, self.clock
        if settings is not None:
            background(
                self,
                lambda: back_up_local(storage, settings, clock.now().astimezone()),
                group="backup",
            )

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

        def read() -> TimerSnapshot:
            status = timer.status()
            return TimerSnapshot(status.active, status.today_total, status.now)

        background(self, read, partial(setattr, self, "timer_snapshot"), group="status")

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
            if event.worker.group == "resolve":
                self.connection.resolve_failed()  # F9 starts the chain again
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


def _is_jira_error(error: BaseException) -> bool:
    """Without importing the HTTP client when Jira was never used."""
    import sys

    client = sys.modules.get("jtt_tui.jira.client")
    return client is not None and isinstance(error, client.JiraError)
