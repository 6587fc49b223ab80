"""What every command shares: settings, the open store, output, and the one
place that turns any failure into a clear message and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from jtt_tui.storage.errors import StorageError, classify, redact, register_secret

if TYPE_CHECKING:
    from decimal import Decimal

    from jtt_tui.config import Settings
    from jtt_tui.services.container import Services
    from jtt_tui.services.opening import OpenedStorage
    from jtt_tui.storage.base import Storage


class CommandFailed(Exception):
    """A command could not do what was asked; the message says why."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Context:
    def __init__(
        self,
        *,
        debug: bool = False,
        create_folder: bool = False,
        environ: Mapping[str, str] | None = None,
        out: IO[str] | None = None,
        error_stream: IO[str] | None = None,
    ) -> None:
        self.debug = debug
        self.create_folder = create_folder  # --create: make LOCAL_STORE_PATH's folder
        self.environ = environ if environ is not None else os.environ
        self.stdout = out or sys.stdout
        self.stderr = error_stream or sys.stderr
        self._settings: Settings | None = None
        self._opened: OpenedStorage | None = None
        self._services: Services | None = None
        self._number_format: str | None = None

    # -- output ------------------------------------------------------------------------

    def money(self, amount: Decimal, currency: str) -> str:
        """An amount as the app writes it (the billing settings' number format)."""
        from jtt_tui.domain.money import format_money

        if self._number_format is None:
            self._number_format = self.store.get_billing_settings().number_format
        return format_money(amount, currency, self._number_format)

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(f"jtt: {redact(text)}", file=self.stderr)

    # -- settings and store -----------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from jtt_tui.config import load_settings  # pydantic: only when needed

            self._settings = load_settings(self.environ)
            for warning in self._settings.warnings:
                self.err(f"warning: {warning}")
        return self._settings

    def reload_settings(self) -> Settings:
        self._settings = None
        return self.settings

    def opened(self) -> OpenedStorage:
        if self._opened is None:
            from jtt_tui.services.opening import open_session
            from jtt_tui.storage.owners import owner_warning

            self._opened = opened = open_session(self.settings, create_folder=self.create_folder)
            for warning in opened.warnings:
                self.err(f"warning: {warning}")
            note = owner_warning(self.settings.user_id, opened.others)
            if note:
                self.err(f"warning: {note}")
            if opened.completed:
                self.err(f"Completed a change that was cut off earlier: {opened.completed}")
            if opened.failure is not None:
                failure = opened.failure
                self.err(
                    f"MongoDB cannot be reached ({failure.kind}): {failure.message}; working "
                    "offline on the last synced data: changes are queued and sent when it "
                    "is back. Run `jtt doctor` for hints."
                )
        return self._opened

    @property
    def store(self) -> Storage:
        return self.opened().store

    @property
    def services(self) -> Services:
        """The use cases over the store, with the rules the settings ask for."""
        if self._services is None:
            from jtt_tui.services.container import Services

            self._services = Services.configured(self.store, self.settings)
        return self._services

    @property
    def interactive(self) -> bool:
        """Whether a person is at the terminal to answer a question."""
        return self.stdout is sys.stdout and sys.stdin.isatty() and sys.stdout.isatty()

    def say_queued(self) -> None:
        """After a command: if a write could not be confirmed by MongoDB and
        went to the outbox, say so (it is saved on this machine and sent
        when the server answers), so nothing reads as confirmed that is not."""
        if self._opened is None:
            return
        queued = getattr(self._opened.store, "queued_writes", 0)
        if queued:
            self.err(
                "Saved offline: MongoDB did not confirm in time, so this change is kept on "
                "this machine and sent by the next jtt that reaches the server (the app "
                "retries on its own)."
            )

    def close(self) -> None:
        """The local backup if one is due (people who only use the command
        line get the rolling backups too), then disconnect."""
        if self._opened is None:
            return
        from jtt_tui.services.opening import close_session

        self._services = None
        store, self._opened = self._opened.store, None
        failed = close_session(store, self._settings)
        if failed:
            self.err(f"warning: the local backup failed: {failed}")

    # -- failures ---------------------------------------------------------------------

    def report(self, exc: BaseException) -> int:
        """Print one clear line (plus hints where useful) and return the exit
        code. Nothing here ever prints an unredacted traceback."""
        from pydantic import ValidationError

        from jtt_tui.config import ConfigError
        from jtt_tui.domain.errors import DomainError
        from jtt_tui.domain.validation import explain

        if isinstance(exc, SystemExit):
            return int(exc.code or 0)
        import logging

        logging.getLogger("jtt_tui.cli").warning(
            "command failed: %s: %s", type(exc).__name__, exc, exc_info=self.debug
        )
        if isinstance(exc, ConfigError):
            self.err(f"configuration error: {exc}")
            return 2
        if isinstance(exc, CommandFailed):
            self.err(str(exc))
            return exc.exit_code
        if isinstance(exc, ValidationError):
            self.err(explain(exc))
            return 1
        if isinstance(exc, StorageError):
            failure = classify(exc)
            self.err(failure.message)
            for tip in failure.suggestions[:2]:
                print(f"  hint: {tip}", file=self.stderr)
            return 1
        from jtt_tui.jira.client import JiraError

        if isinstance(exc, JiraError):
            self.err(str(exc))
            return 1
        if isinstance(exc, DomainError | ValueError):
            self.err(str(exc))
            return 1
        if isinstance(exc, OSError):
            self.err(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
            return 1
        self.err(f"unexpected error: {type(exc).__name__}: {exc}")
        if self.debug:
            import traceback

            print(redact("".join(traceback.format_exception(exc))), file=self.stderr)
        else:
            print("  run again with --debug for details", file=self.stderr)
        return 1


def read_secret(prompt: str, *, strip: bool = False) -> str:
    """A secret from the terminal (not echoed) or standard input (without
    its line end; ``strip``: without any surrounding blanks), registered for
    redaction before anything can print it."""
    if sys.stdin.isatty():
        import getpass

        secret = getpass.getpass(prompt)
    else:
        secret = sys.stdin.read().rstrip("\r\n")
    if strip:
        secret = secret.strip()
    register_secret(secret)
    return secret


def arg(args: Any, name: str, default: Any = None) -> Any:
    return getattr(args, name, default)
