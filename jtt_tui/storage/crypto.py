"""Optional field encryption: free text that may hold client secrets is
sealed with AES-256-GCM before it leaves the process, on every backend.

A sealed value replaces the plain string in the stored record with a small
object ``{"jtt_enc": 1, "kid": <key id>, "data": <base64 nonce+ciphertext>}``
(a plain value is always a string, so the two can never be confused, whatever
a user types). Each value gets a fresh random 96-bit nonce; the associated
data is the record's identity, ``collection / key / field``, so a ciphertext
copied onto another record or another field fails authentication instead of
decrypting to someone else's text.

Sealing and opening happen on the raw stored form (JSON for SQLite, BSON
documents for MongoDB), below the models: a model never sees a ciphertext,
and an export is the user's data, decrypted.

Keys are 32 random bytes, named by a key id derived from the key itself (the
same key gives the same id on every machine). They come from
``JTT_DATA_KEY`` (standard base64; several separated by commas, the first
one encrypts) or from the keyring (``data-key:<id>``). Lookups are lazy: with
encryption off and no sealed value around, the keyring is never touched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic.alias_generators import to_camel

from jtt_tui.storage.errors import StorageError, register_secret

ENC_TAG = "jtt_enc"
ENC_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
KEYRING_PREFIX = "data-key:"
ACTIVE_KEY_SECRET = "data-key-active"
ENV_KEY = "JTT_DATA_KEY"

# Which fields are sealed, per collection (paths in the snake_case names of
# the models; MongoDB documents use the camelCase of each part).
ENCRYPTED_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sessions": (("description",), ("notes",)),
    "manual_tasks": (("description",),),
    "projects": (("client", "email"), ("client", "address")),
    "invoices": (("notes",),),
    "billing_settings": (("bank_details",),),
}
# The undo journal keeps copies of those records: sealed the same way.
JOURNAL = "journal"
SEALED_COLLECTIONS = (*ENCRYPTED_FIELDS, JOURNAL)


class EncryptionError(StorageError):
    """A sealed value could not be opened or a key is unusable; the message
    names the record, the field and the key id, never the value."""


class KeyUnavailableError(EncryptionError):
    def __init__(self, message: str, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(message)


class KeyFormatError(EncryptionError):
    pass


def key_id_of(secret: bytes) -> str:
    """A stable public name for a key (not reversible to the key)."""
    return hashlib.sha256(b"jtt data key id\x00" + secret).hexdigest()[:16]


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encode_key(secret: bytes) -> str:
    return base64.b64encode(secret).decode("ascii")


def parse_key(text: str, *, source: str = ENV_KEY) -> bytes:
    """One key in standard base64; anything else is refused with the fix."""
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != KEY_BYTES:
        raise KeyFormatError(
            f"{source} must be standard base64 of {KEY_BYTES} random bytes (44 characters "
            "ending in '='); create one with `jtt keys generate`"
        )
    return secret


def parse_env_keys(value: str | None) -> list[bytes]:
    if not value or not value.strip():
        return []
    keys = [parse_key(part) for part in value.split(",") if part.strip()]
    for secret in keys:
        register_secret(encode_key(secret))
    return keys


def keyring_key(kid: str) -> bytes | None:
    from jtt_tui.secrets import get_secret

    text = get_secret(KEYRING_PREFIX + kid)
    if not text:
        return None
    try:
        secret = parse_key(text, source=f"the keyring entry {KEYRING_PREFIX}{kid}")
    except KeyFormatError:
        return None
    return secret if key_id_of(secret) == kid else None


@dataclass
class KeyProvider:
    """Where keys come from: the environment first, then (lazily) keyring."""

    env_keys: list[bytes] = field(default_factory=list)
    keyring_lookup: Callable[[str], bytes | None] | None = keyring_key
    _cache: dict[str, bytes | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for secret in self.env_keys:
            self._cache[key_id_of(secret)] = secret

    @property
    def env_key_ids(self) -> list[str]:
        return [key_id_of(secret) for secret in self.env_keys]

    def get(self, kid: str) -> bytes | None:
        if kid not in self._cache:
            self._cache[kid] = self.keyring_lookup(kid) if self.keyring_lookup else None
        return self._cache[kid]

    def remember(self, secret: bytes) -> str:
        kid = key_id_of(secret)
        self._cache[kid] = secret
        return kid


def _aad(collection: str, key: str, path: tuple[str, ...]) -> bytes:
    return "\x00".join(("jtt/v1", collection, key, ".".join(path))).encode()


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and ENC_TAG in value


class FieldCipher:
    """Seals and opens the encrypted fields of stored records.

    ``active`` is the id of the key new values are sealed with; None means
    encryption is off for writes (sealed values are still opened, so data
    written elsewhere with encryption on stays readable given its key)."""

    def __init__(self, provider: KeyProvider | None = None, active: str | None = None) -> None:
        self.provider = provider or KeyProvider(keyring_lookup=None)
        self.active = active
        self._aead: dict[str, Any] = {}
        if active is not None and self.provider.get(active) is None:
            raise self._missing(active, "encrypt new data")

    @property
    def enabled(self) -> bool:
        return self.active is not None

    def encrypts(self, collection: str) -> bool:
        return self.enabled and collection in SEALED_COLLECTIONS

    # -- one value ---------------------------------------------------------------------

    def seal_value(self, aad: bytes, text: str) -> dict[str, Any]:
        assert self.active is not None
        aead = self._aead_for(self.active)
        assert aead is not None
        nonce = os.urandom(NONCE_BYTES)
        sealed = aead.encrypt(nonce, text.encode("utf-8"), aad)
        return {
            ENC_TAG: ENC_VERSION,
            "kid": self.active,
            "data": base64.b64encode(nonce + sealed).decode("ascii"),
        }

    def open_value(self, aad: bytes, value: Mapping[str, Any], where: str) -> str:
        from cryptography.exceptions import InvalidTag

        kid = value.get("kid")
        data = value.get("data")
        if value.get(ENC_TAG) != ENC_VERSION or not isinstance(kid, str):
            raise EncryptionError(
                f"{where}: the encrypted value has an unknown format (written by a newer jtt?)"
            )
        aead = self._aead_for(kid)
        if aead is None:
            raise self._missing(kid, f"read {where}")
        try:
            raw = base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) < NONCE_BYTES + 16:
            raise EncryptionError(f"{where}: the encrypted value is damaged (too short)")
        try:
            plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
        except InvalidTag:
            raise EncryptionError(
                f"{where}: the encrypted value (key {kid}) failed its integrity check: it was "
                "altered, or copied from another record or field; restore it from a backup"
            ) from None
        return plain.decode("utf-8")

    def _aead_for(self, kid: str) -> Any:
        """The AES-GCM object of a key (made once per key), or None."""
        if kid not in self._aead:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            secret = self.provider.get(kid)
            if secret is None:
                return None
            self._aead[kid] = AESGCM(secret)
        return self._aead[kid]

    def _missing(self, kid: str, purpose: str) -> KeyUnavailableError:
        have = ", ".join(self.provider.env_key_ids) or "none"
        return KeyUnavailableError(
            f"cannot {purpose}: it needs data key {kid}, which this machine does not have "
            f"(keys from {ENV_KEY}: {have}). Put that key in {ENV_KEY} (standard base64) or "
            f"in the keyring with `jtt keys import --stdin`; `jtt keys status` shows the keys "
            "this machine has",
            kid,
        )

    # -- whole records -------------------------------------------------------------------

    def seal(self, collection: str, key: str, doc: dict[str, Any], *, camel: bool) -> None:
        """Seal the encrypted fields of ``doc`` (a fresh dict) in place."""
        if not self.encrypts(collection):
            return
        for aad, _where, parent, name in _sealable(collection, key, doc, camel):
            value = parent.get(name)
            if isinstance(value, str) and value:
                parent[name] = self.seal_value(aad, value)

    def open(self, collection: str, doc: dict[str, Any], key_field: str, *, camel: bool) -> None:
        """Open every sealed field of ``doc`` in place (whatever the setting)."""
        key = str(doc.get(key_field, ""))
        for aad, where, parent, name in _sealable(collection, key, doc, camel):
            value = parent.get(name)
            if is_sealed(value):
                parent[name] = self.open_value(aad, value, where)

    def needs_rewrite(self, collection: str, doc: Mapping[str, Any], *, camel: bool) -> bool:
        """Whether a stored record has a field not sealed with the active key
        (or, with encryption off, any sealed field)."""
        for _aad, _where, parent, name in _sealable(collection, "", doc, camel):
            value = parent.get(name)
            if is_sealed(value):
                if value.get("kid") != self.active:
                    return True
            elif self.enabled and isinstance(value, str) and value:
                return True
        return False

    def plain_count(self, collection: str, doc: Mapping[str, Any], *, camel: bool) -> int:
        """How many encrypted fields of a stored record hold clear text."""
        return sum(
            1
            for _aad, _where, parent, name in _sealable(collection, "", doc, camel)
            if isinstance(parent.get(name), str) and parent.get(name)
        )

    def sealed_key_ids(self, collection: str, doc: Mapping[str, Any], *, camel: bool) -> list[str]:
        """The key id of each sealed value of a stored record."""
        return [
            str(parent[name].get("kid"))
            for _aad, _where, parent, name in _sealable(collection, "", doc, camel)
            if is_sealed(parent.get(name))
        ]


def _fields(
    collection: str, doc: Mapping[str, Any], camel: bool
) -> Iterator[tuple[tuple[str, ...], Any, str]]:
    """(snake path, the dict holding the field, its stored name) of each
    encrypted field present in ``doc``."""
    for path in ENCRYPTED_FIELDS.get(collection, ()):
        parent: Any = doc
        names = [to_camel(part) if camel else part for part in path]
        for name in names[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and names[-1] in parent:
            yield path, parent, names[-1]


def _sealable(
    collection: str, key: str, doc: Mapping[str, Any], camel: bool
) -> Iterator[tuple[bytes, str, Any, str]]:
    """(associated data, a name for messages, the dict holding the field,
    its stored name) of each encrypted field of a stored record. A journal
    entry holds copies of other records (before and after a change): their
    fields are sealed exactly as in the records themselves."""
    if collection == JOURNAL:
        images = doc.get("images")
        for image in images if isinstance(images, list) else ():
            if not isinstance(image, dict):
                continue
            inner_kind, inner_key = str(image.get("kind", "")), str(image.get("key", ""))
            for side in ("before", "after"):
                inner = image.get(side)
                if isinstance(inner, dict):  # always the snake_case stored form
                    yield from _sealable(inner_kind, inner_key, inner, False)
        return
    for path, parent, name in _fields(collection, doc, camel):
        where = f"{collection.replace('_', ' ')} {key} {'.'.join(path)}"
        yield _aad(collection, key, path), where, parent, name


NO_ENCRYPTION = FieldCipher()


def sealed_marker_in(raw_json: str) -> bool:
    """A cheap test on stored JSON: can it hold a sealed value? (A key named
    ``jtt_enc`` appears only in sealed values; user text cannot produce the
    quoted form unescaped.)"""
    return f'"{ENC_TAG}"' in raw_json
