"""The redaction every shown or logged message passes through: credentials
in URIs and options, and every secret value jtt has read (passwords, tokens,
keys), wherever they appear. A module of its own at the package root: the
settings, the log, the keyring helpers, Jira and the stores all use it, and
it depends on nothing of jtt's."""

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
