"""Shell completion: `jtt completion bash|zsh|fish` prints a script; the
script asks `jtt __complete CWORD WORDS…` for the candidates of the word
under the cursor.

Commands and options come from the parser itself (one registry: a new option
completes without touching this file). Values come from the store: ticket
numbers, most recently worked on first, for the commands and options that
take a ticket; project keys; invoice numbers; an option's choices. On
MongoDB the local offline mirror is read (a completion never waits on a
server); nothing is ever written, and a failure completes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

from jtt_tui.commands.context import Context

SHELLS = ("bash", "zsh", "fish")
RECENT_TICKETS = 30

BASH = """\
# jtt completion for bash: source it from ~/.bashrc, e.g.
#   eval "$(jtt completion bash)"
_jtt_complete() {
    local IFS=$'\\n'
    COMPREPLY=($(jtt __complete "$COMP_CWORD" "${COMP_WORDS[@]}" 2>/dev/null))
}
complete -o default -F _jtt_complete jtt
"""

ZSH = """\
#compdef jtt
# jtt completion for zsh: in ~/.zshrc, after compinit:
#   eval "$(jtt completion zsh)"
_jtt() {
    local -a candidates
    candidates=("${(@f)$(jtt __complete $((CURRENT - 1)) "${words[@]}" 2>/dev/null)}")
    compadd -a candidates
}
compdef _jtt jtt
"""

FISH = """\
# jtt completion for fish: jtt completion fish > ~/.config/fish/completions/jtt.fish
function __jtt_complete
    set -l words (commandline -opc)
    jtt __complete (count $words) $words (commandline -ct) 2>/dev/null
end
complete -c jtt -f -a '(__jtt_complete)'
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def register(commands: argparse._SubParsersAction) -> None:
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print the completion script for your shell. bash: add "
        '`eval "$(jtt completion bash)"` to ~/.bashrc; zsh: `eval "$(jtt completion zsh)"` '
        "in ~/.zshrc after compinit; fish: `jtt completion fish > "
        "~/.config/fish/completions/jtt.fish`.",
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=cmd_completion)


def cmd_completion(ctx: Context, args: argparse.Namespace) -> int:
    ctx.stdout.write(SCRIPTS[args.shell])
    return 0


# -- the candidates ----------------------------------------------------------------------


def complete(
    parser: argparse.ArgumentParser,
    words: list[str],
    cword: int,
    *,
    values: Callable[[str], Iterable[str]] | None = None,
    out: IO[str] | None = None,
) -> None:
    """Print the candidates for ``words[cword]`` (``words[0]`` is ``jtt``),
    one per line. ``values(kind)`` gives the store's values: "ticket",
    "project" or "invoice"."""
    out = out or sys.stdout
    current = words[cword] if cword < len(words) else ""
    found = _candidates(parser, words[1:cword], current, values or store_values)
    for candidate in found:
        if candidate.startswith(current):
            out.write(candidate + "\n")


def _candidates(
    parser: argparse.ArgumentParser,
    before: list[str],
    current: str,
    values: Callable[[str], Iterable[str]],
) -> list[str]:
    positionals_seen = 0
    waiting: argparse.Action | None = None  # an option whose value comes next
    for word in before:
        if waiting is not None:
            waiting = None
            continue
        if word.startswith("-"):
            action = _option(parser, word.split("=", 1)[0])
            if action is not None and action.nargs != 0 and "=" not in word:
                waiting = action
            continue
        sub = _subcommands(parser)
        if sub is not None and word in sub.choices:
            parser, positionals_seen = sub.choices[word], 0
            continue
        positionals_seen += 1
    if waiting is not None:
        return _values_of(waiting, values)
    if current.startswith("-"):
        return [s for a in parser._actions for s in a.option_strings if a.help != argparse.SUPPRESS]
    sub = _subcommands(parser)
    if sub is not None:
        return [name for name in sub.choices if not name.startswith("_")]
    positionals = [a for a in parser._actions if not a.option_strings]
    if positionals_seen < len(positionals):
        return _values_of(positionals[positionals_seen], values)
    return []


def _option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return parser._option_string_actions.get(flag)


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


# what a value is, by the option's or positional's name
_KINDS = {"ticket": "ticket", "key": "project", "project": "project", "number": "invoice"}


def _values_of(action: argparse.Action, values: Callable[[str], Iterable[str]]) -> list[str]:
    if action.choices is not None and not isinstance(action.choices, dict):
        return [str(c) for c in action.choices]
    kind = _KINDS.get(action.dest)
    if kind is None:
        return []  # a path, a time, free text: the shell's own completion
    try:
        return list(values(kind))
    except Exception:  # a completion never fails loudly: it offers nothing
        return []


def store_values(kind: str) -> list[str]:
    """Values from the store, read without waiting on a server and without
    writing anything."""
    from jtt_tui.config import load_settings

    settings = load_settings(persist_user_id=False)
    store = _readable_store(settings)
    if store is None:
        return []
    try:
        if kind == "ticket":
            recent = [s.ticket_number for s in store.recent_sessions(limit=RECENT_TICKETS)]
            known = sorted(store.get_tickets())
            return list(dict.fromkeys([*recent, *known]))
        if kind == "project":
            return [p.key for p in store.get_projects()]
        if kind == "invoice":
            return [i.invoice_number for i in store.get_invoices()]
        return []
    finally:
        store.disconnect()


def _readable_store(settings: Any) -> Any:
    """The local store (or MongoDB's local mirror), if it exists."""
    from jtt_tui.storage.factory import cipher_for, mirror_path

    if settings.backend == "mongodb":
        from jtt_tui.storage.offline import OfflineMirror

        path = mirror_path(settings)
        if not path.exists():
            return None
        store: Any = OfflineMirror(path, user_id=settings.user_id)
    else:
        from jtt_tui.storage import SQLiteStore

        path = settings.store_path
        if not path.exists():
            return None
        store = SQLiteStore(path, user_id=settings.user_id)
    store.cipher = cipher_for(settings)
    store.connect()
    return store
