"""The real app in a real terminal (tmux), as a user over SSH meets it: it
opens its store without waiting for a key, and a burst of keys (a paste, a
laggy link: one `send-keys`) lands exactly where slow typing would.
Skipped where tmux is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    def __init__(self, tmp_path: Path, size: tuple[int, int]) -> None:
        self.socket = f"jtt-test-{os.getpid()}-{id(self)}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MONGODB_", "JTT_", "DEFAULT_USER_ID", "LOCAL_", "TMUX"))
            and k not in ("COLUMNS", "LINES")  # the app would take them for its size
        }
        self.env.update(
            {
                "JTT_SERVER": "off",
                "JTT_CONFIG_DIR": str(tmp_path / "config"),
                "JTT_DATA_DIR": str(tmp_path / "data"),
                "JTT_LOG_DIR": str(tmp_path / "logs"),
                "PYTHONPATH": str(ROOT),
                "PYTHON_KEYRING_BACKEND": "tests.support.keyrings.FileKeyring",
                "JTT_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
                "TZ": "UTC",
                "DEFAULT_USER_ID": "tester",
                "TERM": "xterm-256color",
            }
        )
        self.size = size
        self.cwd = tmp_path

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            check=True,
            timeout=20,
        )
        return done.stdout

    def start(self, command: str) -> None:
        cols, rows = self.size
        self.tmux("new-session", "-d", "-s", "app", "-x", str(cols), "-y", str(rows), command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen within {timeout} s:\n{shown}")
            time.sleep(0.1)

    def jtt(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "jtt_tui", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            check=True,
            timeout=60,
        )
        return done.stdout

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def terminal(tmp_path):
    made: list[Terminal] = []

    def open_(size: tuple[int, int] = (80, 24)) -> Terminal:
        term = Terminal(tmp_path, size)
        made.append(term)
        return term

    yield open_
    for term in made:
        term.close()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
def test_a_burst_of_keys_lands_where_slow_typing_would(terminal, size):
    term = terminal(size)
    term.jtt("start", "ACME-101")
    term.start(f"{sys.executable} -m jtt_tui")
    # the store opens by itself: no key needed for the list to fill
    term.wait_for("local ● connected")
    term.wait_for("ACME-101")
    # one send-keys: n opens the dialog, the rest arrive while it opens
    term.tmux("send-keys", "-t", "app", "n", "ACME-500", "Tab", "Fix login")
    shown = term.wait_for("Fix login")
    assert "ACME-500Fix" not in shown
    lines = shown.splitlines()
    ticket = next(i for i, line in enumerate(lines) if "ACME-500" in line)
    name = next(i for i, line in enumerate(lines) if "Fix login" in line)
    assert ticket < name  # two fields, in order
    term.tmux("send-keys", "-t", "app", "C-s")
    term.wait_for("Started ACME-500")
    status = term.jtt("status")
    assert "ACME-500" in status and "Fix login" in status
    term.tmux("send-keys", "-t", "app", "C-q")


def test_add_time_for_another_day_in_one_burst(terminal):
    term = terminal((80, 24))
    term.start(f"{sys.executable} -m jtt_tui")
    term.wait_for("local ● connected")
    # the reproduction: 20m, Tab, clear the date, yesterday
    term.tmux(
        "send-keys", "-t", "app", "a", "WEB-7", "Tab", "Tab", "Tab", "20m", "Tab", "C-u",
        "yesterday",
    )  # fmt: skip
    term.wait_for("yesterday")
    term.tmux("send-keys", "-t", "app", "C-s")
    term.wait_for("Added 20m")
    log = term.jtt("log", "--from", "-1", "--to", "-1")
    assert "WEB-7" in log


def test_the_footer_follows_the_focus(terminal):
    term = terminal((60, 20))
    term.jtt("add", "WEB-1", "--from", "-3h", "--to", "-2h")
    term.start(f"{sys.executable} -m jtt_tui")
    term.wait_for("local ● connected")
    term.wait_for("WEB-1")
    assert term.screen().splitlines()[-1].rstrip().endswith("? Keys")
    term.tmux("send-keys", "-t", "app", "Tab")  # Today -> its segments
    shown = term.wait_for("e Edit segment")
    assert shown.splitlines()[-1].rstrip().endswith("? Keys")
