"""The migration wizard (from the Database screen): copy everything to the
other backend with a backup first, a connection test, a batched copy and a
verification — each shown as a checklist line — then offer to switch.

The work runs in a thread worker (jtt_tui.storage.migrate); the running
timer keeps ticking in the status line meanwhile. Cancel stops between two
batches: the source is never written, the target holds whole batches only,
and running the migration again completes it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState

from jtt_tui.storage.errors import redact
from jtt_tui.storage.kinds import ALL_KINDS
from jtt_tui.storage.migrate import STEPS, CopyProgress, MigrationReport, StepChanged
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.screens.base import JttScreen
from jtt_tui.ui.widgets.check import Check
from jtt_tui.ui.widgets.key_bar import KeyBar
from jtt_tui.ui.widgets.status_line import StatusLine
from jtt_tui.words import count

if TYPE_CHECKING:
    from jtt_tui.config import MongoConfig

STEP_TITLES = {
    "backup": "Back up",
    "connect": "Test connection",
    "copy": "Migrate",
    "verify": "Verify",
}
MARKS = {"pending": "○", "running": "◐", "done": "✓", "failed": "✗", "skipped": "–"}


class MigrateScreen(JttScreen):
    """Phases: ``setup`` (options) → ``running`` → ``finished`` (summary,
    switch?) or ``failed`` / ``cancelled``."""

    SCOPE = "migrate"
    BINDINGS = bindings_for("migrate")

    def __init__(self, *, target: str, config: MongoConfig | None = None) -> None:
        super().__init__()
        self.target_kind = target
        self.config = config
        self.phase = "setup"
        self.report: MigrationReport | None = None
        self._cancel = threading.Event()

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        storage = self.jtt.services.storage
        target = (
            "the local store"
            if self.target_kind == "local"
            else f"MongoDB at {redact(self.config.uri if self.config else '')}"
            + (f" (database {self.config.database})" if self.config else "")
        )
        yield StatusLine()
        with VerticalScroll(id="migrate-body"):
            yield Label("Migrate your data", classes="section-title")
            yield Static(
                f"From: {storage.location}\nTo:   {target}", id="migrate-route", markup=False
            )
            with Vertical(id="migrate-options"):
                with Horizontal():
                    yield Label("Mode")
                    yield Select(
                        [
                            ("merge: the newer record wins", "merge"),
                            ("replace: empty the target first", "replace"),
                        ],
                        value="merge",
                        allow_blank=False,
                        id="f-mode",
                        compact=True,
                    )
                with Horizontal():
                    yield Label("Batch size")
                    yield Input("500", id="f-batch", compact=True, type="integer")
                yield Check("Dry run: read and check, write nothing", id="f-dry", compact=True)
                yield Static(
                    "Enter / ^s starts. The source is never changed; a backup of it is "
                    "written first.",
                    classes="form-hint",
                    markup=False,
                )
            yield Label("Steps", classes="section-title")
            for step in STEPS:
                yield Static(
                    f"{MARKS['pending']} {STEP_TITLES[step]}",
                    id=f"step-{step}",
                    classes="step",
                    markup=False,
                )
            yield Label("Collections", classes="section-title")
            for kind in ALL_KINDS:
                with Horizontal(classes="collection", id=f"row-{kind.name}"):
                    yield Label(kind.name.replace("_", " "))
                    yield ProgressBar(id=f"bar-{kind.name}", show_eta=False, show_percentage=True)
                    yield Static("", id=f"rate-{kind.name}", classes="rate", markup=False)
            yield Static("", id="migrate-result", markup=False)
            yield Static("", id="migrate-question", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#f-mode").focus()

    # -- actions ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = {
            "start": self.phase == "setup",
            "switch_now": self.phase == "finished"
            and self.report is not None
            and self.report.verified
            and not self.report.dry_run,
        }
        return allowed.get(action, True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    def action_start(self) -> None:
        if self.phase != "setup":
            return
        text = self.query_one("#f-batch", Input).value.strip()
        try:
            batch = int(text)
        except ValueError:
            batch = 0
        if not 1 <= batch <= 100_000:
            self._result("✗ The batch size must be a whole number from 1 to 100000.", failed=True)
            return
        mode = str(self.query_one("#f-mode", Select).value)
        dry = self.query_one("#f-dry", Checkbox).value
        for widget in self.query("#migrate-options Select, #migrate-options Input, Checkbox"):
            widget.disabled = True
        self.phase = "running"
        # the options are settled: give their room to the progress
        self.query_one("#migrate-options").display = False
        self.refresh_bindings()
        self._result("Working… (Esc cancels after the current batch)")
        self.background(lambda: self._run(batch, mode, dry), group="migrate")

    def action_close(self) -> None:
        """Esc: cancel a running migration, or leave the wizard."""
        if self.phase == "running":
            self._cancel.set()
            self._result("Cancelling after the current batch…")
            return
        self.dismiss(None)

    def action_switch_now(self) -> None:
        from jtt_tui.config import load_settings
        from jtt_tui.services.database import switch_backend
        from jtt_tui.storage.errors import StorageError, classify

        settings, storage = self.jtt.settings, self.jtt.services.storage
        if settings is None:
            return
        self.phase = "switching"
        self.refresh_bindings()
        self.query_one("#migrate-question", Static).update("Switching…")

        def run() -> Any:
            try:
                return switch_backend(
                    settings,
                    storage,
                    self.target_kind,  # type: ignore[arg-type]
                    config=self.config,
                    reload=load_settings,
                )
            except StorageError as exc:
                return classify(exc)

        def done(outcome: Any) -> None:
            from jtt_tui.storage.errors import StorageFailure

            if isinstance(outcome, StorageFailure):
                self.phase = "finished"
                self.refresh_bindings()
                self.query_one("#migrate-question", Static).update(
                    f"✗ Not switched: {outcome.title} ({outcome.kind}): {outcome.message}. "
                    "y tries again, Esc closes."
                )
                return
            self.jtt.connection.switched(outcome)
            self.dismiss(None)

        self.background(run, done, group="migrate-switch")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected failure is reported (by JttScreen's handler, which
        Textual calls too); the wizard stops waiting for it instead of
        showing "Working…" for ever."""
        if event.state == WorkerState.ERROR and self.phase in ("running", "switching"):
            self._failed(
                "✗ Stopped by an unexpected error (details in the log). The source is "
                "untouched; running the migration again completes it."
            )

    # -- the work (a thread) -------------------------------------------------------------

    def _run(self, batch: int, mode: str, dry: bool) -> None:
        from datetime import datetime

        from jtt_tui.services.migration import default_backup_path, plan_migration
        from jtt_tui.storage.errors import StorageError, classify
        from jtt_tui.storage.migrate import MigrationCancelled, MigrationError, migrate

        app, settings = self.app, self.jtt.settings
        assert settings is not None

        def progress(event: StepChanged | CopyProgress) -> None:
            app.call_from_thread(self._show, event)

        try:
            plan = plan_migration(
                settings,
                self.target_kind,  # type: ignore[arg-type]
                config=self.config,
                source=self.jtt.services.storage,
            )
        except StorageError as exc:
            failure = classify(exc)
            app.call_from_thread(self._failed, f"✗ Nothing migrated: {failure.message}")
            return
        try:
            report = migrate(
                plan.source,
                plan.target,
                batch_size=batch,
                dry_run=dry,
                backup_path=None if dry else default_backup_path(settings, datetime.now()),
                mode=mode,  # type: ignore[arg-type]
                progress=progress,
                cancel=self._cancel,
            )
        except MigrationCancelled as exc:
            app.call_from_thread(self._failed, f"Cancelled. {exc}", "cancelled")
        except MigrationError as exc:
            hint = f" Hint: {exc.failure.suggestions[0]}" if exc.failure else ""
            app.call_from_thread(
                self._failed,
                f"✗ Stopped at “{STEP_TITLES[exc.step]}”: {exc}.{hint} The source is "
                "untouched; running the migration again completes it.",
            )
        else:
            app.call_from_thread(self._finished, report)
        finally:
            plan.close()

    # -- showing progress (UI thread) ----------------------------------------------------

    def _show(self, event: StepChanged | CopyProgress) -> None:
        if isinstance(event, StepChanged):
            line = self.query_one(f"#step-{event.step}", Static)
            detail = f": {redact(event.detail)}" if event.detail else ""
            line.update(f"{MARKS[event.state]} {STEP_TITLES[event.step]}{detail}")
            for state in MARKS:
                line.set_class(state == event.state, f"-{state}")
            return
        bar = self.query_one(f"#bar-{event.collection}", ProgressBar)
        bar.update(total=max(event.total, 1), progress=event.done if event.total else 1)
        rate = self.query_one(f"#rate-{event.collection}", Static)
        if event.total == 0:
            rate.update("nothing to copy")
        elif event.done >= event.total:
            rate.update(f"{event.done:,} ({event.rate:,.0f}/s)")
        else:
            eta = "" if event.eta_s is None else f", ~{event.eta_s:.0f} s left"
            rate.update(f"{event.done:,}/{event.total:,} ({event.rate:,.0f}/s{eta})")

    def _result(self, text: str, *, failed: bool = False) -> None:
        result = self.query_one("#migrate-result", Static)
        result.update(text)
        result.set_class(failed, "-failed")
        if self.phase != "setup":  # keep the outcome (and the question) in view
            self.call_after_refresh(self.query_one("#migrate-body").scroll_end, animate=False)

    def _failed(self, text: str, phase: str = "failed") -> None:
        self.phase = phase
        self.refresh_bindings()
        self._result(text + " Esc closes.", failed=phase == "failed")

    def _finished(self, report: MigrationReport) -> None:
        self.report = report
        self.phase = "finished"
        self.refresh_bindings()
        lines = []
        if report.dry_run:
            lines.append(
                f"Dry run: {report.copied} of {report.records} records would be written; "
                "nothing was changed."
            )
        else:
            lines.append(
                f"✓ {report.records} records verified (counts and checksums match); "
                f"{report.copied} written in {report.duration_s:.1f} s."
            )
        if report.conflicts:
            kept_target = sum(1 for c in report.conflicts if c.winner == "target")
            lines.append(
                f"{count(len(report.conflicts), 'record')} differed on both sides: the newer kept "
                f"({kept_target} from the target)."
            )
        if report.backup_path:
            lines.append(f"Backup of the source: {report.backup_path}")
        if report.target_backup_path:
            lines.append(f"Backup of the target as it was: {report.target_backup_path}")
        self._result("\n".join(lines))
        question = self.query_one("#migrate-question", Static)
        if report.verified and not report.dry_run:
            where = "the local store" if self.target_kind == "local" else "MongoDB"
            question.update(f"Switch to {where} now? y switches, Esc keeps the current store.")
        else:
            question.update("Esc closes.")
