"""Storage errors and the redaction every shown or logged message passes through."""

from __future__ import annotations

import re
import threading

# user:password@ inside any URI-looking text (mongodb://, mongodb+srv://, http …)
_URI_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<cred>[^@/\s]+)@")
# password=… / pwd=… / token=… in query strings and option dumps
_SECRET_PARAMS = re.compile(
    r"(?i)(?P<name>password|passwd|pwd|secret|token|apikey|api_key)(?P<sep>['\"]?\s*[=:]\s*['\"]?)"
    r"(?P<value>[^&\s'\",}]+)"
)
REDACTED = "***"

_known_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so :func:`redact` removes it from any text."""
    if value and len(value) >= 3:
        with _secrets_lock:
            _known_secrets.add(value)


def redact(text: object) -> str:
    """``text`` with credentials removed: ``user:password@`` in URIs becomes
    ``user:***@``, ``password=…`` options are masked, and every registered
    secret value is replaced wherever it appears."""
    result = str(text)

    def _mask_credentials(match: re.Match[str]) -> str:
        cred = match.group("cred")
        user = cred.split(":", 1)[0] if ":" in cred else cred
        masked = f"{user}:{REDACTED}" if ":" in cred else REDACTED
        return f"{match.group('scheme')}{masked}@"

    result = _URI_CREDENTIALS.sub(_mask_credentials, result)
    result = _SECRET_PARAMS.sub(lambda m: f"{m.group('name')}{m.group('sep')}{REDACTED}", result)
    with _secrets_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        result = result.replace(secret, REDACTED)
    return result


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
