"""jtt keys: field encryption — turn it on, report, rotate, turn it off."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from jtt_tui.commands.context import CommandFailed, Context, read_secret

if TYPE_CHECKING:
    from jtt_tui.config import Settings
    from jtt_tui.services.encryption import JobResult

_FALSE = {"0", "false", "no", "off"}


def register(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser(
        "keys",
        help="field encryption: init, status, rotate, disable, generate, import, export",
        description="Encrypt descriptions, notes, client e-mail/address, invoice notes and "
        "bank details in the store (AES-256-GCM, a fresh nonce per value, bound to its "
        "record and field). The data key lives in the keyring, or in JTT_DATA_KEY on hosts "
        "without one. init, rotate and disable are safe to run again after an interruption.",
    )
    actions = keys.add_subparsers(title="actions", metavar="ACTION", required=True)
    for name, help_text, handler in (
        ("init", "create a data key, turn encryption on and encrypt existing data", cmd_init),
        ("status", "whether encryption is on, which keys exist, what is encrypted", cmd_status),
        ("rotate", "re-encrypt everything under a new key (resumes if interrupted)", cmd_rotate),
        ("disable", "decrypt everything in place and turn encryption off", cmd_disable),
        (
            "generate",
            "print a new random key (for JTT_DATA_KEY on hosts without keyring)",
            cmd_generate,
        ),
        (
            "export",
            "print the active key, to give to another machine sharing the store",
            cmd_export,
        ),
    ):
        actions.add_parser(name, help=help_text).set_defaults(handler=handler)
    imp = actions.add_parser(
        "import", help="save a key from another machine in the keyring (read from stdin)"
    )
    imp.add_argument("--stdin", action="store_true", required=True, help="read the key from stdin")
    imp.set_defaults(handler=cmd_import)


# -- helpers -----------------------------------------------------------------------------


def _refuse_env_override(ctx: Context, wanted: bool) -> None:
    value = ctx.environ.get("JTT_ENCRYPTION")
    if value is None:
        return
    on = value.strip().lower() not in _FALSE
    if on != wanted:
        raise CommandFailed(
            f"JTT_ENCRYPTION={value} in the environment (or .env) overrides this; remove it "
            "and run the command again. Nothing was changed"
        )


def _save(ctx: Context, **changes: object) -> Settings:
    from jtt_tui.config import update_settings_file

    update_settings_file(ctx.settings.config_dir, {"encryption": changes})
    return ctx.reload_settings()


def _progress(ctx: Context):
    tty = ctx.stderr.isatty()

    def report(label: str, collection: str, done: int, total: int) -> None:
        line = f"  {label}: {collection.replace('_', ' ')} {done}/{total}"
        if tty:
            print(f"\r{line}", end="" if done < total else "\n", file=ctx.stderr, flush=True)
        else:
            print(line, file=ctx.stdout, flush=True)

    return report


def _reencrypt(ctx: Context, kid: str | None, **changes: object) -> JobResult:
    """Save ``changes`` with the pending flag, bring every store in line with
    key ``kid`` (None: decrypt), then clear the flag: a re-run after an
    interruption finishes the job."""
    from jtt_tui.services.encryption import run_job
    from jtt_tui.storage.crypto import FieldCipher
    from jtt_tui.storage.factory import key_provider

    settings = _save(ctx, **changes, reencrypt_pending=True)
    result = run_job(settings, FieldCipher(key_provider(settings), kid), _progress(ctx))
    for label, count in result.rewritten.items():
        ctx.out(f"  {label}: {count} record(s) rewritten")
    _save(ctx, reencrypt_pending=False)
    return result


def _keyring_key(kid: str | None = None) -> bytes | None:
    """A key from the keyring: ``kid``, or the one saved as active."""
    from jtt_tui.secrets import get_secret
    from jtt_tui.storage.crypto import ACTIVE_KEY_SECRET, keyring_key

    kid = kid or get_secret(ACTIVE_KEY_SECRET)
    return keyring_key(kid) if kid else None


def _new_keyring_key() -> str:
    from jtt_tui.secrets import SecretStoreUnavailable
    from jtt_tui.services.encryption import env_hint, save_key_to_keyring
    from jtt_tui.storage.crypto import new_key

    try:
        return save_key_to_keyring(new_key())
    except SecretStoreUnavailable:
        raise CommandFailed(f"{env_hint()}. Nothing was changed") from None


# -- commands ----------------------------------------------------------------------------


def cmd_generate(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.storage.crypto import encode_key, key_id_of, new_key

    secret = new_key()
    ctx.out(encode_key(secret))
    print(
        f"jtt: key {key_id_of(secret)}. Keep it secret and keep a copy: without it encrypted "
        "text cannot be read. Use it as JTT_DATA_KEY, or `jtt keys import --stdin`.",
        file=ctx.stderr,
    )
    return 0


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.secrets import SecretStoreUnavailable
    from jtt_tui.services.encryption import save_key_to_keyring
    from jtt_tui.storage.crypto import parse_key

    text = read_secret("Data key: ", strip=True)
    secret = parse_key(text, source="the key on standard input")
    try:
        kid = save_key_to_keyring(secret)
    except SecretStoreUnavailable as exc:
        raise CommandFailed(f"the key was not saved: {exc}") from None
    ctx.out(f"Saved key {kid} in the keyring; `jtt keys init` uses it.")
    return 0


def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.storage.crypto import encode_key
    from jtt_tui.storage.factory import active_key_id, key_provider

    settings = ctx.settings
    provider = key_provider(settings)
    kid = active_key_id(settings, provider)
    secret = provider.get(kid) if kid else None
    if secret is None:
        raise CommandFailed("no active data key on this machine: `jtt keys init` creates one")
    ctx.out(encode_key(secret))
    print(f"jtt: key {kid}; anyone with it can read the encrypted fields", file=ctx.stderr)
    return 0


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.storage.factory import key_provider

    _refuse_env_override(ctx, True)
    settings = ctx.settings
    provider = key_provider(settings)
    if provider.env_key_ids:
        kid, where = provider.env_key_ids[0], "JTT_DATA_KEY"
        saved_id = ""
    else:
        where = "the keyring"
        existing = _keyring_key(settings.encryption.key_id or None)
        kid = provider.remember(existing) if existing is not None else _new_keyring_key()
        saved_id = kid
    was_on = settings.encryption.enabled
    ctx.out(f"Field encryption {'is' if was_on else 'turned'} on, key {kid} (in {where}).")
    _reencrypt(ctx, kid, enabled=True, key_id=saved_id)
    ctx.out("Everything is encrypted. Keep a copy of the key (`jtt keys export`): without it")
    ctx.out("the encrypted text cannot be read, and old backups need the keys of their time.")
    backups = settings.backup_dir
    if backups.exists() and any(backups.iterdir()):
        ctx.out(f"Backups made before now still hold the text in clear: {backups}")
    return 0


def cmd_rotate(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.storage.factory import key_provider

    _refuse_env_override(ctx, True)
    config = ctx.settings.encryption
    if not config.enabled:
        raise CommandFailed("field encryption is off: `jtt keys init` turns it on")
    provider = key_provider(ctx.settings)
    if provider.env_key_ids:
        kid = provider.env_key_ids[0]
        ctx.out(f"Re-encrypting under key {kid}, the first key in JTT_DATA_KEY.")
        result = _reencrypt(ctx, kid)
        if not any(result.rewritten.values()):
            ctx.out(
                "Everything was already under that key. To rotate: put a new key from "
                "`jtt keys generate` first in JTT_DATA_KEY, keep the old one after a comma, "
                "run this again, then drop the old one."
            )
        return 0
    if config.reencrypt_pending and config.key_id:
        kid = config.key_id
        ctx.out(f"Resuming the interrupted re-encryption under key {kid}.")
    else:
        kid = _new_keyring_key()
        ctx.out(f"New key {kid} (in the keyring); re-encrypting everything under it.")
    _reencrypt(ctx, kid, key_id=kid)
    ctx.out(f"Done: everything is under key {kid}. Older keys stay in the keyring for backups.")
    return 0


def cmd_disable(ctx: Context, args: argparse.Namespace) -> int:
    _refuse_env_override(ctx, False)
    ctx.out("Field encryption turned off; decrypting what is stored.")
    _reencrypt(ctx, None, enabled=False)
    ctx.out("Done: nothing is encrypted any more (the keys stay where they are).")
    return 0


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.encryption import scan_all
    from jtt_tui.storage.crypto import FieldCipher
    from jtt_tui.storage.factory import active_key_id, key_provider

    settings = ctx.settings
    config = settings.encryption
    provider = key_provider(settings)
    active = active_key_id(settings, provider) if config.enabled else None
    where = "JTT_DATA_KEY" if provider.env_key_ids else "the keyring"
    if active:
        have = "present" if provider.get(active) is not None else "MISSING on this machine"
        ctx.out(f"Field encryption: on, key {active} (from {where}, {have})")
    else:
        ctx.out("Field encryption: off" + (" (no key configured)" if config.enabled else ""))
    if provider.env_key_ids:
        ctx.out(f"Keys in JTT_DATA_KEY: {', '.join(provider.env_key_ids)}")
    if config.reencrypt_pending:
        ctx.out(
            "An earlier init/rotate/disable was interrupted: run it again to finish "
            "(`jtt keys rotate` resumes a rotation)."
        )
    missing: set[str] = set()
    cipher = FieldCipher(provider, active if active and provider.get(active) else None)
    for found in scan_all(settings, cipher):
        sealed = ", ".join(f"{n} under key {kid}" for kid, n in sorted(found.by_key.items()))
        ctx.out(f"{found.label}: {sealed or 'no encrypted values'}; {found.plain} in clear")
        for kid in found.by_key:
            if provider.get(kid) is None:
                missing.add(kid)
        if active and found.stale_count:
            ctx.out(f"  {found.stale_count} record(s) not yet under the active key")
    for kid in sorted(missing):
        ctx.out(f"Key {kid} is MISSING here: values under it cannot be read on this machine.")
    return 1 if missing else 0
