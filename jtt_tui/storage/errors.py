"""Storage errors: what failed, classified in terms a person can act on."""

from __future__ import annotations

import errno
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# (redact and register_secret are used here and, for older imports, found here)
from jtt_tui.redaction import REDACTED, redact, register_secret  # noqa: F401


class StorageError(Exception):
    """A storage operation failed; the message is safe to show (redacted)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class ConflictError(StorageError):
    """A save carried a stale version: someone else changed the record first.
    Reload it, re-apply the change and save again (never overwrite blindly)."""

    def __init__(
        self,
        collection: str,
        key: str,
        expected: int,
        actual: int | None,
        *,
        detail: str | None = None,
    ) -> None:
        self.collection = collection
        self.key = key
        self.expected = expected
        self.actual = actual
        if detail is None:
            detail = _conflict_detail(expected, actual)
        super().__init__(f"{collection} {key}: not saved, {detail}")


def _conflict_detail(expected: int, actual: int | None) -> str:
    if actual is None:
        return "it was deleted elsewhere"
    if expected == 0:
        return f"it already exists (version {actual})"
    return f"it was changed elsewhere (you had version {expected}, it is now {actual})"


class NotFoundError(StorageError):
    def __init__(self, collection: str, key: str) -> None:
        self.collection = collection
        self.key = key
        super().__init__(f"{collection} {key} does not exist")


class InvalidChangeError(StorageError):
    """An update named a field that does not exist or may not be changed."""


class SchemaTooNewError(StorageError):
    """The store was written by a newer jtt than this one."""


class StoreUnavailableError(StorageError):
    """The store could not be reached or opened (the message says why)."""


class MissingStoreFolder(StoreUnavailableError):
    """LOCAL_STORE_PATH names a file in a folder that does not exist: a
    typo more likely than a wish; made only when the user says so."""

    def __init__(self, message: str, folder: Path) -> None:
        super().__init__(message)
        self.folder = folder


class MissingCredentialsError(StoreUnavailableError):
    """A database user is configured but no password was found for it."""


class SettingsIncompleteError(StoreUnavailableError):
    """The settings lack something the store needs (e.g. a connection string)."""


# -- classification ---------------------------------------------------------------

FailureKind = Literal[
    "network", "timeout", "auth", "config", "tls", "permission", "conflict", "disk", "unknown"
]

SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "network": (
        "Check that the MongoDB server is running and that its host and port in the URI are right.",
        "On Atlas, add this machine's IP address under Network Access.",
        "Check the VPN, proxy or firewall between this machine and the server.",
        "Work offline meanwhile: jtt keeps your changes and sends them when it is back.",
    ),
    "timeout": (
        "The server could not be reached in time: check the network, or raise "
        "MONGODB_SERVER_SELECTION_TIMEOUT_MS.",
        "On Atlas, a missing IP access-list entry looks like a timeout: check Network Access.",
        "A paused Atlas cluster can take a minute to resume.",
    ),
    "auth": (
        "Check the user name and password (`jtt db configure --username U --password-stdin`).",
        "Check authSource: a user created in the admin database needs MONGODB_AUTH_SOURCE=admin.",
        "On Atlas, use a database user (Database Access), not your Atlas login.",
    ),
    "config": (
        "Check the connection string: mongodb://host:port or mongodb+srv://cluster.example.net.",
        "A mongodb+srv:// host must be a DNS name with SRV records (e.g. "
        "cluster0.abcde.mongodb.net).",
        "Run `jtt doctor` to see the settings in use.",
    ),
    "tls": (
        "Check the server certificate and MONGODB_TLS_CA_FILE (the CA that signed it).",
        "For a local server without TLS, set MONGODB_SSL=false.",
        "Make sure this machine's clock is right: certificates have validity dates.",
    ),
    "permission": (
        "The user signed in but may not use this database: grant it readWrite on it.",
        "Check MONGODB_DATABASE names the database the user was given access to.",
    ),
    "conflict": (
        "Someone else changed this record first: reload it and apply your change again.",
        "Nothing was overwritten; both versions are kept until you choose.",
    ),
    "disk": (
        "Check free space on the disk that holds the local store.",
        "Check that the store file and its folder are writable by you.",
        "If another jtt process is busy with the file, wait a moment and retry.",
    ),
    "unknown": (
        "Try again; if it keeps failing, run `jtt doctor`.",
        "Run with --debug and look at the log for details.",
    ),
}

TITLES: dict[str, str] = {
    "network": "Cannot reach the database server",
    "timeout": "The database server did not answer in time",
    "auth": "The database refused the credentials",
    "config": "The database settings are not valid",
    "tls": "The secure (TLS) connection failed",
    "permission": "Not allowed to use this database",
    "conflict": "Changed elsewhere at the same time",
    "disk": "The local store cannot be written",
    "unknown": "The database operation failed",
}

_RECOVERABLE = {"network", "timeout", "conflict", "unknown"}

# the server was reached, but one operation outlasted its time limit (a
# throttled Atlas tier, a slow link, a big write): another hint than "cannot
# be reached"
OPERATION_TIMEOUT_SUGGESTIONS: tuple[str, ...] = (
    "One database operation took longer than its time limit: raise "
    "MONGODB_SOCKET_TIMEOUT_MS (the time limit of each operation, in milliseconds; "
    "e.g. 30000).",
    "Atlas's shared tiers (M0/M2/M5) cap operations per second, and a slow link makes big "
    "writes slow: a dedicated tier or a closer region helps.",
    "Nothing was lost: what was written is kept, and running it again completes it.",
)


@dataclass(frozen=True)
class StorageFailure:
    """What went wrong, in terms a person can act on. ``message`` is redacted."""

    kind: FailureKind
    message: str
    recoverable: bool
    suggestions: tuple[str, ...]

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def describe(self) -> str:
        """Title, message and suggestions as plain text lines."""
        lines = [f"{self.title}: {self.message}"]
        lines += [f"  - {tip}" for tip in self.suggestions]
        return "\n".join(lines)


def failure(kind: FailureKind, message: str, *, recoverable: bool | None = None) -> StorageFailure:
    return StorageFailure(
        kind=kind,
        message=redact(message),
        recoverable=kind in _RECOVERABLE if recoverable is None else recoverable,
        suggestions=SUGGESTIONS[kind],
    )


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


_NOISE = (
    re.compile(r",? ?Timeout: [\d.]+s, Topology Description: .*$", re.S),
    re.compile(r" \(configured timeouts: [^)]*\)"),
)


def concise(text: str) -> str:
    """A driver message without its diagnostics dump (pymongo appends the
    whole topology description to a server-selection timeout)."""
    for pattern in _NOISE:
        text = pattern.sub("", text)
    return text.strip()


def classify(exc: BaseException) -> StorageFailure:
    """Map any driver / OS / storage exception to a :class:`StorageFailure`.
    The innermost known cause decides (a StorageError wrapping a pymongo
    error is classified by the pymongo error)."""
    message = concise(str(exc))
    for cause in reversed(_chain(exc)):
        kind = _kind_of(cause)
        if kind is not None:
            recoverable = None
            if kind == "disk":
                recoverable = _is_transient_disk(cause)
            found = failure(kind, message, recoverable=recoverable)
            if kind == "timeout" and is_operation_timeout(exc):
                from dataclasses import replace

                found = replace(found, suggestions=OPERATION_TIMEOUT_SUGGESTIONS)
            return found
    return failure("unknown", message)


def is_operation_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is one operation outlasting its time
    limit on a server that was reached — not a server that could not be
    found (server selection). Splitting a write in smaller ones helps here."""
    errors = sys.modules.get("pymongo.errors")
    if errors is None:
        return False
    # the driver's own "operation cancelled": the time limit ran out between
    # two round trips of one operation
    cancelled = getattr(errors, "_OperationCancelled", errors.NetworkTimeout)
    for cause in _chain(exc):
        if isinstance(cause, errors.ServerSelectionTimeoutError):
            return False
        if isinstance(
            cause,
            errors.NetworkTimeout | errors.ExecutionTimeout | errors.WTimeoutError | cancelled,
        ):
            return True
        if isinstance(cause, errors.OperationFailure) and cause.code in (50, 262):
            return True
    return False


_TLS_WORDS = ("ssl", "tls", "certificate", "handshake")
_NETWORK_WORDS = (
    "connection refused",
    "connection reset",
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no route to host",
    "network is unreachable",
    "getaddrinfo failed",
    "connection closed",
    "broken pipe",
    "errno 111",
    "errno 104",
    "errno -2",
    "errno -3",
)


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in words)


def _kind_of(exc: BaseException) -> FailureKind | None:
    if isinstance(exc, ConflictError):
        return "conflict"
    if isinstance(exc, MissingCredentialsError):
        return "auth"
    if isinstance(exc, SettingsIncompleteError):
        return "config"
    kind = _pymongo_kind(exc)
    if kind is not None:
        return kind
    if isinstance(exc, sqlite3.Error):
        return "disk"
    # ssl/socket are only checked if something already imported them
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return "tls"
    socket = sys.modules.get("socket")
    if socket is not None and isinstance(exc, socket.gaierror):
        return "network"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionError):
        return "network"
    if isinstance(exc, OSError) and exc.errno in (
        errno.ENOSPC,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EDQUOT,
        errno.EIO,
    ):
        return "disk"
    return None


def _pymongo_kind(exc: BaseException) -> FailureKind | None:
    errors = sys.modules.get("pymongo.errors")
    if errors is None or not isinstance(exc, errors.PyMongoError):
        return None  # pymongo never loaded: this cannot be one of its errors
    text = str(exc)
    if isinstance(exc, errors.InvalidURI | errors.ConfigurationError):
        return "config"
    if isinstance(exc, errors.DuplicateKeyError):
        return "conflict"
    if isinstance(exc, errors.OperationFailure):
        code = exc.code
        if code in (18, 8000) or "authentication failed" in text.lower():
            return "auth"
        if code == 13:
            return "auth" if "requires authentication" in text.lower() else "permission"
        if code in (50, 262):  # MaxTimeMSExpired, ExceededTimeLimit
            return "timeout"
        if code in (11000, 112):  # duplicate key, write conflict
            return "conflict"
        return None
    if isinstance(exc, errors.ExecutionTimeout | errors.WTimeoutError):
        return "timeout"
    if isinstance(exc, errors.ConnectionFailure):
        if _mentions(text, _TLS_WORDS):
            return "tls"
        if _mentions(text, _NETWORK_WORDS):
            return "network"
        if isinstance(exc, errors.ServerSelectionTimeoutError | errors.NetworkTimeout) or (
            "timed out" in text.lower()
        ):
            return "timeout"
        return "network"
    return None


def _is_transient_disk(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text
