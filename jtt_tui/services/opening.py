"""Opening the configured store: the local file, or MongoDB with its offline
mirror (and, in gradual mode, both), wrapped in the StorageService the
interfaces use. The stores themselves are made in ``storage/factory.py``;
this is the services' side (it knows the StorageService and DualStorage)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jtt_tui.domain.clock import Clock
from jtt_tui.services.storage_service import StorageService
from jtt_tui.storage.base import Storage
from jtt_tui.storage.errors import (
    MissingCredentialsError,
    SettingsIncompleteError,
    StorageError,
    StorageFailure,
    classify,
)
from jtt_tui.storage.factory import (
    cipher_for,
    local_store,
    mongo_store,
    open_mirror,
    refusing_client,
)

if TYPE_CHECKING:
    from jtt_tui.config import Settings


@dataclass
class OpenedStorage:
    store: StorageService
    # set when MongoDB is configured but could not be used (local is in use)
    failure: StorageFailure | None = None
    warnings: list[str] = field(default_factory=list)
    # (open_session) a change an earlier jtt was cut off in, completed now
    completed: str | None = None
    # (open_session) the local store holds no data of this user but these
    # owners' (record counts): settings lost or moved?
    others: dict[str, int] = field(default_factory=dict)

    @property
    def fell_back(self) -> bool:
        return self.failure is not None


def open_storage(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client_factory: Callable[..., Any] | None = None,
    create_folder: bool = False,
) -> OpenedStorage:
    """The configured store, connected and wrapped in a StorageService.

    MongoDB comes with its offline mirror: when the server cannot be reached
    the service starts offline on the last synced data (writes queue in the
    outbox) and ``failure`` says why; queued writes from earlier runs are
    sent as soon as it answers. MongoDB enabled without a URI gives the local
    store and a warning."""
    warnings: list[str] = []
    if settings.mongodb.dual_write != "off":
        return _open_dual(settings, clock=clock, client_factory=client_factory)
    cipher = cipher_for(settings)  # once: it may read the keyring
    if settings.mongodb.enabled and not settings.mongodb.uri:
        warnings.append(
            "MONGODB_ENABLED is true but no MongoDB URI is set: using the local store "
            "(set MONGODB_URI or run `jtt db configure --uri …`)"
        )
    elif settings.mongodb.enabled:
        mirror = open_mirror(settings, clock=clock, cipher=cipher)
        try:
            remote = mongo_store(
                settings, client_factory=client_factory, clock=clock, cipher=cipher
            )
        except MissingCredentialsError as exc:
            # nothing to connect with until the password is configured: a store
            # whose every connection attempt reports exactly that
            from jtt_tui.storage.mongo_store import MongoStore

            remote = MongoStore(
                settings.mongodb.uri,
                settings.mongodb.database,
                user_id=settings.user_id,
                clock=clock,
                client_factory=refusing_client(exc),
            )
        try:
            remote.connect()
        except StorageError as exc:
            failure = classify(exc)
            service = StorageService(remote, mirror=mirror, online=False, failure=failure)
            return OpenedStorage(service, failure=failure, warnings=warnings)
        service = StorageService(remote, mirror=mirror)
        try:
            service.replay()  # writes queued while away reach the server first
        except StorageError as exc:
            service.mark_offline(classify(exc))
        return OpenedStorage(service, failure=service.failure, warnings=warnings)
    local = local_store(settings, clock=clock, cipher=cipher, create_folder=create_folder)
    local.connect()
    return OpenedStorage(StorageService(local), warnings=warnings)


def open_session(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client_factory: Callable[..., Any] | None = None,
    create_folder: bool = False,
) -> OpenedStorage:
    """The configured store as the app and the commands start on it: opened
    (``open_storage``); on MongoDB, a change an earlier jtt was cut off in
    the middle of completed (without transactions its records are written
    one by one); on the local store, whose data it holds when none is this
    user's. Each interface says these in its own way."""
    opened = open_storage(
        settings, clock=clock, client_factory=client_factory, create_folder=create_folder
    )
    if settings.backend == "mongodb" and opened.failure is None:
        from jtt_tui.services.container import ledger_rules
        from jtt_tui.services.ledger import Ledger, LedgerRefused

        with contextlib.suppress(StorageError, LedgerRefused):  # the next start tries again
            ledger = Ledger(opened.store, rules=ledger_rules(settings))
            opened.completed = ledger.complete_interrupted()
    elif settings.backend == "local":
        from jtt_tui.storage.owners import others_if_none_mine

        with contextlib.suppress(StorageError):  # said next time (or `jtt user show`)
            opened.others = others_if_none_mine(opened.store)
    return opened


def close_session(
    store: Storage, settings: Settings | None, *, backup_now: bool = False
) -> str | None:
    """Leave the store: the local backup when one is due (or now, on
    quitting the app), then disconnect, whatever happens. A failed backup
    is returned in words (redacted) for the interface to say."""
    from jtt_tui.redaction import redact
    from jtt_tui.services.backup import back_up_local

    try:
        if settings is not None:
            now = store.clock.now().astimezone()
            back_up_local(store, settings, now, only_if_due=not backup_now)
    except (OSError, StorageError) as exc:
        return redact(str(exc))
    finally:
        store.disconnect()
    return None


def _open_dual(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client_factory: Callable[..., Any] | None = None,
) -> OpenedStorage:
    """Gradual mode (MONGODB_DUAL_WRITE): the local store and MongoDB (with
    its offline copy and outbox), every write to both, reads as configured."""
    from jtt_tui.services.dual import DualStorage

    mode = settings.mongodb.dual_write
    if not settings.mongodb.uri:
        raise SettingsIncompleteError(
            f"MONGODB_DUAL_WRITE={mode} needs a MongoDB connection string: set MONGODB_URI "
            "or run `jtt db configure --uri …` (or set MONGODB_DUAL_WRITE=off)"
        )
    warnings: list[str] = []
    cipher = cipher_for(settings)  # once: it may read the keyring
    mirror = open_mirror(settings, clock=clock, cipher=cipher)
    remote = mongo_store(settings, client_factory=client_factory, clock=clock, cipher=cipher)
    try:
        remote.connect()
        service = StorageService(remote, mirror=mirror)
        service.replay()
    except StorageError as exc:
        failure = classify(exc)
        service = StorageService(remote, mirror=mirror, online=False, failure=failure)
        warnings.append(
            f"dual write: MongoDB cannot be reached ({failure.kind}): its copy of every "
            "write is queued and sent when it is back"
        )
    dual = DualStorage(local_store(settings, clock=clock, cipher=cipher), service, mode)  # type: ignore[arg-type]
    dual.connect()
    return OpenedStorage(StorageService(dual), warnings=warnings)
