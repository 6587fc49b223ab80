"""Starting the TUI from the command line: the app paints at once and a boot
worker loads the settings, opens the configured store and builds services."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from typing import Any

from jtt_tui.ui.app import Booted, BootFailed, JttApp


def run_app(
    environ: Mapping[str, str] | None = None, *, debug: bool = False, create_folder: bool = False
) -> int:
    """Run the app; its exit code: 0, 1 after a crash or a store that cannot
    open, 2 for a bad setting (said before anything is drawn). An app that
    asks to open again (new settings: an adopted user id) is run again."""
    while True:
        code, restart = _run_once(environ, debug=debug, create_folder=create_folder)
        if not restart:
            return code


def _run_once(
    environ: Mapping[str, str] | None, *, debug: bool, create_folder: bool
) -> tuple[int, bool]:
    from jtt_tui.config import ConfigError, load_settings
    from jtt_tui.logs import setup_logging

    log_path = setup_logging(debug=debug, environ=environ)
    try:
        settings = load_settings(environ)
    except ConfigError as exc:
        # before the first frame: the terminal is untouched, the line stays readable
        print(f"jtt: configuration error: {exc}", file=sys.stderr)
        return 2, False
    opened: dict[str, Any] = {}

    def boot() -> Booted:
        from jtt_tui.services.container import Services
        from jtt_tui.services.opening import open_storage
        from jtt_tui.storage.errors import MissingStoreFolder, StoreUnavailableError

        try:
            result = open_storage(settings, create_folder=create_folder)
        except MissingStoreFolder as exc:
            raise BootFailed(f"jtt: {exc}", exit_code=1, folder=exc.folder) from None
        except StoreUnavailableError as exc:
            raise BootFailed(f"jtt: {exc}", exit_code=1) from None
        opened["store"], opened["settings"] = result.store, settings
        # MongoDB unreachable: the store opens offline on the cached data and
        # the app shows the recovery modal (result.store.failure says why)
        services = Services.configured(result.store, settings)
        interrupted: str | None = None
        if settings.backend == "mongodb" and result.failure is None:
            # without transactions a change's records are written one by one:
            # finish one an earlier jtt was cut off in the middle of
            from jtt_tui.storage.errors import StorageError

            with contextlib.suppress(StorageError):
                interrupted = services.ledger.complete_interrupted()
        warnings = [*settings.warnings, *result.warnings]
        if interrupted:
            warnings.append(f"Completed a change that was cut off earlier: {interrupted}.")
        adoptable = None
        if settings.backend == "local":
            from jtt_tui.storage.owners import others_if_none_mine, owner_warning

            owners = others_if_none_mine(result.store)
            note = owner_warning(settings.user_id, owners)
            if note and len(owners) == 1:
                adoptable = next(iter(owners.items()))  # asked in a dialog
            elif note:
                warnings.append(note[:1].upper() + note[1:] + ".")
        return Booted(services, settings, warnings, result.store.pending(), adoptable=adoptable)

    app = JttApp(boot=boot, settings=settings, log_path=log_path, debug=debug)
    try:
        app.run()
    finally:
        _tidy_up(opened)
    if app.restart and not app.exit_message:
        return 0, True
    if app.exit_message:
        print(app.exit_message, file=sys.stderr)
    if app.farewell:
        print(app.farewell)
    return app.return_code or 0, False


def _tidy_up(opened: dict[str, Any]) -> None:
    """Back up the local store on the way out (if enabled) and close it."""
    from jtt_tui.services.backup import LocalBackups, local_backend
    from jtt_tui.storage.errors import StorageError

    store, settings = opened.get("store"), opened.get("settings")
    if store is None or settings is None:
        return
    try:
        local = local_backend(store)
        if local is not None and settings.local.backup_enabled:
            LocalBackups(settings.backup_dir).run(local, local.clock.now().astimezone())
    except (OSError, StorageError) as exc:
        from jtt_tui.storage.errors import redact

        print(f"jtt: the backup on quit failed: {redact(str(exc))}", file=sys.stderr)
    finally:
        store.disconnect()
