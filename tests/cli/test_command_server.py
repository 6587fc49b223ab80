"""The command server (#17): `jtt status/start/stop/pause/resume` and shell
completion run in a fork of a process that imported jtt once. Whatever a
command prints, exits with, writes or asks must be exactly what it does in a
process of its own; the server must never run a command twice, never serve
another user or another jtt, and must leave when its code changes."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from jtt_tui.cmdclient import socket_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runtime():
    # short: an AF_UNIX path holds ~100 bytes, pytest's tmp_path may not fit
    folder = tempfile.mkdtemp(prefix="jtt-run-")
    yield folder
    for lock in Path(folder).glob("*.lock"):
        with contextlib.suppress(ValueError, OSError):
            os.kill(int(lock.read_text().split()[0]), signal.SIGTERM)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cli_env(cli_env, runtime):
    """Every `jtt` of these tests may use the server (the suite's default is off)."""
    return {**cli_env, "JTT_SERVER": "on", "JTT_RUNTIME_DIR": runtime}


def server_path(env, package: Path | None = None) -> str:
    """The socket of the server for this jtt (or for a copy at ``package``)."""
    if package is None:
        path = socket_path({"JTT_RUNTIME_DIR": env["JTT_RUNTIME_DIR"]})
    else:
        probe = (
            "import sys; from jtt_tui.cmdclient import socket_path; "
            f"print(socket_path({{'JTT_RUNTIME_DIR': {env['JTT_RUNTIME_DIR']!r}}}))"
        )
        path = subprocess.run(
            [sys.executable, "-c", probe],
            env={**env, "PYTHONPATH": str(package.parent)},
            cwd=package.parent,  # (-c puts the working folder first on the path)
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    assert path and path != "None"
    return path


def wait_for_server(env, timeout: float = 60.0, package: Path | None = None) -> int:
    """The server's pid, once it answers (it imports jtt first)."""
    path = server_path(env, package)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX) as probe, contextlib.suppress(OSError):
            probe.connect(path)
            return int(Path(path + ".lock").read_text().split()[0])
        time.sleep(0.05)
    raise AssertionError("no command server started")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # (not our child: nothing to reap)
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" not in status.read_text()


def served_pids(env) -> set[int]:
    """Processes the server forked (its children): the commands it runs."""
    pid = wait_for_server(env)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = {int(p) for p in children.read_text().split()} if children.exists() else set()
    return {p for p in pids if state(p) not in ("", "Z")}  # (a fork that has ended)


def steady(output: str) -> object:
    """Output without what changes from one moment to the next (the two
    runs are a few hundred milliseconds apart: a minute may turn between
    them): clock times and durations, JSON's "now" and seconds."""
    if not output.startswith("{"):
        import re

        output = re.sub(r"\d+:\d\d(:\d\d)?", "H:MM", output)
        return re.sub(r"\b\d+h( \d+m)?|\b\d+m\b|\b\d+s\b", "D", output)  # (11h 03m)

    def clean(value: object) -> object:
        if isinstance(value, dict):
            return {
                k: None if k == "now" or k.endswith("_seconds") else clean(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(json.loads(output))


def test_commands_answer_the_same_on_the_server_and_in_their_own_process(jtt, cli_env):
    jtt("status")  # no server yet: runs here, starts one for next time
    wait_for_server(cli_env)
    steps = [
        ("status",),
        ("start", "WEB-1", "--name", "Login page", "--at", "09:00"),
        ("status",),
        ("status", "--short"),
        ("status", "--format", "{ticket} {name} {state} {today}"),
        ("status", "--json"),
        ("pause",),
        ("resume", "WEB-1"),
        ("stop",),
        ("stop",),  # nothing running: refused, exit 1
        ("start",),  # usage error: exit 2
        ("start", "not a ticket!"),
        ("frobnicate",),
        ("__complete", "2", "jtt", "resume", "WE"),
    ]
    here_env = {"JTT_SERVER": "off"}
    for step in steps:
        served = jtt(*step, expect=None)
        # the same command, on a second store in the same state, in its own process
        alone = jtt(
            *step, expect=None, env={**here_env, "JTT_DATA_DIR": cli_env["JTT_DATA_DIR"] + "-2"}
        )
        assert (served.returncode, steady(served.stdout), served.stderr) == (
            alone.returncode,
            steady(alone.stdout),
            alone.stderr,
        ), step
    assert alive(wait_for_server(cli_env))


def test_each_command_brings_its_environment_folder_and_time_zone(jtt, cli_env, tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    jtt("status")
    wait_for_server(cli_env)
    other = tmp_path / "elsewhere"
    jtt("start", "WEB-1", env={"TZ": "UTC"})
    started = jtt(
        "start", "API-2", "--at", "-1h", env={"JTT_DATA_DIR": str(other), "TZ": "Asia/Kolkata"}
    ).stdout
    mine = json.loads(jtt("status", "--json").stdout)
    theirs = json.loads(jtt("status", "--json", env={"JTT_DATA_DIR": str(other)}).stdout)
    assert [t["ticket"] for t in mine["timers"]] == ["WEB-1"]
    assert [t["ticket"] for t in theirs["timers"]] == ["API-2"]
    # said in Kolkata's time (UTC+5:30), not the server's zone (with its
    # date when that is yesterday there: 18:30-19:30 UTC)
    since = datetime.fromisoformat(theirs["timers"][0]["since"]).astimezone(
        ZoneInfo("Asia/Kolkata")
    )
    assert started.startswith("Started API-2 at ")
    assert f"{since:%H:%M}\n" in started
    assert (other / "jtt.db").exists()  # (made by the server's fork, in this folder)


def test_a_question_on_the_terminal_is_asked_and_answered_through_the_server(jtt, jtt_tty, cli_env):
    jtt("start", "WEB-3", "--at", "-20h")
    wait_for_server(cli_env)
    code, out = jtt_tty("pause", answers="-15h\n")
    assert code == 0, out
    assert "WEB-3 has been running" in out and "Answer [s]" in out
    assert "Paused WEB-3" in out and "5:00:00 in all" in out


def asking(cli_env, tmp_path, *argv: str) -> tuple[int, int]:
    """`jtt ARGV` on a terminal of its own (a pty: it is the foreground
    job), once it waits on its question: (its pid, the pty)."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "jtt_tui", *argv], cli_env)
    output = b""
    deadline = time.monotonic() + 30
    while b"Answer [s]" not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)  # (never a read that blocks)
        if ready:
            with contextlib.suppress(OSError):
                output += os.read(fd, 4096)
    assert b"Answer [s]" in output, output
    return pid, fd


def state(pid: int) -> str:
    """A process's state letter (R, S, T stopped, Z …); "" once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return text.rsplit(")", 1)[1].split()[0]


def ended(pid: int, timeout: float = 30.0) -> int:
    """``pid``'s exit code once it ends; AssertionError if it has not
    within ``timeout`` (a hang must fail the test, not hang the suite)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    raise AssertionError(f"process {pid} did not end within {timeout} s")


def test_ctrl_c_reaches_the_command_on_the_server(jtt, cli_env, tmp_path):
    """A question waits on the terminal; Ctrl-C (SIGINT to the client, the
    terminal's foreground process) is forwarded: the command is
    interrupted, nothing changes."""
    jtt("start", "WEB-3", "--at", "-20h")
    wait_for_server(cli_env)
    pid, fd = asking(cli_env, tmp_path, "pause")
    # (CPython's input() can miss a SIGINT that lands between writing its
    # prompt and starting to read — in its own process too — so, like a
    # person, press it again if nothing happens)
    code = None
    for _ in range(20):
        os.kill(pid, signal.SIGINT)
        with contextlib.suppress(AssertionError):
            code = ended(pid, timeout=1.0)
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    assert code == 130
    assert "running" in jtt("status").stdout.lower()  # not paused: nothing changed


def test_ctrl_z_stops_the_command_on_the_server_too(jtt, cli_env, tmp_path):
    """Ctrl-Z at a question, in an interactive shell: the shell gets the
    terminal back, so the fork reading it must stop as well (else it would
    take what is typed to the shell as its answer), and go on at `fg`."""
    import pty

    jtt("start", "WEB-3", "--at", "-20h")
    assert served_pids(cli_env) == set()  # (the server is up, running nothing)
    shell, fd = pty.fork()
    if shell == 0:
        os.chdir(tmp_path)
        os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"], {**cli_env, "PS1": "$ "})
    output = bytearray()

    def until(text: bytes, times: int = 1) -> None:
        deadline = time.monotonic() + 30
        while output.count(text) < times and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                output.extend(os.read(fd, 4096))
        assert output.count(text) >= times, bytes(output)

    os.write(fd, f"{sys.executable} -m jtt_tui pause\n".encode())
    until(b"Answer [s]")
    (worker,) = served_pids(cli_env)
    os.write(fd, b"\x1a")  # Ctrl-Z
    until(b"Stopped")
    deadline = time.monotonic() + 5  # (a signal to another process lands a moment later)
    while state(worker) != "T" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert state(worker) == "T"
    os.write(fd, b"echo typed-to-the-shell\n")
    # the line echoed, then the shell's own output of it: the shell has the
    # terminal, not the fork (which would have taken the line as its answer)
    until(b"typed-to-the-shell", times=2)
    assert state(worker) == "T"
    os.write(fd, b"fg\n")
    time.sleep(0.5)
    os.write(fd, b"q\n")
    until(b"nothing changed")
    os.write(fd, b"exit\n")
    ended(shell)
    os.close(fd)
    assert "running" in jtt("status").stdout.lower()


def test_a_killed_client_takes_its_command_along(jtt, cli_env, tmp_path):
    """kill -9 of `jtt` while its question waits: the fork must not stay
    behind reading the terminal the shell uses again."""
    jtt("start", "WEB-3", "--at", "-20h")
    wait_for_server(cli_env)
    pid, fd = asking(cli_env, tmp_path, "pause")
    (worker,) = served_pids(cli_env)
    os.kill(pid, signal.SIGKILL)
    ended(pid)
    deadline = time.monotonic() + 10
    while state(worker) not in ("", "Z") and time.monotonic() < deadline:
        time.sleep(0.02)
    os.close(fd)
    assert state(worker) in ("", "Z")
    assert "running" in jtt("status").stdout.lower()  # nothing changed


def test_a_server_of_changed_code_steps_aside_and_nothing_runs_twice(jtt, cli_env, tmp_path):
    """jtt upgraded in place (its code changed on disk): the server answers
    "not me", the command runs in its own process (once), and a fresh
    server starts. (A copy of jtt, so the checkout itself is not touched.)"""
    copy = tmp_path / "installed"
    shutil.copytree(
        ROOT / "jtt_tui", copy / "jtt_tui", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {"PYTHONPATH": f"{copy}{os.pathsep}{cli_env['PYTHONPATH']}"}
    jtt("status", env=env)
    old = wait_for_server(cli_env, package=copy / "jtt_tui")
    words = copy / "jtt_tui" / "words.py"
    words.write_text(words.read_text() + "\n# upgraded\n")
    jtt("start", "WEB-1", env=env)
    deadline = time.monotonic() + 30
    while alive(old) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(old)
    jtt("status", env=env)  # (a new one is started by a command that finds none)
    assert wait_for_server(cli_env, package=copy / "jtt_tui") != old
    sessions = json.loads(jtt("export", "-", env={"JTT_SERVER": "off"}).stdout)["sessions"]
    assert [s["ticket_number"] for s in sessions] == ["WEB-1"]
    assert len(sessions[0]["segments"]) == 1  # started once
    assert "WEB-1" in jtt("status", env=env).stdout


def test_a_hung_server_is_not_waited_for_and_the_command_runs_once(jtt, cli_env):
    """Something answers on the socket but never replies: after 5 s the
    command runs in its own process; the server's fork never runs it."""
    path = server_path(cli_env)
    hung = socket.socket(socket.AF_UNIX)
    hung.bind(path)
    hung.listen(8)
    try:
        started = time.monotonic()
        jtt("start", "WEB-1")
        assert time.monotonic() - started >= 5
    finally:
        hung.close()
    sessions = json.loads(jtt("export", "-", env={"JTT_SERVER": "off"}).stdout)["sessions"]
    assert [len(s["segments"]) for s in sessions] == [1]


def test_an_unsafe_socket_folder_is_never_used(jtt, cli_env, runtime):
    os.chmod(runtime, 0o755)  # readable by others: someone could have put a socket there
    assert socket_path({"JTT_RUNTIME_DIR": runtime}) is None
    assert "Started WEB-1" in jtt("start", "WEB-1").stdout
    time.sleep(0.5)
    assert list(Path(runtime).iterdir()) == []  # no server started there


def test_the_server_leaves_when_idle(cli_env):
    path = server_path(cli_env)
    env = {k: v for k, v in cli_env.items() if k != "JTT_SERVER"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jtt_tui.cmdserver", path, "--idle", "1"], env=env
    )
    try:
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
    assert not os.path.exists(path)


def test_only_one_server_answers_on_a_socket(jtt, cli_env):
    jtt("status")
    first = wait_for_server(cli_env)
    env = {k: v for k, v in cli_env.items() if k != "JTT_SERVER"}
    second = subprocess.run(
        [sys.executable, "-m", "jtt_tui.cmdserver", server_path(cli_env)],
        env=env,
        timeout=60,
        check=False,
    )
    assert second.returncode == 0  # left at once: the lock is held
    assert wait_for_server(cli_env) == first and alive(first)


def test_the_client_imports_almost_nothing(cli_env):
    """The path to the server: interpreter built-ins only (no socket,
    signal, json, typing or pydantic), so a served command costs the
    interpreter's start plus about a millisecond."""
    probe = (
        "import sys; before = set(sys.modules); import jtt_tui.cmdclient; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=cli_env, capture_output=True, text=True, check=True
    ).stdout
    loaded = set(eval(out))  # a printed list of module names
    assert loaded <= {"jtt_tui", "jtt_tui.cmdclient", "__future__", "_signal", "_socket"}, loaded


def test_warming_up_leaves_nothing_a_fork_would_inherit(cli_env, tmp_path):
    """The server runs each served command once on a throwaway store before
    it listens (first-use costs paid once): no log handler, no keyring
    chosen, no folder left behind, the process environment untouched."""
    probe = """
import json, logging, os, sys, tempfile
before = dict(os.environ)
from jtt_tui import cmdserver
app = cmdserver.preload()
import keyring.core, threading
print(json.dumps({
    "app": app,
    "threads": threading.active_count(),
    "handlers": len(logging.getLogger().handlers) + len(logging.getLogger("jtt_tui").handlers),
    "keyring": keyring.core._keyring_backend is not None,
    "left": [p for p in os.listdir(tempfile.gettempdir()) if p.startswith("jtt-warm-")],
    "environ": dict(os.environ) == before,
}))
"""
    env = {**cli_env, "TMPDIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == {
        "app": True,  # (rehearsed: its Timer screen showed the throwaway timer)
        "threads": 1,
        "handlers": 0,
        "keyring": False,
        "left": [],
        "environ": True,
    }


def test_doctor_says_whether_commands_run_on_the_server(jtt, cli_env, runtime, tmp_path):
    from jtt_tui.services.doctor import check_command_server

    assert "starts with the next" in check_command_server(cli_env).detail
    jtt("status")
    pid = wait_for_server(cli_env)
    assert f"running as process {pid}" in check_command_server(cli_env).detail
    off = check_command_server({**cli_env, "JTT_SERVER": "off"})
    assert (off.level, off.detail.split(":")[0]) == ("OK", "off")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    unsafe = check_command_server({**cli_env, "JTT_RUNTIME_DIR": str(shared)})
    assert unsafe.level == "WARN" and "JTT_RUNTIME_DIR" in unsafe.hint


# ---- the app (`jtt` alone) on the server, in a real terminal (tmux) ----


class Pane:
    """A tmux terminal of its own running an interactive shell."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.socket = f"jtt-srv-{os.getpid()}-{id(self)}"
        # (COLUMNS and LINES: the app would take them for its size)
        dropped = ("COLUMNS", "LINES")
        self.env = {k: v for k, v in env.items() if not k.startswith("TMUX") and k not in dropped}
        self.env.update({"TERM": "xterm-256color", "PS1": "$ "})
        self.tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "-c", str(cwd),
                  "bash --norc --noprofile -i")  # fmt: skip

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True, text=True, env=self.env, check=True, timeout=20,
        ).stdout  # fmt: skip

    def type(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, *texts: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if all(text in shown for text in texts):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts!r} not on screen within {timeout} s:\n{shown}")
            time.sleep(0.05)

    def client(self) -> int:
        """The pid of the `jtt` the shell runs."""
        shell = int(self.tmux("display-message", "-p", "-t", "t", "#{pane_pid}"))
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        (pid,) = children
        return int(pid)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def pane(cli_env, tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    made: list[Pane] = []

    def open_(env: dict[str, str] | None = None) -> Pane:
        made.append(Pane(env or cli_env, tmp_path))
        return made[-1]

    yield open_
    for each in made:
        each.close()


def until(check, timeout: float = 10.0, shown=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s\n{shown()}")
        time.sleep(0.02)


def served_app(jtt, cli_env, pane) -> tuple[Pane, int]:
    """`jtt` (the app) in a terminal of its own, WEB-1 running, once it
    shows it: the terminal and the fork of the server that runs the app."""
    jtt("start", "WEB-1")
    wait_for_server(cli_env)
    term = pane()
    term.type(f"{sys.executable} -m jtt_tui", "Enter")
    term.wait_for("WEB-1", "local ● connected")
    (app,) = served_pids(cli_env)
    return term, app


def test_the_app_runs_on_the_server_keys_resizes_and_quits_as_in_its_own_process(
    jtt, cli_env, pane
):
    jtt("start", "WEB-1")
    wait_for_server(cli_env)
    term = pane()
    term.type(f"{sys.executable} -m jtt_tui; echo EXIT=$?", "Enter")
    term.wait_for("WEB-1", "local ● connected")
    (app,) = served_pids(cli_env)  # the app is the server's fork
    assert state(term.client()) in ("S", "R")  # its client waits
    # a burst of keys (a paste, a laggy link) lands where slow typing would
    term.type("n", "WEB-2", "Tab", "Login page")
    shown = term.wait_for("Login page")
    assert "WEB-2Login" not in shown
    term.type("C-s")
    term.wait_for("Started WEB-2")
    assert "Login page" in jtt("status").stdout
    # the terminal made smaller: the app lays itself out again (its key
    # line, at the bottom, is on the last of the 20 rows)
    term.tmux("resize-window", "-t", "t", "-x", "60", "-y", "20")
    until(lambda: "? Keys" in term.screen().rstrip("\n").splitlines()[-1], shown=term.screen)
    assert len(term.screen().splitlines()) == 20
    term.type("C-q")
    shown = term.wait_for("EXIT=0")
    assert "WEB-2 keeps running" in shown  # its farewell, on the shell's terminal
    until(lambda: state(app) in ("", "Z"))


def test_the_app_with_other_textual_settings_runs_in_its_own_process(jtt, cli_env, pane):
    """Textual reads some variables once, on import: an app that needs
    other ones than the server imported it with is not run there."""
    jtt("status")
    wait_for_server(cli_env)
    term = pane({**cli_env, "TEXTUAL_ANIMATIONS": "none"})
    term.type(f"{sys.executable} -m jtt_tui; echo EXIT=$?", "Enter")
    term.wait_for("local ● connected")
    assert served_pids(cli_env) == set()
    term.type("C-q")
    term.wait_for("EXIT=0")


def test_a_suspended_app_gives_the_terminal_back_and_comes_back_on_fg(jtt, cli_env, pane):
    """SIGTSTP to `jtt` (the app's terminal is raw: Ctrl-Z is a key there,
    so from `kill -TSTP`): the app restores the terminal and stops, as in a
    process of its own; the shell has the terminal; `fg` brings it back."""
    term, app = served_app(jtt, cli_env, pane)
    os.kill(term.client(), signal.SIGTSTP)
    term.wait_for("Stopped")
    until(lambda: state(app) == "T")
    term.type("echo the-shell-has-it", "Enter")
    term.wait_for("\nthe-shell-has-it")  # echoed by the shell, in cooked mode
    term.type("fg", "Enter")
    # every part of the screen drawn again, without a key pressed first
    term.wait_for("WEB-1", "Status", "Today and active", "? Keys", timeout=10)
    assert state(app) in ("S", "R")
    term.type("n", "WEB-9")  # its keys are the app's again
    term.wait_for("WEB-9")


def test_a_killed_client_takes_the_app_along(jtt, cli_env, pane):
    term, app = served_app(jtt, cli_env, pane)
    os.kill(term.client(), signal.SIGKILL)
    until(lambda: state(app) in ("", "Z"))
    assert "WEB-1" in jtt("status").stdout  # the timer is a start time: still running


def test_kill_of_a_suspended_app_ends_it_as_in_its_own_process(jtt, cli_env, pane):
    """`kill %1` of the stopped job: bash sends SIGTERM and SIGCONT to
    `jtt`; the app's fork, stopped with it, must end by it too (and `jtt`
    be "Terminated", not wait for it forever)."""
    term, app = served_app(jtt, cli_env, pane)
    os.kill(term.client(), signal.SIGTSTP)
    term.wait_for("Stopped")
    until(lambda: state(app) == "T")
    term.type("kill %1; sleep 0.5; jobs; echo jobs-listed", "Enter")
    shown = term.wait_for("Terminated", "\njobs-listed")
    assert "Stopped" not in shown.split("kill %1")[-1]
    until(lambda: state(app) in ("", "Z"))


def test_a_killed_client_takes_its_stopped_app_along(jtt, cli_env, pane):
    """kill -9 of `jtt` while it is suspended: the fork, stopped, cannot
    see it; the server ends it (within its 5 s rounds)."""
    term, app = served_app(jtt, cli_env, pane)
    client = term.client()
    os.kill(client, signal.SIGTSTP)
    term.wait_for("Stopped")
    until(lambda: state(app) == "T")
    os.kill(client, signal.SIGKILL)
    until(lambda: state(app) in ("", "Z"), timeout=20)
    assert "WEB-1" in jtt("status").stdout  # (nothing else changed)


def test_the_server_never_imports_jtt_from_the_folder_it_is_started_in(cli_env, tmp_path):
    """`jtt status` typed in a folder that holds a `jtt_tui` of its own (a
    checkout of jtt, or something planted): the console script does not
    look there, and the server it starts must not either; else it runs
    other code, or refuses every command as "another jtt's"."""
    from jtt_tui import cmdclient

    trap = tmp_path / "trap"
    (trap / "jtt_tui").mkdir(parents=True)
    (trap / "jtt_tui" / "__init__.py").write_text("raise SystemExit('the wrong jtt')\n")
    # -P: the path a console script gets (its own folder first, never the working one)
    subprocess.run(
        [sys.executable, "-P", "-m", "jtt_tui", "status"],
        cwd=trap, env=cli_env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    wait_for_server(cli_env)
    with socket.socket(socket.AF_UNIX) as probe:
        probe.connect(server_path(cli_env))
        request = cmdclient._request(["status"])
        probe.sendall(struct.pack("!I", len(request)) + request)
        probe.settimeout(10)
        (pid,) = struct.unpack("!i", probe.recv(4))
    assert pid > 0  # a fork ready to run it (it leaves: no "go" follows)
