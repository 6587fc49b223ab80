"""The log file: what jtt did and what went wrong, for when someone asks
"what happened yesterday at 3?". One rotating, size-capped file in the
platform's log folder (``JTT_LOG_DIR`` moves it), created 0600 in a 0700
folder; every line passes through redaction, whoever logged it (the driver
included). ``jtt --debug`` logs in detail."""

from __future__ import annotations

import logging
import logging.handlers
import os
from collections.abc import Mapping
from pathlib import Path

from jtt_tui.files import ensure_private_dir
from jtt_tui.redaction import redact

LOG_NAME = "jtt.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Replaces each record's message with its redacted text (arguments
    merged first, so a password passed as an argument is caught too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.msg = f"{record.msg}\n{redact(text)}"
            record.exc_info = None
            record.exc_text = None
        return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotating file whose every file is created readable by the user only."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


def log_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("JTT_LOG_DIR"):
        return Path(env["JTT_LOG_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_log_dir("jtt", appauthor=False))


def stop_logging() -> None:
    """Close the log file (the command server, after its rehearsal: each
    command sets up its own)."""
    for logger in (logging.getLogger("jtt_tui"), logging.getLogger("pymongo")):
        for old in [h for h in logger.handlers if isinstance(h, PrivateRotatingFileHandler)]:
            logger.removeHandler(old)
            old.close()


def setup_logging(*, debug: bool = False, environ: Mapping[str, str] | None = None) -> Path | None:
    """Send jtt's (and the MongoDB driver's warnings') log records to the
    file. Returns its path, or None when the folder cannot be written (jtt
    works the same without a log)."""
    folder = log_dir(environ)
    path = folder / LOG_NAME
    root, driver = logging.getLogger("jtt_tui"), logging.getLogger("pymongo")
    stop_logging()
    try:
        ensure_private_dir(folder)
        handler = PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    # the driver's warnings only: its debug output holds whole documents (user data)
    driver.addHandler(handler)
    driver.setLevel(logging.WARNING)
    return path
