"""The command server's client: how `jtt status`, `start`, `stop`, `pause`,
`resume` and shell completion answer in a few milliseconds.

Most of a short command's time is Python importing jtt (pydantic models,
settings, storage). A command server (the idea of Mercurial's chg) imports
all that once and stays in the background; each command is then run by a
fresh ``fork`` of it, with this process's arguments, environment, working
directory, umask and terminal (stdin/stdout/stderr passed as file
descriptors): the same ``jtt_tui.cli.main`` as in-process, so the same
validation, the same durability (the child commits before it answers) and
the same output. Signals (Ctrl-C) are forwarded; the exit code comes back.

When no server answers, the command runs in this process as always and a
server is started for the next one; it exits after ``IDLE_S`` seconds
without a command, or as soon as jtt's code on disk changes (an upgrade).
``JTT_SERVER=off`` turns all of it off.

This module is imported on every command: it uses only modules built into
the interpreter (no ``socket``/``signal``/``json`` wrappers: they import
``enum`` and ``re``), so the path to the server costs about a millisecond.
"""

from __future__ import annotations

import _signal
import _socket
import os
import sys

TYPE_CHECKING = False  # (the typing module is not imported here: see above)
if TYPE_CHECKING:
    from collections.abc import Mapping

# the commands a server runs: short, one store read or write, no passwords;
# and `jtt` alone, the app (TUI = no arguments)
SERVED = frozenset({"status", "start", "stop", "pause", "resume", "__complete"})
PROTOCOL = b"jtt-cmd-1"
IDLE_S = 600.0
APP_FIRST_S = 2.0  # a server started by the app loads this long after it
NOT_RUN = -2  # the server's fork failed before the command started
MAX_PATH = 100  # an AF_UNIX address holds 107 bytes on Linux, 103 on macOS
_FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
_OFF = frozenset({"off", "0", "false", "no"})


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return (
        environ.get("JTT_SERVER", "").strip().lower() not in _OFF
        and hasattr(os, "fork")
        and hasattr(_socket, "AF_UNIX")
        and hasattr(_socket, "SCM_RIGHTS")
    )


def package_dir() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def identity() -> bytes:
    """Which jtt a server runs: this interpreter and this copy of the code
    (a server of another virtualenv or checkout is not asked)."""
    return os.fsencode(f"{sys.executable}\0{package_dir()}")


def runtime_dir(environ: Mapping[str, str] = os.environ) -> str | None:
    """The private folder the server's socket lives in (0700, this user's
    own), or None if it cannot be made safe."""
    base = environ.get("JTT_RUNTIME_DIR")
    if not base:
        xdg = environ.get("XDG_RUNTIME_DIR")
        base = os.path.join(xdg, "jtt") if xdg else f"/tmp/jtt-{os.getuid()}"
    try:
        os.makedirs(base, 0o700, exist_ok=True)
    except OSError:
        return None
    try:
        info = os.lstat(base)
    except OSError:
        return None
    is_dir = (info.st_mode & 0o170000) == 0o040000
    if not is_dir or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # someone else's, a symlink, or open to others: never used
    return base


def socket_path(environ: Mapping[str, str] = os.environ) -> str | None:
    import zlib

    folder = runtime_dir(environ)
    if folder is None:
        return None
    path = os.path.join(folder, f"cmd-{zlib.crc32(identity()):08x}.sock")
    return path if len(os.fsencode(path)) <= MAX_PATH else None


def run_served(arguments: list[str]) -> int | None:
    """Run the command on the server; its exit code. None: run it in this
    process (not a served command, the server off, none running: then one
    is started for next time, or a server that may not run it)."""
    if (arguments and arguments[0] not in SERVED) or not enabled():
        return None
    path = socket_path()
    if path is None:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        try:
            sock.connect(path)
        except OSError:
            # (the app: the server loads after it has drawn, not competing with it)
            start_server(path, after=0.0 if arguments else APP_FIRST_S)
            return None
        return _ask(sock, path, arguments)
    finally:
        sock.close()


def _ask(sock: _socket.socket, path: str, arguments: list[str]) -> int | None:
    import _struct

    try:
        request = _request(arguments)
        sock.sendall(_struct.pack("!I", len(request)) + request)
        sock.settimeout(5.0)  # the server forks at once; no answer: run it here
        pid = _struct.unpack("!i", _read(sock, 4))[0]
    except OSError:
        return None  # (a server going away or hung: nothing ran, nothing was handed over)
    if pid <= 0:  # a server for other code (jtt upgraded): it leaves, a new one starts
        start_server(path)
        return None
    forwarded: list[int] = []
    stopped: list[bool] = []  # the fork is stopped with this process (Ctrl-Z)

    def forward(number: int, frame: object) -> None:
        forwarded.append(number)
        _kill(pid, number)
        if stopped:  # (`kill %1` of a stopped job: it acts on it once continued)
            _kill(pid, _signal.SIGCONT)

    def suspend(number: int, frame: object) -> None:
        """Ctrl-Z: the fork has no terminal of its own to be stopped by, so
        it is stopped with this process, and goes on when this one is
        brought back to the foreground (never behind the shell's back). The
        app is asked first (SIGTSTP: it gives the terminal back as it
        would in its own process, then stops itself)."""
        if not arguments:
            _kill(pid, _signal.SIGTSTP)
            _wait_stopped(pid)
        _kill(pid, _signal.SIGSTOP)
        stopped.append(True)
        _signal.signal(_signal.SIGTSTP, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGTSTP)  # stopped here until fg or bg
        _signal.signal(_signal.SIGTSTP, suspend)
        resume(_signal.SIGCONT, None)

    def resume(number: int, frame: object) -> None:
        if _foreground():
            stopped.clear()
            _kill(pid, _signal.SIGCONT)

    for name in _FORWARDED:
        _signal.signal(getattr(_signal, name), forward)
    _signal.signal(_signal.SIGTSTP, suspend)
    _signal.signal(_signal.SIGCONT, resume)
    _signal.signal(_signal.SIGWINCH, lambda number, frame: _kill(pid, number))
    try:
        sock.settimeout(None)
        # from here on the command runs there, never here too; the terminal
        # (stdin, stdout, stderr) is handed over only now, to the fork that
        # answered: a hung server never holds it
        fds = _struct.pack("3i", 0, 1, 2)
        sock.sendmsg([b"go"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
    except OSError:  # (a closed stdin: nothing was sent, the fork leaves)
        code: int | None = NOT_RUN
    else:
        try:
            code = _struct.unpack("!i", _read(sock, 4))[0]
        except OSError:
            code = None
    if forwarded and code in (None, NOT_RUN):
        # ended by the signal (or Ctrl-C before it started: not run here
        # either): this process ends by it too, as the shell expects
        number = forwarded[-1]
        if number != _signal.SIGINT:  # (Ctrl-C: jtt says "interrupted" and exits 130)
            _signal.signal(number, _signal.SIG_DFL)
            os.kill(os.getpid(), number)
        return 128 + number
    if code == NOT_RUN:
        for name in (*_FORWARDED, "SIGTSTP", "SIGCONT", "SIGWINCH"):
            _signal.signal(getattr(_signal, name), _signal.SIG_DFL)
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        return None  # nothing ran there: it runs here
    if code is None:
        os.write(2, b"jtt: the command stopped unexpectedly (its server went away)\n")
        return 1
    return int(code)


def _kill(pid: int, number: int) -> None:
    try:  # noqa: SIM105 (contextlib would import a dozen modules)
        os.kill(pid, number)
    except OSError:
        pass  # it has just ended


def _wait_stopped(pid: int, timeout: float = 2.0) -> None:
    """Until process ``pid`` is stopped (read in Linux's /proc; elsewhere
    a moment's wait), at most ``timeout`` seconds."""
    import time

    for _ in range(int(timeout / 0.01)):
        try:
            fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        except OSError:
            time.sleep(0.1)  # (no /proc: a moment is enough for the app)
            return
        try:
            stat = os.read(fd, 1024)
        finally:
            os.close(fd)
        state = stat[stat.rfind(b")") + 2 :][:1]  # (after the name, which may hold ")")
        if state in (b"T", b"t", b"Z", b"X", b""):
            return
        time.sleep(0.01)


def _foreground() -> bool:
    """This process's group owns its terminal (or there is no terminal, so
    no job control)."""
    for fd in (0, 1, 2):
        try:
            return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue  # not a terminal
    return True


def _read(sock: _socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _request(arguments: list[str]) -> bytes:
    """Everything the command sees of this process, NUL-separated (no
    argument, path or variable can hold a NUL)."""
    mask = os.umask(0)
    os.umask(mask)
    fields = [
        PROTOCOL,
        identity().replace(b"\0", b"\1"),
        os.getcwdb(),
        str(mask).encode(),
        *(_encoding(stream) for stream in (sys.stdin, sys.stdout, sys.stderr)),
        str(len(arguments)).encode(),
        *(os.fsencode(a) for a in arguments),
        str(len(sys.path)).encode(),
        *(os.fsencode(p) for p in sys.path),
        *(k + b"=" + v for k, v in os.environb.items()),
    ]
    return b"\0".join(fields)


def _encoding(stream: object) -> bytes:
    """How the command must write to a stream as this process would."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    errors = getattr(stream, "errors", None) or "strict"
    return f"{encoding}:{errors}".encode()


def imported_with(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables Textual reads once, when it is imported (its TEXTUAL_*
    settings, ESCDELAY, whether the terminal is iTerm2): the server imports
    it with the starting command's, and runs the app only for a command
    whose would import it the same (``cmdserver.textual_key``)."""
    named = ("ESCDELAY", "LC_TERMINAL", "TERM_PROGRAM")
    return {k: v for k, v in environ.items() if k.startswith("TEXTUAL") or k in named}


def start_server(path: str, *, after: float = 0.0) -> None:
    """Start a server in the background, for the next command (this one
    runs here), loading jtt ``after`` seconds from now. Its own session, no
    terminal, stdio on /dev/null, and a minimal environment: each command
    brings its own, and secrets in this one are not kept alive in a
    long-running process."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(imported_with(os.environ))  # (the app's look: see imported_with)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    devnull = os.devnull
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0),
    ]
    try:  # noqa: SIM105 (contextlib would import a dozen modules)
        os.posix_spawn(
            sys.executable,
            # -P: not the working folder first on its path (a `jtt_tui` there
            # is not this jtt); PYTHONPATH gives it exactly this process's path
            [sys.executable, "-P", "-m", "jtt_tui.cmdserver", path, "--after", str(after)],
            env,
            file_actions=actions,
            setsid=True,
        )
    except (OSError, AttributeError, TypeError):
        pass  # no server: every command runs in its own process, as before
