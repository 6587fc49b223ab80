"""The `jtt` command's entry point: on the command server when it can (see
``cmdclient.py``), else in this process. Nothing else is imported first."""

from __future__ import annotations

import sys

from jtt_tui.cmdclient import run_served


def main() -> int:
    code = run_served(sys.argv[1:])
    if code is not None:
        return code
    from jtt_tui.cli import main as run_here

    return run_here()
