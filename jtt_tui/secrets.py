"""Credentials in the system keyring (service ``jtt``), never in files.

keyring is imported only when a secret is actually needed: it is slow to
import and most commands never touch a secret. On a host without a usable
backend (a bare SSH server: no D-Bus, no Secret Service) saving a secret fails
with the alternatives spelled out; nothing is ever written in plain text
behind the user's back.
"""

from __future__ import annotations

from jtt_tui.redaction import redact, register_secret

SERVICE = "jtt"
MONGODB_PASSWORD = "mongodb-password"

NO_KEYRING_HELP = (
    "No usable keyring on this machine (common over SSH: no desktop Secret Service). "
    "Either set MONGODB_PASSWORD in the environment or in a .env file (mode 0600), "
    "or install a file-based backend and select it: "
    "`pip install keyrings.alt` then "
    "`export PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring`."
)


class SecretStoreUnavailable(Exception):
    """No keyring backend can hold the secret; the message lists what to do."""

    def __init__(self, detail: str = "") -> None:
        message = NO_KEYRING_HELP
        if detail:
            message = f"{NO_KEYRING_HELP} ({redact(detail)})"
        super().__init__(message)


def backend_name() -> str:
    """The keyring backend in use, e.g. ``SecretService Keyring`` or
    ``fail Keyring`` when there is none."""
    import keyring

    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def keyring_usable() -> bool:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return False
    chained = getattr(backend, "backends", None)
    return chained is None or len(chained) > 0


def set_secret(name: str, value: str) -> None:
    """Store ``value`` under ``name``; raises SecretStoreUnavailable when no
    keyring can hold it."""
    import keyring
    from keyring.errors import KeyringError

    if not keyring_usable():
        raise SecretStoreUnavailable()
    try:
        keyring.set_password(SERVICE, name, value)
    except KeyringError as exc:
        raise SecretStoreUnavailable(str(exc)) from None
    register_secret(value)


def get_secret(name: str) -> str | None:
    """The stored secret, or None if there is none or no keyring."""
    import keyring
    from keyring.errors import KeyringError

    try:
        value = keyring.get_password(SERVICE, name)
    except KeyringError:
        return None
    if value:
        register_secret(value)
    return value


def delete_secret(name: str) -> bool:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        return False
    except KeyringError:
        return False
    return True
