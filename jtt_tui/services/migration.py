"""Choosing what to migrate where, for the command line and the TUI wizard:
the source is the store in use, the target the other backend (or another
MongoDB deployment); the engine is :mod:`jtt_tui.storage.migrate`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from jtt_tui.config import MongoConfig, Settings
from jtt_tui.storage.base import Storage
from jtt_tui.storage.errors import SettingsIncompleteError, StorageError
from jtt_tui.storage.factory import local_store, mongo_store, uri_hosts

Target = Literal["local", "mongodb"]
# Reading or writing a whole collection is one long operation: the app's
# per-operation limit (seconds, to notice a dead server) would cut it off.
MIGRATION_TIMEOUT_MS = 120_000


def _patient(config: MongoConfig) -> MongoConfig:
    return config.model_copy(
        update={"socket_timeout_ms": max(config.socket_timeout_ms, MIGRATION_TIMEOUT_MS)}
    )


@dataclass
class MigrationPlan:
    source: Storage
    target: Storage
    target_kind: Target
    config: MongoConfig | None  # the target's settings (MongoDB)
    _close: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self._close):
            close()
        self._close.clear()


def default_backup_path(settings: Settings, now: datetime) -> Path:
    return settings.backup_dir / f"before-migrate-{now:%Y%m%d-%H%M%S}.json"


def plan_migration(
    settings: Settings,
    to: Target,
    *,
    config: MongoConfig | None = None,
    source: Storage | None = None,
    client_factory: Callable[..., Any] | None = None,
) -> MigrationPlan:
    """Open the source (``source``, or the configured store) and build the
    target (not connected: the migration's connection step does that).

    Raises SettingsIncompleteError when the target is the store already in
    use, or MongoDB has no connection string; StorageError when the source
    cannot be read (a MongoDB source must be reachable: migrating from the
    offline copy could miss other people's changes)."""
    from jtt_tui.services.opening import open_storage

    closers: list[Callable[[], None]] = []
    if source is None:
        patient = settings.model_copy(update={"mongodb": _patient(settings.mongodb)})
        opened = open_storage(patient, client_factory=client_factory)
        source = opened.store
        closers.append(source.disconnect)
    source_kind = source.kind
    try:
        if getattr(source, "online", True) is False:
            raise StorageError(
                "the store in use (MongoDB) cannot be reached, so it cannot be copied now: "
                "migrating from the offline copy could miss other people's changes"
            )
        target: Storage
        if to == "local":
            if source_kind == "local":
                raise SettingsIncompleteError(
                    "the local store is already the one in use: nothing to migrate "
                    "(use --to mongodb)"
                )
            target = local_store(settings)
            closers.append(target.disconnect)
            config = None
        else:
            config = config or settings.mongodb
            if not config.uri:
                raise SettingsIncompleteError(
                    "no MongoDB connection string: give --uri, or run "
                    "`jtt db configure --uri …` first"
                )
            if source_kind == "mongodb" and _same_mongodb(settings.mongodb, config):
                raise SettingsIncompleteError(
                    "that MongoDB database is the one in use: give another --uri or "
                    "--database (or use --to local)"
                )
            target = mongo_store(settings, config=_patient(config), client_factory=client_factory)
            closers.append(target.disconnect)
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return MigrationPlan(source, target, to, config, closers)


def _same_mongodb(current: MongoConfig, other: MongoConfig) -> bool:
    return (
        sorted(uri_hosts(current.uri)) == sorted(uri_hosts(other.uri))
        and current.database == other.database
    )


def switch_after_migration(settings: Settings, plan: MigrationPlan) -> list[str]:
    """Make the migration's target the configured store (saved to settings).
    Returns the changed setting names."""
    from jtt_tui.services.database import save_mongodb_settings

    if plan.target_kind == "mongodb":
        assert plan.config is not None
        chosen = plan.config.model_copy(update={"enabled": True})
    else:
        chosen = settings.mongodb.model_copy(update={"enabled": False})
    return save_mongodb_settings(settings, chosen)
