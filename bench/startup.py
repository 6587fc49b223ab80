"""Start-up in a real terminal (tmux), measured in turns in one run: a bare
Textual "hello" app's first text; jtt's first text; and jtt's Timer screen
with its data (the running timer and the newest ticket of Recent) on a
store of ``--sessions`` sessions: on the command server (the default, warm:
see ``jtt_tui/cmdclient.py``) and in a process of its own (JTT_SERVER=off,
as when no server runs: the first start after 10 idle minutes).

    python -m bench.startup [--repeat 7] [--sessions 100000]
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


def _time_to_text(command: str, marker: str | tuple[str, ...], env: dict[str, str]) -> float:
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
            markers = (marker,) if isinstance(marker, str) else marker
            if all(m in screen for m in markers):
                return time.perf_counter() - start
            time.sleep(0.005)
        raise RuntimeError(f"{marker!r} never appeared for {command}")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sessions", type=int, default=100_000)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed: apt-get install -y tmux")
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("JTT_", "MONGODB_"))},
            "TERM": "xterm-256color",
            "JTT_CONFIG_DIR": f"{tmp}/cfg",
            "JTT_DATA_DIR": f"{tmp}/data",
            "DEFAULT_USER_ID": "bench",
            "LOCAL_BACKUP_ENABLED": "false",  # (a 100k-session backup on every quit)
        }
        newest = _fill(Path(tmp) / "data" / "jtt.db", args.sessions)
        script = Path(sys.executable).with_name("jtt")  # what people run
        jtt = str(script) if script.exists() else f"{sys.executable} -m jtt_tui"
        served = {**env, "JTT_SERVER": "on", "JTT_RUNTIME_DIR": f"{tmp}/run"}
        own = {**env, "JTT_SERVER": "off"}
        _warm_server(jtt.split(), served)
        runs: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            runs.setdefault("bare", []).append(
                _time_to_text(f"{sys.executable} {hello}", "Hello from Textual", env)
            )
            for how, how_env in (("served", served), ("own", own)):
                empty = {**how_env, "JTT_DATA_DIR": f"{tmp}/empty"}
                runs.setdefault(f"{how} first", []).append(
                    _time_to_text(jtt, "Today and active", empty)
                )
                runs.setdefault(f"{how} data", []).append(
                    _time_to_text(jtt, ("RUN-1", newest), how_env)
                )
        _stop_server(Path(tmp) / "run")
    ms = {name: statistics.median(times) * 1000 for name, times in runs.items()}
    b = ms["bare"]
    print(f"launch -> first screen text, median of {args.repeat} (in turns, one run):")
    print(f"  {'bare Textual app':<44}{b:6.0f} ms")
    for how, words in (("served", "on the command server (warm)"), ("own", "in its own process")):
        print(f"  jtt {words}:")
        for label, key in (
            ("first text (empty store)", f"{how} first"),
            (f"Timer screen with data ({args.sessions:,})", f"{how} data"),
        ):
            print(f"    {label:<42}{ms[key]:6.0f} ms   {ms[key] / b:.2f}x bare")


def _warm_server(jtt: list[str], env: dict[str, str]) -> None:
    """The first command starts the server (for the script's interpreter:
    its socket's name is not this process's); wait until it answers."""
    import socket

    subprocess.run([*jtt, "status"], env=env, check=True, capture_output=True)
    for _ in range(600):
        for path in Path(env["JTT_RUNTIME_DIR"]).glob("*.sock"):
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(str(path))
                    return
                except OSError:
                    pass
        time.sleep(0.05)
    raise SystemExit("the command server did not start")


def _stop_server(folder: Path) -> None:
    from bench.cli import _stop_server as stop

    stop(folder)


def _fill(path: Path, sessions: int) -> str:
    """A store of ``sessions`` sessions and a running timer; the ticket the
    Recent list shows first."""
    from bench.datasets import make_sessions
    from jtt_tui.domain import DataBundle
    from jtt_tui.services.timer import TimerService
    from jtt_tui.storage import SQLiteStore

    made = make_sessions(sessions)
    store = SQLiteStore(path, user_id="bench")
    store.connect()
    store.import_all(DataBundle(sessions=made))
    TimerService(store).start("RUN-1")
    store.disconnect()
    return made[-1].ticket_number


if __name__ == "__main__":
    main()
