"""Start-up in a real terminal: launch -> first screen text, for `jtt` and a
bare Textual "hello" app measured in the same run (tmux).

    python -m bench.startup [--repeat 7]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELLO = """
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Hello from Textual")

Hello().run()
"""


_runs = itertools.count()


def _time_to_text(command: str, marker: str, env: dict[str, str]) -> float:
    # a fresh tmux server per run: reusing a socket races the old server's exit
    socket = f"bench{os.getpid()}-{next(_runs)}"
    start = time.perf_counter()
    subprocess.run(
        ["tmux", "-L", socket, "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", command],
        env=env,
        check=True,
    )
    try:
        deadline = start + 30
        while time.perf_counter() < deadline:
            screen = subprocess.run(
                ["tmux", "-L", socket, "capture-pane", "-p", "-t", "b"],
                check=False,
                capture_output=True,
                text=True,
            ).stdout
            if marker in screen:
                return time.perf_counter() - start
            time.sleep(0.005)
        raise RuntimeError(f"{marker!r} never appeared for {command}")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed: apt-get install -y tmux")
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO)
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "JTT_CONFIG_DIR": f"{tmp}/cfg",
            "JTT_DATA_DIR": f"{tmp}/data",
            "DEFAULT_USER_ID": "bench",
        }
        script = Path(sys.executable).with_name("jtt")  # what people run
        jtt = str(script) if script.exists() else f"{sys.executable} -m jtt_tui"
        bare, ours = [], []
        for _ in range(args.repeat):
            bare.append(_time_to_text(f"{sys.executable} {hello}", "Hello from Textual", env))
            ours.append(_time_to_text(jtt, "Today and active", env))
    b, o = statistics.median(bare) * 1000, statistics.median(ours) * 1000
    print(
        f"bare Textual app: {b:.0f} ms   jtt: {o:.0f} ms   ratio {o / b:.2f}x "
        f"(median of {args.repeat}; launch -> first screen text)"
    )


if __name__ == "__main__":
    main()
