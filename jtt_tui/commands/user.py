"""jtt user: who you are in the store (the id your records carry)."""

from __future__ import annotations

import argparse

from jtt_tui.commands.context import CommandFailed, Context


def register(commands: argparse._SubParsersAction) -> None:
    user = commands.add_parser(
        "user",
        help="who you are in the store: show the id, adopt the data of another",
        description="Your records carry your user id (kept in settings.toml). When that file "
        "is lost or moved, `jtt` says whose data the store holds; `jtt user adopt ID` makes "
        "that id yours again.",
    )
    actions = user.add_subparsers(title="actions", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="your id and the ids the store holds")
    show.set_defaults(handler=cmd_show)
    adopt = actions.add_parser("adopt", help="use the data of ID as yours (writes settings.toml)")
    adopt.add_argument("id", metavar="ID", help="a user id the store holds records of")
    adopt.set_defaults(handler=cmd_adopt)


def _owners(ctx: Context) -> dict[str, int]:
    from jtt_tui.config import load_settings
    from jtt_tui.storage.owners import local_owners

    settings = load_settings(ctx.environ, persist_user_id=False, find_owner=False)
    if settings.backend == "local":
        return local_owners(settings.store_path)
    from jtt_tui.storage.factory import mongo_store

    store = mongo_store(settings)
    try:
        store.connect()
        return store.owners()
    finally:
        store.disconnect()


def cmd_show(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.storage.owners import describe

    owners = _owners(ctx)
    ctx.out(f"You are '{ctx.settings.user_id}'.")
    ctx.out(f"The store holds: {describe(owners, limit=20) if owners else 'no records yet'}.")
    return 0


def cmd_adopt(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.config import load_settings, update_settings_file
    from jtt_tui.storage.owners import describe

    wanted = args.id.strip()
    owners = _owners(ctx)
    if not owners.get(wanted):
        there = describe(owners) if owners else "no records at all"
        raise CommandFailed(
            f"the store has no records of '{wanted}' (it holds {there}); nothing was changed"
        )
    settings = load_settings(ctx.environ, persist_user_id=False, find_owner=False)
    update_settings_file(settings.config_dir, {"user_id": wanted})
    count = owners[wanted]
    ctx.out(
        f"You are now '{wanted}': {count} record{'s' * (count != 1)} "
        f"(saved in {settings.settings_path})."
    )
    if ctx.environ.get("DEFAULT_USER_ID", "").strip() not in ("", wanted):
        ctx.err("warning: DEFAULT_USER_ID is set in the environment and overrides it")
    return 0
