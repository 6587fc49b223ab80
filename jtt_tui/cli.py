"""The ``jtt`` command: the TUI with no arguments, subcommands for scripts.

Exit codes: 0 ok, 1 the command failed, 2 usage or configuration error.
No traceback ever reaches the user (``--debug`` shows one, redacted).
Imports stay lazy: ``jtt status`` must not pay for Textual or pymongo.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jtt_tui import __version__

if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# options that take a time, which may be relative: `--at -15m` (argparse would
# read "-15m" as an option of its own)
_TIME_OPTIONS = frozenset({"--at", "--from", "--to", "--start", "--end"})


def _join_relative_times(arguments: list[str]) -> list[str]:
    joined: list[str] = []
    pending: str | None = None
    for arg in arguments:
        if pending is not None:
            if arg[:2].startswith("-") and arg[1:2].isdigit():
                joined.append(f"{pending}={arg}")
            else:
                joined += [pending, arg]
            pending = None
        elif arg in _TIME_OPTIONS:
            pending = arg
        else:
            joined.append(arg)
    if pending is not None:
        joined.append(pending)
    return joined


@functools.cache
def build_parser() -> argparse.ArgumentParser:
    """Every command's options (built once per process: a parse does not
    change it; the command server builds it before it forks)."""
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            self.print_usage(sys.stderr)
            self.exit(EXIT_USAGE, f"jtt: {message} (see `{self.prog} --help`)\n")

    parser = _Parser(
        prog="jtt",
        description="Time your Jira tickets from the terminal. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"jtt {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show details (a redacted traceback) when something fails",
    )
    parser.add_argument(
        "--create",
        action="store_true",
        help="make the folder of LOCAL_STORE_PATH if it does not exist yet",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    from jtt_tui.commands import (
        billing,
        completion,
        data,
        database,
        history,
        jira,
        keys,
        migrate,
        timer,
        user,
    )

    timer.register(commands)
    history.register(commands)
    data.register(commands)
    database.register(commands)
    migrate.register(commands)
    billing.register(commands)
    keys.register(commands)
    jira.register(commands)
    user.register(commands)
    completion.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments:
        # the common case, `jtt` alone: straight to the app, no parser to build
        from jtt_tui.ui.launch import run_app

        return run_app()
    if arguments[0] == "__complete":  # what the completion scripts ask: never fails loudly
        return _complete(arguments[1:])
    from jtt_tui.commands.context import Context

    args = build_parser().parse_args(_join_relative_times(arguments))
    handler = getattr(args, "handler", None)
    from jtt_tui.logs import setup_logging

    setup_logging(debug=args.debug)
    ctx = Context(debug=args.debug, create_folder=args.create)
    try:
        if handler is None:
            return run_tui(ctx)
        code = int(handler(ctx, args) or EXIT_OK)
        ctx.say_queued()
        sys.stdout.flush()  # a full disk or a closed pipe is this command's failure
        return code
    except KeyboardInterrupt:
        ctx.err("interrupted")
        return 130
    except BrokenPipeError:
        # the reader went away (`jtt log | head`): stop quietly, as cat does
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except BaseException as exc:  # the one place every failure is turned into words
        return ctx.report(exc)
    finally:
        ctx.close()


def _complete(arguments: list[str]) -> int:
    """``jtt __complete CWORD WORDS…``: the candidates for ``WORDS[CWORD]``."""
    from jtt_tui.commands.completion import complete

    try:
        cword = int(arguments[0])
        complete(build_parser(), arguments[1:], cword)
    except Exception:  # a completion offers nothing rather than an error
        return EXIT_FAILED
    return EXIT_OK


def run_tui(ctx: Any) -> int:
    from jtt_tui.ui.launch import run_app

    return run_app(ctx.environ, debug=ctx.debug, create_folder=ctx.create_folder)


if __name__ == "__main__":
    raise SystemExit(main())
