"""MongoDB settings: saving them (the password to keyring, never to a file)
and testing a connection. Shared by `jtt db …` and the Database screen."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import SecretStr

from jtt_tui.config import ConfigError, MongoConfig, Settings, update_settings_file
from jtt_tui.services.storage_service import StorageService
from jtt_tui.storage.base import Storage
from jtt_tui.storage.errors import (
    SettingsIncompleteError,
    StorageError,
    StorageFailure,
    classify,
    redact,
    register_secret,
)

_USERINFO = re.compile(r"^(?P<scheme>mongodb(?:\+srv)?://)(?P<user>[^:@/]*)(?::(?P<pw>[^@/]*))?@")
# what settings.toml may hold for [mongodb] (never the password itself)
STORED_FIELDS = (
    "enabled",
    "uri",
    "database",
    "username",
    "password_in_keyring",
    "tls",
    "tls_ca_file",
    "tls_allow_invalid_certificates",
    "auth_source",
    "max_pool_size",
    "min_pool_size",
    "max_idle_time_ms",
    "server_selection_timeout_ms",
    "connect_timeout_ms",
    "socket_timeout_ms",
)


def split_credentials(uri: str) -> tuple[str, str | None, str | None]:
    """(uri without user info, user, password), percent-decoded."""
    match = _USERINFO.match(uri)
    if not match:
        return uri, None, None
    user = unquote(match.group("user")) or None
    password = unquote(match.group("pw")) if match.group("pw") is not None else None
    register_secret(password)
    return match.group("scheme") + uri[match.end() :], user, password


def merged_config(settings: Settings, changes: dict[str, Any], password: str | None) -> MongoConfig:
    """The MongoDB settings with ``changes`` applied, validated (pydantic
    ValidationError on a bad value). A URI's user info is split off."""
    changes = dict(changes)
    if "uri" in changes:
        uri, user, uri_password = split_credentials(str(changes["uri"]).strip())
        changes["uri"] = uri
        if user and not changes.get("username"):
            changes["username"] = user
        password = password or uri_password
    data = settings.mongodb.model_dump(exclude={"password"}) | changes
    if password:
        data["password_in_keyring"] = True
    config = MongoConfig.model_validate(data)
    if password:
        # carried in memory (never stored) so a test can use it before saving
        config = config.model_copy(update={"password": SecretStr(password)})
    return config


def save_mongodb_settings(settings: Settings, config: MongoConfig) -> list[str]:
    """Write what ``config`` changes to settings.toml; a new password goes to
    keyring first — when keyring cannot take it, nothing at all is written.
    Returns the names of the changed settings."""
    password = config.password
    if password is not None and password != settings.mongodb.password:
        from jtt_tui.secrets import MONGODB_PASSWORD, set_secret

        set_secret(MONGODB_PASSWORD, password.get_secret_value())
    current = settings.mongodb.model_dump(include=set(STORED_FIELDS))
    wanted = config.model_dump(include=set(STORED_FIELDS))
    changed = {name: value for name, value in wanted.items() if current.get(name) != value}
    if "tls" in changed:
        changed["tls"] = "auto" if config.tls is None else config.tls
    if "tls_ca_file" in changed:
        changed["tls_ca_file"] = str(config.tls_ca_file) if config.tls_ca_file else ""
    if changed:
        update_settings_file(settings.config_dir, {"mongodb": changed})
    return sorted(changed)


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    latency_ms: float | None = None
    server_version: str | None = None
    failure: StorageFailure | None = None


def check_mongodb(
    settings: Settings, config: MongoConfig, *, client_factory: Callable[..., Any] | None = None
) -> ConnectionCheck:
    """Connect, ping and read the server version with ``config``."""
    from jtt_tui.storage.factory import mongo_store

    started = time.perf_counter()
    store = None
    try:
        store = mongo_store(settings, config=config, client_factory=client_factory)
        store.connect()
        version = str(store.server_info().get("version", "")) or None
        return ConnectionCheck(True, (time.perf_counter() - started) * 1000, version)
    except StorageError as exc:
        return ConnectionCheck(False, failure=classify(exc))
    finally:
        if store is not None:
            store.disconnect()


# -- switching the store live --------------------------------------------------------

Target = Literal["local", "mongodb"]


@dataclass(frozen=True)
class SwitchOutcome:
    settings: Settings  # with the choice applied (and saved)
    kind: str
    location: str
    copied: int | None  # records copied over (None: not asked to copy)
    warning: str | None = None


def switch_backend(
    settings: Settings,
    storage: StorageService,
    target: Target,
    *,
    config: MongoConfig | None = None,
    copy_data: bool = False,
    client_factory: Callable[..., Any] | None = None,
    reload: Callable[[], Settings] | None = None,
) -> SwitchOutcome:
    """Make ``target`` the store in use, live, and remember the choice.

    The new store is connected and checked first (this blocks: run it off the
    UI thread); any failure raises StorageError with the current store still
    in use and the settings untouched. ``copy_data`` copies everything the app
    can see now — for an unreachable MongoDB that is the offline copy plus the
    writes waiting to be sent — into the new store (a merge: the newer copy of
    a record wins), before the swap."""
    from jtt_tui.storage.factory import local_store, mongo_store, open_mirror

    if target == "mongodb":
        config = config or settings.mongodb
        if not config.uri:
            raise SettingsIncompleteError(
                "no MongoDB connection string: enter one in the Database settings "
                "(or `jtt db configure --uri …`) first"
            )
        backend: Storage = mongo_store(settings, config=config, client_factory=client_factory)
        mirror = open_mirror(settings, config)
    else:
        config = settings.mongodb
        backend, mirror = local_store(settings), None
    from datetime import datetime

    from jtt_tui.services.migration import default_backup_path
    from jtt_tui.storage.migrate import MigrationError, MigrationReport, migrate

    copies: list[MigrationReport] = []

    def copy(source: Storage, target: Storage) -> None:
        # the migration engine: a backup of what is copied, batches, and a
        # verification; a merge (the newer copy of a record wins)
        backup = default_backup_path(settings, datetime.now().astimezone())
        try:
            copies.append(migrate(source, target, backup_path=backup))
        except MigrationError as exc:
            raise StorageError(f"the copy failed, nothing switched: {exc}") from exc

    try:
        storage.switch_to(backend, mirror=mirror, copy_data=copy_data, copy=copy)
    except BaseException:
        if mirror is not None:
            mirror.disconnect()
        raise
    copied = copies[0].copied if copies else None
    warnings: list[str] = []
    if mirror is not None:
        try:
            storage.replay()  # writes left queued from an earlier session with this server
            storage.refresh_mirror()
        except StorageError as exc:  # switched all the same: it works offline now
            storage.mark_offline(classify(exc))
    from jtt_tui.secrets import SecretStoreUnavailable

    chosen = config.model_copy(update={"enabled": target == "mongodb"})
    updated = settings.model_copy(update={"mongodb": chosen})
    try:
        save_mongodb_settings(settings, chosen)
    except (OSError, ValueError, SecretStoreUnavailable) as exc:
        warnings.append(
            f"Switched, but the choice could not be saved ({redact(exc)}): the next start "
            "uses the previous store."
        )
    else:
        if reload is not None:
            try:
                effective = reload().mongodb.enabled
            except ConfigError:
                effective = chosen.enabled
            if effective != chosen.enabled:
                warnings.append(
                    "MONGODB_ENABLED in the environment (or .env) overrides this choice: the "
                    "next start uses " + ("MongoDB" if effective else "the local store") + "."
                )
    warning = " ".join(warnings) or None
    return SwitchOutcome(updated, storage.kind, storage.location, copied, warning)
