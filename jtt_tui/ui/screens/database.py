"""The Database section: what store is in use and how it is doing, the
MongoDB settings form (test, save; the password goes to keyring and is never
shown again), and export / import of all data."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Label, Static

from jtt_tui.config import MongoConfig
from jtt_tui.domain.calendar import to_local
from jtt_tui.domain.validation import sentence
from jtt_tui.services.database import ConnectionCheck
from jtt_tui.services.storage_service import StorageInfo
from jtt_tui.storage.errors import redact
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.modals.forms import (
    Errors,
    FieldErrors,
    FieldGroup,
    check_field,
    select_field,
    text_field,
)
from jtt_tui.ui.screens.base import JttScreen
from jtt_tui.ui.widgets.key_bar import KeyBar
from jtt_tui.ui.widgets.status_line import StatusLine
from jtt_tui.words import count

TLS_OPTIONS = [
    ("Auto (on for remote hosts and mongodb+srv)", "auto"),
    ("On", "on"),
    ("Off (local servers only)", "off"),
]
_NUMBERS = (
    "server_selection_timeout_ms",
    "connect_timeout_ms",
    "socket_timeout_ms",
    "max_pool_size",
    "min_pool_size",
)


# the store's record kinds, one of each
_SINGULAR = {
    "sessions": "session",
    "projects": "project",
    "manual_tasks": "manual task",
    "invoices": "invoice",
    "tickets": "ticket",
}


class MongoForm(FieldGroup, Vertical):
    """The MongoDB settings as editable fields."""

    def __init__(
        self, config: MongoConfig | None, *, has_keyring_password: bool, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.config = config or MongoConfig()
        self.has_password = has_keyring_password

    def compose(self) -> Iterable[Widget]:
        c = self.config
        yield from check_field(
            "enabled", "Use MongoDB (saved; takes effect when jtt starts or you switch)", c.enabled
        )
        yield from text_field(
            "uri", "Connection string", c.uri, placeholder="mongodb://host:27017 or mongodb+srv://…"
        )
        yield from text_field("database", "Database", c.database)
        yield from text_field("username", "User", c.username)
        yield from text_field(
            "password",
            "Password",
            "",
            password=True,
            placeholder="•••••• saved in keyring (type to replace)"
            if self.has_password
            else "stored in keyring, never shown again",
        )
        yield from text_field(
            "auth_source",
            "Auth source",
            c.auth_source,
            placeholder="e.g. admin (empty: driver default)",
        )
        tls = "auto" if c.tls is None else ("on" if c.tls else "off")
        yield from select_field("tls", "TLS", TLS_OPTIONS, tls)
        yield from text_field("tls_ca_file", "CA file (PEM)", str(c.tls_ca_file or ""))
        for name in _NUMBERS:
            yield from text_field(
                name,
                name.replace("_", " ").replace(" ms", " (ms)").capitalize(),
                str(getattr(c, name)),
            )

    def _value(self, name: str) -> Any:
        return self.value(name)

    def read(self) -> tuple[dict[str, Any], str | None]:
        """(changes for MongoConfig, new password or None); FieldErrors if bad."""
        errors = Errors()
        changes: dict[str, Any] = {
            "enabled": self._value("enabled"),
            "uri": self._value("uri"),
            "database": self._value("database"),
            "username": self._value("username"),
            "auth_source": self._value("auth_source"),
            "tls": {"auto": None, "on": True, "off": False}[str(self._value("tls"))],
            "tls_ca_file": self._value("tls_ca_file") or None,
        }
        for name in _NUMBERS:
            text = self._value(name)
            if not text.isdigit():
                errors.add(name, "a whole number")
            else:
                changes[name] = int(text)
        errors.raise_if_any()
        return changes, self._value("password") or None


class DatabaseScreen(JttScreen):
    SCOPE = "database"
    BINDINGS = bindings_for("database")

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with VerticalScroll(id="database-body"):
            yield Label("Storage in use", classes="section-title")
            yield Static("Checking…", id="storage-info", markup=False)
            yield Label("MongoDB (F12 tests the form, ^s saves it)", classes="section-title")
            yield Static("", id="test-result", markup=False)
            settings = self.jtt.settings
            if settings is None:
                yield Static("Settings are not available in this session.", markup=False)
            else:
                yield MongoForm(
                    settings.mongodb,
                    has_keyring_password=settings.mongodb.password_in_keyring,
                    id="mongo-form",
                )
            yield Label("Data", classes="section-title")
            yield Static(
                "x exports everything to a JSON file; i imports a jtt export, the "
                "Electron app's data file or a ticket list (all or nothing).",
                markup=False,
                classes="form-hint",
            )
        yield KeyBar()

    def on_mount(self) -> None:
        # start on the checkbox: letter keys still work until a text field is entered
        boxes = self.query("#f-enabled")
        if boxes:
            boxes.first().focus()

    # -- status ----------------------------------------------------------------------

    def refresh_data(self) -> None:
        storage = self.jtt.services.storage

        def load() -> StorageInfo:
            storage.ping()
            return storage.info()

        self.background(load, self._show_info, group="database-info")

    def _show_info(self, info: StorageInfo) -> None:
        ping = info.last_ping
        if ping is None:
            health = "not checked"
        elif ping.ok:
            version = f", server {ping.server_version}" if ping.server_version else ""
            at = to_local(ping.at, self.jtt.tz)
            health = f"answering ({ping.latency_ms:.1f} ms{version}) at {at:%H:%M:%S}"
        else:
            assert ping.failure is not None
            health = f"NOT answering: {ping.failure.title} ({ping.failure.kind})"
        counts = ", ".join(
            count(n, _SINGULAR.get(k, k))
            for k, n in info.counts.items()
            if n and k != "billing_settings"  # one record per user: not a count to show
        )
        lines = [
            f"{'Local SQLite file' if info.kind == 'local' else 'MongoDB'}: {info.location}",
            f"Health: {health}",
        ]
        if info.kind != "local":
            state = {
                "connected": "connected",
                "offline": "OFFLINE: working on the copy kept on this machine",
                "reconnecting": "OFFLINE, reconnecting: working on the copy kept on this machine",
            }[info.state]
            waiting = (
                f"; {count(info.pending, 'change')} waiting to be sent" if info.pending else ""
            )
            lines.append(f"State: {state}{waiting}")
            if info.conflicts:
                lines.append(
                    f"{count(info.conflicts, 'conflict')} to settle: press F9 (keep mine / "
                    "keep theirs)"
                )
        if info.metrics is not None:
            lines.append(f"Activity: {info.metrics.describe()}")
        settings = self.jtt.settings
        if settings is not None:
            encryption = settings.encryption
            lines.append(
                "Field encryption: "
                + (
                    f"on (key {encryption.key_id or 'from JTT_DATA_KEY'})"
                    if encryption.enabled
                    else "off (`jtt keys init` encrypts notes, descriptions, client details)"
                )
            )
        lines += [
            f"Your user id: {info.user_id} (share it to be added to a team project)",
            f"Records: {counts or 'none yet'}",
            "F8 / w switches to "
            + ("MongoDB (the form below)" if info.kind == "local" else "the local store")
            + ", live; F10 / m migrates everything there first (backup, copy, verify).",
        ]
        self.query_one("#storage-info", Static).update("\n".join(lines))

    # -- MongoDB form --------------------------------------------------------------------

    def _form_config(self) -> tuple[MongoConfig, bool] | None:
        """The form as validated settings (and whether it holds a new password)."""
        from jtt_tui.services.database import merged_config

        settings = self.jtt.settings
        if settings is None:
            return None
        form = self.query_one(MongoForm)
        try:
            changes, password = form.read()
            config = merged_config(settings, changes, password)
        except FieldErrors as exc:
            form.show_errors(exc.errors)
            return None
        except ValidationError as exc:
            errors = {str(e["loc"][0]) if e["loc"] else "uri": sentence(e) for e in exc.errors()}
            form.show_errors(errors)
            return None
        form.show_errors({})
        return config, password is not None

    def _mongodb_target(self, missing_uri: str) -> MongoConfig | None:
        """The form's MongoDB settings as a target to switch or migrate to;
        None (and why, on screen) when they are invalid or lack a URI."""
        read = self._form_config()
        if read is None:
            return None
        config = read[0]
        if not config.uri:
            self.query_one("#test-result", Static).update(f"✗ {missing_uri}")
            return None
        return config

    def action_test_connection(self) -> None:
        from jtt_tui.services.database import check_mongodb

        settings = self.jtt.settings
        read = self._form_config()
        if read is None or settings is None:
            return
        config, _ = read
        if not config.uri:
            self.query_one("#test-result", Static).update("✗ Enter a connection string first.")
            return
        result = self.query_one("#test-result", Static)
        result.update(f"Testing {redact(config.uri)} …")
        self.background(
            lambda: check_mongodb(settings, config), self._show_test, group="database-test"
        )

    def _show_test(self, check: ConnectionCheck) -> None:
        result = self.query_one("#test-result", Static)
        if check.ok:
            result.update(
                f"✓ Connected in {check.latency_ms:.0f} ms, server "
                f"{check.server_version or 'version unknown'}."
            )
            return
        failure = check.failure
        assert failure is not None
        tips = "\n".join(f"  • {tip}" for tip in failure.suggestions)
        result.update(f"✗ {failure.title} ({failure.kind}): {failure.message}\n{tips}")

    def action_save_settings(self) -> None:
        from jtt_tui.config import load_settings
        from jtt_tui.secrets import SecretStoreUnavailable
        from jtt_tui.services.database import save_mongodb_settings

        settings = self.jtt.settings
        read = self._form_config()
        if read is None or settings is None:
            return
        config, _ = read

        def save() -> list[str]:
            changed = save_mongodb_settings(settings, config)
            self.jtt.settings = load_settings()
            return changed

        def done(changed: list[str]) -> None:
            self.query_one("#f-password").value = ""  # type: ignore[attr-defined]
            message = ("Saved: " + ", ".join(changed)) if changed else "Nothing changed."
            self.notify(message + (" The password is in keyring." if config.password else ""))

        def failed(exc: SecretStoreUnavailable) -> None:
            self.query_one(MongoForm).show_errors({"password": str(exc)})

        def run() -> list[str] | SecretStoreUnavailable:
            try:
                return save()
            except SecretStoreUnavailable as exc:
                return exc

        self.background(
            run,
            lambda out: failed(out) if isinstance(out, SecretStoreUnavailable) else done(out),
            group="database-save",
        )

    # -- switching the store live ---------------------------------------------------------

    def action_switch_store(self) -> None:
        from jtt_tui.ui.modals.switch import SwitchModal

        storage = self.jtt.services.storage
        settings = self.jtt.settings
        if settings is None:
            self.notify("Settings are not available in this session.", severity="error")
            return
        if storage.kind == "local":
            config = self._mongodb_target("Enter a MongoDB connection string in the form first.")
            if config is None:
                return
            target, target_name = "mongodb", f"MongoDB at {redact(config.uri)}"
        else:
            config, target, target_name = None, "local", "the local store"
        source = "the local store" if storage.kind == "local" else "MongoDB"
        offline = not storage.online

        def confirmed(copy: bool | None) -> None:
            if copy is not None:
                self._switch(target, config, copy)

        # leaving an unreachable MongoDB: take the cached data and queued changes along
        modal = SwitchModal(source, target_name, copy_default=offline or target == "local")
        self.app.push_screen(modal, confirmed)

    def _switch(self, target: str, config: MongoConfig | None, copy: bool) -> None:
        from jtt_tui.config import load_settings
        from jtt_tui.services.database import switch_backend
        from jtt_tui.storage.errors import StorageError, classify

        settings, storage = self.jtt.settings, self.jtt.services.storage
        assert settings is not None
        info = self.query_one("#storage-info", Static)
        result = self.query_one("#test-result", Static)
        limit = (config or settings.mongodb).server_selection_timeout_ms / 1000
        result.update(
            f"Connecting to {'MongoDB' if target == 'mongodb' else 'the local store'}"
            + (f" (gives up after {limit:.0f} s)" if target == "mongodb" else "")
            + (" and copying your data" if copy else "")
            + "…"
        )
        info.loading = True

        def run() -> Any:
            try:
                return switch_backend(
                    settings,
                    storage,
                    target,  # type: ignore[arg-type]
                    config=config,
                    copy_data=copy,
                    reload=load_settings,
                )
            except StorageError as exc:
                return classify(exc)

        def done(outcome: Any) -> None:
            info.loading = False
            from jtt_tui.storage.errors import StorageFailure

            if isinstance(outcome, StorageFailure):
                tips = "\n".join(f"  • {tip}" for tip in outcome.suggestions)
                result.update(
                    f"✗ Not switched, still on the same store. {outcome.title} "
                    f"({outcome.kind}): {outcome.message}\n{tips}"
                )
                return
            result.update("✓ Switched.")
            self.jtt.connection.switched(outcome)
            self.refresh_data()

        self.background(run, done, group="database-switch")

    def action_migrate(self) -> None:
        from jtt_tui.ui.screens.migrate import MigrateScreen

        storage = self.jtt.services.storage
        if self.jtt.settings is None:
            self.notify("Settings are not available in this session.", severity="error")
            return
        if storage.kind != "local":
            self.app.push_screen(MigrateScreen(target="local"))
            return
        config = self._mongodb_target(
            "Enter the MongoDB connection string to migrate to in the form first."
        )
        if config is None:
            return
        self.app.push_screen(MigrateScreen(target="mongodb", config=config))

    def action_show_conflicts(self) -> None:
        self.jtt.action_show_conflicts()

    # -- export / import ---------------------------------------------------------------

    def action_export_data(self) -> None:
        from jtt_tui.services.data import export_data
        from jtt_tui.ui.modals.path_prompt import PathPrompt

        stamp = to_local(self.jtt.clock.now(), self.jtt.tz).strftime("%Y%m%d-%H%M")
        default = Path.home() / f"jtt-export-{stamp}.json"
        storage = self.jtt.services.storage

        def export(path: Path | None) -> None:
            if path is not None:
                self.background(
                    lambda: export_data(storage, path, "json"),
                    lambda size: self.notify(f"Exported {size:,} bytes to {path}", timeout=8),
                )

        self.app.push_screen(PathPrompt("Export all data to", str(default)), export)

    def action_import_data(self) -> None:
        from jtt_tui.services.data import import_data
        from jtt_tui.ui.modals.confirm import ConfirmModal
        from jtt_tui.ui.modals.path_prompt import PathPrompt

        storage, ledger = self.jtt.services.storage, self.jtt.services.ledger

        def preview(path: Path | None) -> None:
            if path is None:
                return

            def ask(outcome: Any) -> None:
                lines = [
                    f"{kind}: {r.inserted} new, {r.updated} updated, {r.unchanged} "
                    f"unchanged, {r.kept_existing} kept (newer here)"
                    for kind, r in outcome.report.kinds.items()
                    if r.inserted or r.updated or r.unchanged or r.kept_existing
                ]
                notes = [f"• {note}" for note in outcome.notes[:6]]
                question = "\n".join([f"Import {path} ({outcome.parsed.format})?", *lines, *notes])

                def run(yes: bool | None) -> None:
                    if yes:
                        self.background(
                            lambda: import_data(storage, path, ledger=ledger),
                            lambda done: self.changed(f"Imported {done.report.written} records"),
                        )

                self.app.push_screen(ConfirmModal(question, yes="Import"), run)

            self.background(lambda: import_data(storage, path, dry_run=True, ledger=ledger), ask)

        self.app.push_screen(
            PathPrompt("Import from", str(Path.home()) + "/", must_exist=True), preview
        )
