"""db show / configure / use, and doctor."""

from __future__ import annotations

import argparse
from typing import Any

from jtt_tui.commands.context import CommandFailed, Context, read_secret
from jtt_tui.storage.errors import redact


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="show, configure or choose the database")
    actions = db.add_subparsers(title="actions", metavar="ACTION", required=True)

    show = actions.add_parser("show", help="the active backend and its (redacted) settings")
    show.set_defaults(handler=cmd_db_show)

    configure = actions.add_parser("configure", help="store MongoDB settings (password to keyring)")
    configure.add_argument(
        "--uri",
        help="mongodb://host:27017 or mongodb+srv://cluster…; "
        "a password in it goes to keyring, never to settings.toml",
    )
    configure.add_argument("--database", help="database name (default jtt)")
    configure.add_argument("--username", help="database user")
    configure.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (stored in keyring)",
    )
    configure.add_argument("--auth-source", help="database holding the user (e.g. admin)")
    tls = configure.add_mutually_exclusive_group()
    tls.add_argument("--tls", dest="tls", action="store_const", const=True, help="always use TLS")
    tls.add_argument(
        "--no-tls",
        dest="tls",
        action="store_const",
        const=False,
        help="never use TLS (local servers only)",
    )
    tls.add_argument(
        "--tls-auto",
        dest="tls",
        action="store_const",
        const="auto",
        help="TLS for remote hosts and mongodb+srv:// (the default)",
    )
    configure.add_argument("--tls-ca-file", help="PEM file of the CA to trust")
    configure.set_defaults(handler=cmd_db_configure)

    use = actions.add_parser("use", help="switch backend (MongoDB is tested first)")
    use.add_argument("backend", choices=["local", "mongodb"])
    use.set_defaults(handler=cmd_db_use)

    doctor = commands.add_parser("doctor", help="check settings, stores, keyring and MongoDB")
    doctor.set_defaults(handler=cmd_doctor)


def cmd_db_show(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    mongo = settings.mongodb
    env_override = "MONGODB_ENABLED" in ctx.environ
    ctx.out(
        f"Backend:       {settings.backend}"
        + (" (set by MONGODB_ENABLED in the environment)" if env_override else "")
    )
    ctx.out(f"User id:       {settings.user_id}")
    ctx.out(f"Local store:   {settings.store_path}")
    ctx.out(f"Settings file: {settings.settings_path}")
    if not mongo.configured:
        ctx.out("MongoDB:       not configured (jtt db configure --uri …)")
        return 0
    if mongo.password is not None:
        secret = "from the environment (MONGODB_PASSWORD)"
    elif mongo.password_in_keyring:
        secret = "in keyring"
    else:
        secret = "none"
    from jtt_tui.storage.factory import wants_tls

    tls = wants_tls(mongo)
    tls_text = {True: "on", False: "off", None: "as the URI says"}[tls]
    if mongo.tls is None:
        tls_text += " (auto)"
    ctx.out(f"MongoDB URI:   {redact(mongo.uri)}")
    ctx.out(f"  database     {mongo.database}")
    ctx.out(f"  user         {mongo.username or '(none)'}; password {secret}")
    ctx.out(f"  authSource   {mongo.auth_source or '(driver default)'}")
    ctx.out(
        f"  TLS          {tls_text}"
        + (f", CA file {mongo.tls_ca_file}" if mongo.tls_ca_file else "")
    )
    ctx.out(
        f"  timeouts     server selection {mongo.server_selection_timeout_ms} ms, "
        f"connect {mongo.connect_timeout_ms} ms, socket {mongo.socket_timeout_ms} ms"
    )
    ctx.out(f"  pool         {mongo.min_pool_size}-{mongo.max_pool_size} connections")
    return 0


def cmd_db_configure(ctx: Context, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from jtt_tui.domain.validation import explain
    from jtt_tui.secrets import SecretStoreUnavailable
    from jtt_tui.services.database import merged_config, save_mongodb_settings

    settings = ctx.settings
    changes: dict[str, Any] = {}
    password: str | None = None
    for option in ("uri", "database", "username", "auth_source", "tls_ca_file"):
        value = getattr(args, option)
        if value is not None:
            changes[option] = value.strip()
    if args.tls is not None:
        changes["tls"] = None if args.tls == "auto" else args.tls
    if args.password_stdin:
        password = read_secret("MongoDB password: ")
        if not password:
            raise CommandFailed("no password on standard input")
    if not changes and password is None:
        raise CommandFailed(
            "nothing to configure: give --uri, --database, --username, "
            "--password-stdin, --auth-source, --tls… or --tls-ca-file",
            exit_code=2,
        )
    try:
        config = merged_config(settings, changes, password)
    except ValidationError as exc:
        raise CommandFailed(explain(exc, context="MongoDB settings"), exit_code=2) from None
    try:
        save_mongodb_settings(settings, config)
    except SecretStoreUnavailable as exc:
        raise CommandFailed(f"the password was not saved and nothing changed: {exc}") from None
    settings = ctx.reload_settings()
    saved_password = config.password is not None
    ctx.out(
        f"Saved MongoDB settings to {settings.settings_path}"
        + (" (password in keyring)" if saved_password else "")
    )
    ctx.out(f"  URI {redact(settings.mongodb.uri)}, database {settings.mongodb.database}")
    if not settings.mongodb.enabled:
        ctx.out("Not in use yet: `jtt db use mongodb` tests the connection and switches.")
    return 0


def cmd_db_use(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.config import update_settings_file

    settings = ctx.settings
    if "MONGODB_ENABLED" in ctx.environ:
        ctx.err("warning: MONGODB_ENABLED is set in the environment and overrides this choice")
    if args.backend == "local":
        update_settings_file(settings.config_dir, {"mongodb": {"enabled": False}})
        ctx.out(f"Now using the local store {settings.store_path}")
        return 0
    if not settings.mongodb.configured:
        raise CommandFailed("MongoDB is not configured: run `jtt db configure --uri …` first")
    from jtt_tui.storage.errors import StorageError, classify
    from jtt_tui.storage.factory import mongo_store

    store = None
    try:
        store = mongo_store(settings)
        store.connect()
        version = store.server_info().get("version", "?")
        update_settings_file(settings.config_dir, {"mongodb": {"enabled": True}})
    except StorageError as exc:
        failure = classify(exc)
        lines = [f"not switched: {failure.title} ({failure.kind}): {failure.message}"]
        lines += [f"  hint: {tip}" for tip in failure.suggestions]
        raise CommandFailed("\n".join(lines)) from None
    finally:
        if store is not None:
            store.disconnect()
    ctx.out(f"Now using MongoDB {store.location} (server {version}).")
    ctx.out(f"Your local data stays in {settings.store_path}.")
    return 0


def cmd_doctor(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.doctor import run_doctor

    checks = run_doctor(ctx.settings)
    width = max(len(c.label) for c in checks)
    for check in checks:
        ctx.out(f"{check.level:<4}  {check.label:<{width}}  {redact(check.detail)}")
        if check.hint and check.level != "OK":
            ctx.out(f"{'':<4}  {'':<{width}}  hint: {redact(check.hint)}")
    failed = sum(1 for c in checks if c.level == "FAIL")
    return 1 if failed else 0
