"""Turning field encryption on, rotating its key, turning it off.

Each of these is one resumable job: the settings are changed first (the new
active key, ``reencrypt_pending``), then every store this machine uses is
brought in line (records whose encrypted fields are not all under the active
key are written back, unchanged, in batches), and the pending flag is
cleared last. Killed halfway, the job is simply run again: values already
sealed with the active key are skipped, every other one is still readable
with the key it was sealed with (old keys are kept: backups need them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jtt_tui.storage.crypto import (
    ACTIVE_KEY_SECRET,
    ENV_KEY,
    KEYRING_PREFIX,
    SEALED_COLLECTIONS,
    FieldCipher,
    encode_key,
    key_id_of,
)
from jtt_tui.storage.errors import StorageError, StoreUnavailableError
from jtt_tui.storage.kinds import ALL_KINDS, JOURNAL

if TYPE_CHECKING:
    from jtt_tui.config import Settings

KINDS = {kind.name: kind for kind in (*ALL_KINDS, JOURNAL)}
Progress = Callable[[str, str, int, int], None]  # store label, collection, done, total


@dataclass
class StoreScan:
    """What one store holds in its encrypted fields."""

    label: str
    by_key: dict[str, int] = field(default_factory=dict)  # sealed values per key id
    plain: int = 0  # non-empty values stored in clear
    stale: dict[str, list[str]] = field(default_factory=dict)  # collection -> keys to rewrite

    @property
    def stale_count(self) -> int:
        return sum(len(keys) for keys in self.stale.values())


@dataclass
class JobResult:
    active: str | None
    rewritten: dict[str, int] = field(default_factory=dict)  # store label -> records


def _camel(store: Any) -> bool:
    return getattr(store, "kind", "") == "mongodb"


def scan(label: str, store: Any, cipher: FieldCipher) -> StoreScan:
    """Count sealed/plain values and list the records not in line with
    ``cipher`` (one read per collection, unopened documents)."""
    result = StoreScan(label)
    camel = _camel(store)
    for collection in SEALED_COLLECTIONS:
        stale = []
        for key, doc in store.raw_records(KINDS[collection]):
            for kid in cipher.sealed_key_ids(collection, doc, camel=camel):
                result.by_key[kid] = result.by_key.get(kid, 0) + 1
            result.plain += cipher.plain_count(collection, doc, camel=camel)
            if cipher.needs_rewrite(collection, doc, camel=camel):
                stale.append(key)
        if stale:
            result.stale[collection] = stale
    return result


def bring_in_line(
    label: str, store: Any, cipher: FieldCipher, progress: Progress | None = None
) -> int:
    """Rewrite every record of ``store`` not yet under ``cipher``'s active key
    (or, with encryption off, still sealed). Returns the records rewritten."""
    store.cipher = cipher
    found = scan(label, store, cipher)
    done = 0
    for collection, keys in found.stale.items():
        kind = KINDS[collection]
        step = 200
        for start in range(0, len(keys), step):
            done += store.rewrite_records(kind, keys[start : start + step])
            if progress is not None:
                progress(label, collection, min(start + step, len(keys)), len(keys))
    return done


@contextmanager
def _stores(settings: Settings, cipher: FieldCipher) -> Iterator[list[tuple[str, Any, Any]]]:
    """(label, store, mirror or None) of every store this machine uses:
    the local file when it exists, MongoDB when configured in use (it must be
    reachable: its data cannot be re-encrypted from here otherwise)."""
    from jtt_tui.storage.factory import local_store, mirror_path, mongo_store, open_mirror

    opened: list[Any] = []
    stores: list[tuple[str, Any, Any]] = []
    try:
        if settings.store_path.exists():
            local = local_store(settings, cipher=cipher)
            local.connect()
            opened.append(local)
            stores.append((f"local store {settings.store_path}", local, None))
        use_mongo = settings.mongodb.enabled or settings.mongodb.dual_write != "off"
        if use_mongo and settings.mongodb.uri:
            remote = mongo_store(settings, cipher=cipher)
            try:
                remote.connect()
            except StorageError as exc:
                raise StoreUnavailableError(
                    f"MongoDB must be reachable to re-encrypt its data, and it is not: {exc}. "
                    "Nothing was changed there; run the command again when it is back"
                ) from None
            opened.append(remote)
            mirror = None
            if mirror_path(settings).exists():
                mirror = open_mirror(settings, cipher=cipher)
                opened.append(mirror)
            stores.append((f"MongoDB {remote.location}", remote, mirror))
        yield stores
    finally:
        for store in opened:
            store.disconnect()


def run_job(settings: Settings, cipher: FieldCipher, progress: Progress | None = None) -> JobResult:
    """Bring every store in line with ``cipher``; the caller has saved the
    settings that name its key (and the pending flag) before."""
    result = JobResult(cipher.active)
    with _stores(settings, cipher) as stores:
        for label, store, mirror in stores:
            result.rewritten[label] = bring_in_line(label, store, cipher, progress)
            if mirror is not None:
                # the offline copy: rewritten whole from the server's state,
                # then what it keeps besides (its copy of the undo journal)
                mirror.refresh_from(store.export_all())
                bring_in_line(label, mirror, cipher)
                mirror.compact()
            if hasattr(store, "compact"):
                store.compact()  # no old text left in free pages or the log
    return result


def scan_all(settings: Settings, cipher: FieldCipher) -> list[StoreScan]:
    with _stores(settings, cipher) as stores:
        return [scan(label, store, cipher) for label, store, _mirror in stores]


# -- keys ------------------------------------------------------------------------------


def save_key_to_keyring(secret: bytes) -> str:
    """Store a key under its id (raises SecretStoreUnavailable without a
    keyring). Returns the id."""
    from jtt_tui.secrets import set_secret

    kid = key_id_of(secret)
    set_secret(KEYRING_PREFIX + kid, encode_key(secret))
    set_secret(ACTIVE_KEY_SECRET, kid)
    return kid


def env_hint() -> str:
    return (
        f"no keyring on this machine: create a key with `jtt keys generate`, put it in "
        f"{ENV_KEY} (environment or a 0600 .env file) and run the command again"
    )
