"""Starting the TUI from the command line: the app paints at once and a boot
worker loads the settings, opens the configured store and builds services."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from jtt_tui.ui.app import Booted, BootFailed, JttApp

if TYPE_CHECKING:
    from textual.pilot import Pilot

    AutoPilot = Callable[[Pilot[Any]], Coroutine[Any, Any, None]]


def run_app(
    environ: Mapping[str, str] | None = None,
    *,
    debug: bool = False,
    create_folder: bool = False,
    auto_pilot: AutoPilot | None = None,
) -> int:
    """Run the app; its exit code: 0, 1 after a crash or a store that cannot
    open, 2 for a bad setting (said before anything is drawn). An app that
    asks to open again (new settings: an adopted user id) is run again.
    ``auto_pilot``: run without a terminal, driven by it (the command
    server's rehearsal, ``cmdserver.warm_up``)."""
    while True:
        code, restart = _run_once(
            environ, debug=debug, create_folder=create_folder, auto_pilot=auto_pilot
        )
        if not restart:
            return code


def _run_once(
    environ: Mapping[str, str] | None,
    *,
    debug: bool,
    create_folder: bool,
    auto_pilot: AutoPilot | None = None,
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
        from jtt_tui.services.opening import open_session
        from jtt_tui.storage.errors import MissingStoreFolder, StoreUnavailableError
        from jtt_tui.storage.owners import owner_warning

        try:
            result = open_session(settings, create_folder=create_folder)
        except MissingStoreFolder as exc:
            raise BootFailed(f"jtt: {exc}", exit_code=1, folder=exc.folder) from None
        except StoreUnavailableError as exc:
            raise BootFailed(f"jtt: {exc}", exit_code=1) from None
        opened["store"] = result.store
        # MongoDB unreachable: the store opens offline on the cached data and
        # the app shows the recovery modal (result.store.failure says why)
        services = Services.configured(result.store, settings)
        warnings = [*settings.warnings, *result.warnings]
        if result.completed:
            warnings.append(f"Completed a change that was cut off earlier: {result.completed}.")
        adoptable = None
        note = owner_warning(settings.user_id, result.others)
        if note and len(result.others) == 1:
            adoptable = next(iter(result.others.items()))  # asked in a dialog
        elif note:
            warnings.append(note[:1].upper() + note[1:] + ".")
        return Booted(services, settings, warnings, result.store.pending(), adoptable=adoptable)

    app = JttApp(boot=boot, settings=settings, log_path=log_path, debug=debug)
    try:
        if auto_pilot is None:
            app.run()
        else:
            app.run(headless=True, size=(100, 30), auto_pilot=auto_pilot)
    finally:
        if "store" in opened:  # the backup on quit (if enabled), then close
            from jtt_tui.services.opening import close_session

            failed = close_session(opened["store"], settings, backup_now=True)
            if failed:
                print(f"jtt: the backup on quit failed: {failed}", file=sys.stderr)
    if app.restart and not app.exit_message:
        return 0, True
    if app.exit_message:
        print(app.exit_message, file=sys.stderr)
    if app.farewell:
        print(app.farewell)
    return app.return_code or 0, False
