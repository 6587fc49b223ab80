"""Build the configured store from settings.

``open_storage`` never fails just because MongoDB is away: it falls back to the
local store and says why (the classified failure), so timing never stops.
pymongo is imported only when MongoDB is actually configured.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jtt_tui.domain.clock import Clock
from jtt_tui.storage.errors import (
    MissingCredentialsError,
    MissingStoreFolder,
    StorageError,
    StoreUnavailableError,
    register_secret,
)
from jtt_tui.storage.sqlite_store import SQLiteStore

if TYPE_CHECKING:
    from jtt_tui.config import MongoConfig, Settings
    from jtt_tui.storage.crypto import FieldCipher, KeyProvider
    from jtt_tui.storage.mongo_store import MongoStore
    from jtt_tui.storage.offline import OfflineMirror

_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
# pymongo notices a dead server within about a second with this heartbeat
HEARTBEAT_MS = 1000


def key_provider(settings: Settings) -> KeyProvider:
    """Where data keys come from: JTT_DATA_KEY, then (lazily) the keyring."""
    from jtt_tui.storage.crypto import KeyProvider, parse_env_keys

    secret = settings.encryption.data_key
    return KeyProvider(parse_env_keys(secret.get_secret_value() if secret else None))


def active_key_id(settings: Settings, provider: KeyProvider) -> str | None:
    """The key new values are sealed with: the first one in JTT_DATA_KEY,
    else the keyring key settings.toml names (None: no key configured)."""
    return (provider.env_key_ids or [settings.encryption.key_id])[0] or None


def cipher_for(settings: Settings) -> FieldCipher:
    """Field encryption as configured: keys from JTT_DATA_KEY and (lazily)
    the keyring; the active key when encryption is on."""
    from jtt_tui.storage.crypto import FieldCipher, KeyUnavailableError

    provider = key_provider(settings)
    active = None
    if settings.encryption.enabled:
        active = active_key_id(settings, provider)
        if active is None:
            raise KeyUnavailableError(
                "field encryption is on (JTT_ENCRYPTION / settings.toml) but there is no data "
                "key: run `jtt keys init` to create one, or set JTT_DATA_KEY",
                "",
            )
    return FieldCipher(provider, active)


SQLITE_MAGIC = b"SQLite format 3\x00"


def check_store_file(path: Path, backup_dir: Path | None = None) -> None:
    """Refuse a store file that exists but is not a jtt store, before
    anything is written into it: an empty file (a failed copy, a truncated
    restore) where backups exist is not a new store; a file that is not
    SQLite, or an SQLite file of something else, is not jtt's."""
    if not path.is_file():
        return
    size = path.stat().st_size
    wal = Path(f"{path}-wal")
    if size == 0:
        if wal.is_file() and wal.stat().st_size > 0:
            return  # a WAL store not checkpointed yet: its pages are in the -wal
        newest = _newest_backup(backup_dir)
        if newest is None:
            return  # nothing was ever saved elsewhere: a new store, made just now
        raise StoreUnavailableError(
            f"the local store {path} is empty (0 bytes: a failed copy or a truncated "
            f"restore?) and nothing was written to it. The newest backup is {newest}: "
            f"`jtt restore {newest}` puts it back"
        )
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        raise StoreUnavailableError(
            f"{path} is not a jtt database (not an SQLite file); move it away or set "
            "LOCAL_STORE_PATH to jtt's file" + _backup_hint(backup_dir)
        )
    tables = _tables(path)
    if tables and "sessions" not in tables:
        raise StoreUnavailableError(
            f"{path} is not a jtt database (an SQLite file with the tables "
            f"{', '.join(sorted(tables)[:5])}); set LOCAL_STORE_PATH to jtt's file"
        )


def _tables(path: Path) -> set[str]:
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}
        finally:
            conn.close()
    except sqlite3.Error:
        return set()  # damaged: opening it says so, with its own words


def _newest_backup(backup_dir: Path | None) -> Path | None:
    if backup_dir is None or not backup_dir.is_dir():
        return None
    backups = sorted(backup_dir.glob("jtt-*.db"))
    return backups[-1] if backups else None


def _backup_hint(backup_dir: Path | None) -> str:
    newest = _newest_backup(backup_dir)
    return f"; the newest backup is {newest} (`jtt restore {newest}`)" if newest else ""


def local_store(
    settings: Settings,
    *,
    clock: Clock | None = None,
    cipher: FieldCipher | None = None,
    create_folder: bool = False,
) -> SQLiteStore:
    folder = settings.store_path.parent
    if settings.local.store_path is not None and not folder.is_dir():
        # the default folder is made as needed; a path someone typed with a
        # folder that is not there is more likely a typo than a wish
        if not create_folder:
            raise MissingStoreFolder(
                f"LOCAL_STORE_PATH={settings.store_path}: the folder {folder} does not "
                "exist; fix the path, or run again with --create to make it",
                folder,
            )
        folder.mkdir(parents=True, mode=0o700)
    check_store_file(settings.store_path, settings.backup_dir)
    store = SQLiteStore(settings.store_path, user_id=settings.user_id, clock=clock)
    store.cipher = cipher or cipher_for(settings)
    return store


def uri_hosts(uri: str) -> list[str]:
    """Host names of a MongoDB URI (no port, no credentials), without pymongo."""
    match = re.match(r"^mongodb(?:\+srv)?://(?:[^@/]*@)?([^/?#]*)", uri)
    if not match:
        return []
    hosts = []
    for part in match.group(1).split(","):
        # "[ipv6]:port" or "host:port"
        host = part[: part.find("]") + 1] if part.startswith("[") else part.split(":", 1)[0]
        if host:
            hosts.append(host.lower())
    return hosts


def uri_password(uri: str) -> str | None:
    match = re.match(r"^mongodb(?:\+srv)?://[^:@/]+:([^@/]*)@", uri)
    return match.group(1) if match else None


def wants_tls(config: MongoConfig) -> bool | None:
    """The TLS choice to pass to the driver: the explicit setting, else on for
    mongodb+srv:// and any non-loopback host. None leaves it to the URI."""
    if config.tls is not None:
        return config.tls
    if re.search(r"[?&](tls|ssl)=", config.uri):
        return None  # the URI says it explicitly
    if config.uri.startswith("mongodb+srv://"):
        return True
    hosts = uri_hosts(config.uri)
    return any(host not in _LOOPBACK for host in hosts)


def mongo_options(config: MongoConfig, password: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``pymongo.MongoClient`` from the settings."""
    options: dict[str, Any] = {
        "maxPoolSize": config.max_pool_size,
        "minPoolSize": config.min_pool_size,
        "maxIdleTimeMS": config.max_idle_time_ms,
        "serverSelectionTimeoutMS": config.server_selection_timeout_ms,
        "connectTimeoutMS": config.connect_timeout_ms,
        # one deadline per operation (client-side operation timeout): a hung
        # server is a timeout after this long, not after the OS gives up
        "timeoutMS": config.socket_timeout_ms,
        "heartbeatFrequencyMS": HEARTBEAT_MS,
        "retryWrites": True,
        "tz_aware": True,
    }
    tls = wants_tls(config)
    if tls is not None:
        options["tls"] = tls
    if config.tls_ca_file is not None:
        options["tlsCAFile"] = str(config.tls_ca_file.expanduser())
    if config.tls_allow_invalid_certificates:
        options["tlsAllowInvalidCertificates"] = True
    if config.auth_source:
        options["authSource"] = config.auth_source
    if config.username:
        options["username"] = config.username
        if password:
            options["password"] = password
    return options


def _external_auth(uri: str) -> bool:
    """x.509, AWS IAM, Kerberos and OIDC sign in without a password."""
    return bool(re.search(r"authMechanism=(MONGODB-X509|MONGODB-AWS|GSSAPI|MONGODB-OIDC)", uri))


def mongo_password(config: MongoConfig) -> str | None:
    """The password from the environment, else from keyring (if one was saved)."""
    if config.password is not None:
        return config.password.get_secret_value()
    if config.password_in_keyring:
        from jtt_tui.secrets import MONGODB_PASSWORD, get_secret

        return get_secret(MONGODB_PASSWORD)
    return None


def mongo_store(
    settings: Settings,
    *,
    config: MongoConfig | None = None,
    client_factory: Callable[..., Any] | None = None,
    clock: Clock | None = None,
    cipher: FieldCipher | None = None,
) -> MongoStore:
    from jtt_tui.storage.mongo_store import MongoStore

    config = config or settings.mongodb
    in_uri = uri_password(config.uri)
    if in_uri:  # as written (percent-encoded) and as the driver decodes it
        from urllib.parse import unquote

        register_secret(in_uri)
        register_secret(unquote(in_uri))
    password = mongo_password(config)
    if config.username and not password and not _external_auth(config.uri):
        where = "keyring has none saved" if config.password_in_keyring else "none is configured"
        raise MissingCredentialsError(
            f"MongoDB user {config.username} needs a password and {where}: run "
            "`jtt db configure --password-stdin`, or set MONGODB_PASSWORD"
        )
    options = mongo_options(config, password)
    store = MongoStore(
        config.uri,
        config.database,
        user_id=settings.user_id,
        client_factory=client_factory,
        clock=clock,
        **options,
    )
    store.cipher = cipher or cipher_for(settings)
    return store


def refusing_client(error: StorageError) -> Callable[..., Any]:
    def factory(uri: str, **options: Any) -> Any:
        raise error

    return factory


def mirror_path(settings: Settings, config: MongoConfig | None = None) -> Path:
    """The offline mirror's file: one per remote store, database and user."""
    import hashlib

    config = config or settings.mongodb
    hosts = ",".join(uri_hosts(config.uri))
    ident = f"{hosts}|{config.database}|{settings.user_id}".encode()
    return settings.data_dir / f"offline-{hashlib.sha256(ident).hexdigest()[:12]}.db"


def open_mirror(
    settings: Settings,
    config: MongoConfig | None = None,
    *,
    clock: Clock | None = None,
    cipher: FieldCipher | None = None,
) -> OfflineMirror:
    from jtt_tui.storage.offline import OfflineMirror

    mirror = OfflineMirror(mirror_path(settings, config), user_id=settings.user_id, clock=clock)
    mirror.cipher = cipher or cipher_for(settings)
    mirror.connect()
    return mirror
