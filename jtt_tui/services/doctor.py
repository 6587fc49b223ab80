"""Health report of the installation: settings, stores, keyring, MongoDB."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from jtt_tui.config import Settings
from jtt_tui.storage.errors import StorageError, classify, redact

Level = Literal["OK", "WARN", "FAIL"]


@dataclass(frozen=True)
class Check:
    level: Level
    label: str
    detail: str
    hint: str = ""


def _permissions(path: Any) -> tuple[Level, str]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return "WARN", f"mode {mode:04o}: readable by others (chmod 600 {path})"
    return "OK", f"mode {mode:04o}"


def check_settings(settings: Settings) -> list[Check]:
    checks = []
    if settings.settings_path.is_file():
        level, perms = _permissions(settings.settings_path)
        checks.append(Check(level, "settings file", f"{settings.settings_path} ({perms})"))
    else:
        checks.append(
            Check(
                "OK",
                "settings file",
                f"{settings.settings_path} (not created yet: defaults in use)",
            )
        )
    if settings.env_file:
        checks.append(Check("OK", ".env file", str(settings.env_file)))
    checks.append(Check("OK", "user id", settings.user_id))
    checks.append(Check("OK", "configured backend", settings.backend))
    return checks


def check_local_store(settings: Settings) -> list[Check]:
    from jtt_tui.services.backup import LocalBackups
    from jtt_tui.storage.factory import check_store_file
    from jtt_tui.storage.sqlite_store import SQLiteStore

    path = settings.store_path
    checks: list[Check] = []
    try:
        check_store_file(path, settings.backup_dir)
        refused = ""
    except StorageError as exc:
        refused = str(exc)
    if not path.exists():
        checks.append(Check("OK", "local store", f"{path} (not created yet)"))
    elif refused:
        checks.append(Check("FAIL", "local store", redact(refused)))
    else:
        level, perms = _permissions(path)
        size = path.stat().st_size / 1024 / 1024
        store = SQLiteStore(path, user_id=settings.user_id)
        try:
            store.connect()
            integrity = store.integrity_check()
            counts = store.count_records()
            summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n)
            checks.append(
                Check(
                    level,
                    "local store",
                    f"{path} ({size:.1f} MiB, {perms}, schema {store.schema_version()})",
                    "run `chmod 600` on it" if level != "OK" else "",
                )
            )
            checks.append(
                Check(
                    "OK" if integrity == "ok" else "FAIL",
                    "local store integrity",
                    integrity if integrity != "ok" else f"ok ({summary or 'empty'})",
                    ""
                    if integrity == "ok"
                    else "restore the newest backup from the backups folder",
                )
            )
            if integrity == "ok":
                checks.append(timeline_check(store, settings, "local store timeline"))
                checks.append(owner_check(settings.user_id, store.owners()))
        except StorageError as exc:
            checks.append(
                Check("FAIL", "local store", redact(str(exc)), classify(exc).suggestions[0])
            )
        finally:
            store.disconnect()
    backups = LocalBackups(settings.backup_dir)
    if settings.local.backup_enabled:
        latest = backups.latest_time()
        detail = (
            f"{len(backups.list())} kept in {settings.backup_dir}, newest {latest:%Y-%m-%d %H:%M}"
            if latest
            else f"none yet in {settings.backup_dir}"
        )
        checks.append(
            Check(
                "OK", "local backups", f"every {settings.local.backup_interval_hours} h; {detail}"
            )
        )
    else:
        checks.append(
            Check(
                "WARN",
                "local backups",
                "disabled (LOCAL_BACKUP_ENABLED=false)",
                "turn them on unless you back up the data folder yourself",
            )
        )
    return checks


def check_keyring(settings: Settings) -> list[Check]:
    from jtt_tui import secrets

    try:
        name = secrets.backend_name()
        usable = secrets.keyring_usable()
    except Exception as exc:  # a broken keyring plugin must not break doctor
        return [Check("WARN", "keyring", f"cannot be loaded: {redact(str(exc))}")]
    needs = settings.mongodb.password_in_keyring and settings.mongodb.password is None
    if usable:
        return [Check("OK", "keyring", name)]
    level: Level = "FAIL" if needs else "WARN"
    return [Check(level, "keyring", f"no usable backend ({name})", secrets.NO_KEYRING_HELP)]


def check_mongodb(
    settings: Settings, *, client_factory: Callable[..., Any] | None = None
) -> list[Check]:
    from jtt_tui.storage.factory import mongo_store, uri_hosts, wants_tls

    config = settings.mongodb
    if not config.configured:
        state = "enabled but no URI set" if config.enabled else "not configured"
        return [Check("WARN" if config.enabled else "OK", "mongodb", state)]
    store = mongo_store(settings, client_factory=client_factory)
    checks = [
        Check(
            "OK",
            "mongodb",
            f"{store.location}, {'in use' if config.enabled else 'configured, not in use'}",
        )
    ]
    tls = wants_tls(config)
    remote = any(h not in ("localhost", "127.0.0.1", "::1", "[::1]") for h in uri_hosts(config.uri))
    if tls is False and remote:
        checks.append(
            Check(
                "WARN",
                "mongodb tls",
                "off for a remote host",
                "set MONGODB_SSL=true (or auto) unless the network is private",
            )
        )
    if config.tls_allow_invalid_certificates:
        checks.append(
            Check(
                "WARN",
                "mongodb tls",
                "certificate checks are disabled",
                "anyone on the path can impersonate the server",
            )
        )
    started = time.perf_counter()
    try:
        store.connect()
        latency = (time.perf_counter() - started) * 1000
        info = store.server_info()
        checks.append(
            Check(
                "OK",
                "mongodb connection",
                f"ping ok in {latency:.0f} ms, server {info.get('version', 'unknown version')}",
            )
        )
        checks.extend(_index_checks(store))
        checks.extend(privilege_checks(store.connection_status(), config.database))
        checks.append(timeline_check(store, settings, "mongodb timeline"))
        from jtt_tui.storage.owners import describe

        owners = store.owners()
        checks.append(
            Check(
                "OK",
                "mongodb users",
                describe(owners, limit=10) if owners else "no records yet",
                ""
                if owners.get(settings.user_id) or not owners
                else f"none are yours ('{settings.user_id}'): `jtt user adopt ID` if one is",
            )
        )
    except StorageError as exc:
        failure = classify(exc)
        checks.append(
            Check(
                "FAIL",
                "mongodb connection",
                f"{failure.title}: {failure.message}",
                " ".join(failure.suggestions[:2]),
            )
        )
    finally:
        store.disconnect()
    return checks


def owner_check(user_id: str, owners: dict[str, int]) -> Check:
    """Whether the records here are this user's (settings lost or moved?)."""
    from jtt_tui.storage.owners import describe, owner_warning

    note = owner_warning(user_id, owners)
    if note:
        return Check("WARN", "owner", note)
    others = {u: n for u, n in owners.items() if u != user_id}
    mine = owners.get(user_id, 0)
    detail = f"'{user_id}': {mine} record{'s' * (mine != 1)}" if mine else "no records yet"
    return Check("OK", "owner", detail + (f"; also {describe(others)}" if others else ""))


def timeline_check(store: Any, settings: Settings, label: str) -> Check:
    """Time counted on two tickets at once: listed, never changed here."""
    from jtt_tui.domain.timeline import format_overlaps, overlap_pairs
    from jtt_tui.storage.factory import cipher_for

    now = store.clock.now()
    try:
        store.cipher = cipher_for(settings)  # sealed notes must open to read sessions
        found = overlap_pairs(store.get_sessions().values(), now)
    except StorageError as exc:
        return Check("WARN", label, f"not checked: {redact(str(exc))}")
    if not found:
        return Check("OK", label, "no time on two tickets at once")
    allowed = settings.timer.allow_overlap or settings.timer.allow_concurrent
    detail = f"{len(found)} overlapping pair(s): {format_overlaps(found, None, now)}"
    if allowed:
        return Check("OK", label, detail + " (allowed by timer.allow_overlap)")
    return Check(
        "WARN",
        label,
        detail,
        "each counts twice in totals and invoices: fix a segment with `jtt edit TICKET` "
        "(jtt changes nothing by itself)",
    )


# what jtt needs on its database, and nothing more
LEAST_PRIVILEGE = {"readWrite", "read"}


def privilege_checks(auth_info: dict[str, Any], database: str) -> list[Check]:
    """Warn when the connected user can do more than read and write the app
    database (root, any-database roles, admin roles, other databases)."""
    users = auth_info.get("authenticatedUsers") or []
    roles = auth_info.get("authenticatedUserRoles") or []
    if not users:
        return [
            Check(
                "WARN",
                "mongodb user",
                "not authenticated: the server accepts anyone who can reach it",
                "enable authentication and use a user with readWrite on "
                f"{database} only (README: least-privilege user)",
            )
        ]
    names = ", ".join(f"{u.get('user')}@{u.get('db')}" for u in users)
    extra = sorted(
        f"{r.get('role')}@{r.get('db')}"
        for r in roles
        if not (r.get("role") in LEAST_PRIVILEGE and r.get("db") == database)
    )
    if extra:
        return [
            Check(
                "WARN",
                "mongodb user",
                f"{names} has more than readWrite on {database}: {', '.join(extra)}",
                f"create a user with only readWrite on {database} for jtt "
                "(README: least-privilege user)",
            )
        ]
    return [Check("OK", "mongodb user", f"{names}: readWrite on {database} only")]


def _index_checks(store: Any) -> list[Check]:
    from jtt_tui.storage.mongo_store import INDEXES

    present = store.index_names()
    missing = [
        f"{collection}.{index.document['name']}"
        for collection, indexes in INDEXES.items()
        for index in indexes
        if index.document["name"] not in present.get(collection, set())
    ]
    if missing:
        return [
            Check(
                "WARN",
                "mongodb indexes",
                "missing: " + ", ".join(missing),
                "the user may lack createIndex rights; ask for readWrite",
            )
        ]
    total = sum(len(v) for v in INDEXES.values())
    return [Check("OK", "mongodb indexes", f"all {total} present")]


def check_private_files(settings: Settings) -> list[Check]:
    """jtt's folders are 0700 and its files 0600 (stores, offline copies and
    outboxes, backups, logs); anything looser is named."""
    from jtt_tui.logs import log_dir

    loose: list[str] = []
    folders = [settings.data_dir, settings.backup_dir, log_dir()]
    for folder in folders:
        if folder.is_dir():
            mode = stat.S_IMODE(folder.stat().st_mode)
            if mode & 0o077:
                loose.append(f"{folder}/ ({mode:04o})")
            files = [p for p in folder.iterdir() if p.is_file()]
            for path in files:
                file_mode = stat.S_IMODE(path.stat().st_mode)
                if file_mode & 0o077:
                    loose.append(f"{path} ({file_mode:04o})")
    if loose:
        shown = ", ".join(loose[:5]) + (f" and {len(loose) - 5} more" if len(loose) > 5 else "")
        return [
            Check(
                "WARN",
                "file permissions",
                f"readable by others: {shown}",
                "chmod 700 the folders and 600 the files (they may hold client data)",
            )
        ]
    return [Check("OK", "file permissions", "data, backups and logs private (0700/0600)")]


def check_encryption(settings: Settings) -> list[Check]:
    """Field encryption: on or off, and whether this machine has its key."""
    from jtt_tui.storage.errors import StorageError
    from jtt_tui.storage.factory import cipher_for

    config = settings.encryption
    try:
        cipher = cipher_for(settings)
    except StorageError as exc:
        return [Check("FAIL", "field encryption", str(exc))]
    if not cipher.enabled:
        return [Check("OK", "field encryption", "off (`jtt keys init` turns it on)")]
    checks = [Check("OK", "field encryption", f"on, key {cipher.active} present")]
    if config.reencrypt_pending:
        checks.append(
            Check(
                "WARN",
                "field encryption",
                "an init/rotate/disable was interrupted",
                "run the same `jtt keys …` command again to finish it",
            )
        )
    return checks


def check_command_server(environ: Mapping[str, str]) -> Check:
    """Whether short commands and the app run on the command server (see
    cmdclient.py), and if not, why."""
    from jtt_tui import cmdclient

    label = "command server"
    if not cmdclient.enabled(environ):
        return Check("OK", label, "off: each command imports jtt in its own process (~0.25 s)")
    path = cmdclient.socket_path(environ)
    if path is None:
        return Check(
            "WARN",
            label,
            "not used: its socket folder is not private to you or cannot be made, so each "
            "command imports jtt in its own process (~0.25 s)",
            "set JTT_RUNTIME_DIR to a folder of yours with mode 0700 (or JTT_SERVER=off)",
        )
    pid = _server_pid(path + ".lock")
    where = f"socket {path}"
    if pid is None:
        return Check("OK", label, f"on; starts with the next short command ({where})")
    return Check("OK", label, f"on; running as process {pid} ({where})")


def _server_pid(lock: str) -> int | None:
    import os

    try:
        with open(lock) as handle:
            pid = int(handle.read().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid


def run_doctor(settings: Settings, environ: Mapping[str, str] | None = None) -> list[Check]:
    import os

    checks = check_settings(settings)
    checks += check_local_store(settings)
    checks += check_private_files(settings)
    checks += check_keyring(settings)
    checks += check_encryption(settings)
    checks += check_mongodb(settings)
    checks.append(check_command_server(os.environ if environ is None else environ))
    return checks


def now_local() -> datetime:
    return datetime.now().astimezone()
