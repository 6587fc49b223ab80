"""What the app watches besides the screen: undo and redo (with a toast
naming the change), timers left running (a question on start-up or at the
next key press), a gentle reminder when no timer runs in working hours, and
the user's last key press (where a forgotten timer probably stopped)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jtt_tui.ui.app import JttApp

FORGOTTEN_EVERY_S = 300.0  # how often the next key press looks for timers left running
IDLE_EVERY_S = 30.0


class Timekeeping:
    def __init__(self, app: JttApp) -> None:
        from jtt_tui.services.activity import ActivityMark

        self.app = app
        settings = app.settings
        self.mark = ActivityMark(settings.data_dir) if settings is not None else None
        self._last_key: datetime | None = None
        self._check_due = True
        self._asking = False
        self._idle_since = app.clock.now()
        self._reminded = False

    def start(self) -> None:
        self.app.set_interval(FORGOTTEN_EVERY_S, self._due)
        self.app.set_interval(IDLE_EVERY_S, self.check_idle)
        self.check_forgotten()

    # -- undo and redo -----------------------------------------------------------------

    def undo(self) -> None:
        self._revert("undo")

    def redo(self) -> None:
        self._revert("redo")

    def _revert(self, verb: str) -> None:
        from jtt_tui.services.ledger import NothingToUndo

        ledger = self.app.services.ledger
        call: Callable[[], Any] = ledger.undo if verb == "undo" else ledger.redo

        def run() -> None:
            try:
                done = call()
            except NothingToUndo as exc:
                self.app.call_from_thread(self.app.notify, f"{str(exc).capitalize()}.", timeout=3)
                return
            text = done.description.removeprefix(f"{verb}: ")
            word = "Undid" if verb == "undo" else "Redid"
            self.app.call_from_thread(self.app.notify, f"{word}: {text}", timeout=6)
            self.app.call_from_thread(self.app.data_changed)

        self.app.run_worker(run, group="undo", exclusive=False, thread=True, exit_on_error=False)

    # -- key presses ---------------------------------------------------------------------

    def key_pressed(self) -> None:
        now = self.app.clock.now()
        mark = self.mark
        if mark is not None and (
            self._last_key is None or (now - self._last_key).total_seconds() >= mark.every_s
        ):
            self._last_key = now
            self.app.run_worker(
                lambda: mark.touch(now), group="activity", thread=True, exit_on_error=False
            )
        if self._check_due and self.app.ready:
            self.check_forgotten()

    def _due(self) -> None:
        self._check_due = True

    # -- timers left running -------------------------------------------------------------

    def check_forgotten(self) -> None:
        """Look (off the UI thread) for timers that ran too long; ask about
        the first one."""
        if self._asking or not self.app.ready:
            return
        self._check_due = False
        self._look(None, None)

    def ask_about(self, ticket: str, then: Callable[[], None]) -> None:
        """Before ending a timer that looks left running: ask first; ``then``
        (the action the user asked for) runs if they keep all its time."""
        if not self._asking:
            self._look(ticket, then)

    def _look(self, ticket: str | None, then: Callable[[], None] | None) -> None:
        timer = self.app.services.timer
        last = self._last_key or (self.mark.last() if self.mark is not None else None)

        def run() -> None:
            found = [f for f in timer.suspicious(last) if ticket in (None, f.ticket)]
            if found:
                self.app.call_from_thread(self._ask, found[0], then)
            elif then is not None:
                self.app.call_from_thread(then)

        self.app.run_worker(
            run, group="forgotten", exclusive=True, thread=True, exit_on_error=False
        )

    def _ask(self, item: Any, then: Callable[[], None] | None = None) -> None:
        from jtt_tui.ui.modals.forgotten import ForgottenChoice, ForgottenModal

        if self._asking:
            return
        self._asking = True
        timer = self.app.services.timer

        def answered(choice: ForgottenChoice | None) -> None:
            self._asking = False
            if choice is None:
                return  # later: asked again at a key press in a while

            def run() -> None:
                # the user looked at the times: what they chose is what counts
                if choice.action == "keep":
                    timer.keep(item.ticket)
                    said = f"Kept {item.ticket}: it counts in full"
                elif choice.action == "stop":
                    assert choice.at is not None
                    timer.stop(item.ticket, at=choice.at, force=True)
                    said = f"Stopped {item.ticket} when it ended"
                else:
                    assert choice.at is not None
                    timer.discard_since(item.ticket, choice.at)
                    said = f"Discarded the extra time of {item.ticket}; it runs on from now"
                self.app.call_from_thread(self.app.notify, said, timeout=5)
                self.app.call_from_thread(self.app.data_changed)
                if choice.action == "keep" and then is not None:
                    self.app.call_from_thread(then)
                else:
                    self.app.call_from_thread(self.check_forgotten)  # the next one, if any

            self.app.run_worker(run, group="forgotten-fix", thread=True, exit_on_error=False)

        modal = ForgottenModal(item, now=self.app.clock.now(), tz=self.app.tz)
        self.app.push_screen(modal, answered)

    # -- the reminder to start a timer -------------------------------------------------

    def check_idle(self) -> None:
        """In working hours, no timer running for a while: one toast with
        the keys that start one (never a modal, never a sound)."""
        app = self.app
        if not app.ready:
            return
        rules = app.services.timer.rules
        now = app.clock.now()
        snapshot = app.timer_snapshot
        if snapshot.running:
            self._idle_since, self._reminded = now, False
            return
        if rules.work_hours is None or rules.idle_reminder is None:
            return
        if not rules.work_hours.contains(now, app.tz):
            # the idle time counts from the start of work; a new day, a new reminder
            self._idle_since, self._reminded = now, False
            return
        if self._reminded:
            return
        if now - self._idle_since < rules.idle_reminder:
            return
        self._reminded = True
        minutes = int(rules.idle_reminder.total_seconds() // 60)
        paused = snapshot.paused
        hint = f", r resumes {paused[0].ticket_number}" if paused else ""
        app.notify(
            f"No timer has run for {minutes} min: n starts one{hint}.",
            title="Not tracking",
            timeout=10,
        )
