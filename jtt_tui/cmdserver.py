"""The command server (see ``cmdclient.py``): jtt imported once, each served
command run in a fresh fork of it, exactly as ``jtt_tui.cli.main`` runs it
in a process of its own.

    python -m jtt_tui.cmdserver SOCKET [--idle SECONDS] [--after SECONDS]

One server per socket (a lock file beside it holds its pid). It serves only
its own user (the folder is 0700 and, on Linux, the peer's uid is checked),
holds no store open and starts no thread (a fork must not inherit either),
and exits after ``--idle`` seconds without a command or when jtt's code on
disk changes.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import TYPE_CHECKING, Any

from jtt_tui.cmdclient import IDLE_S, NOT_RUN, PROTOCOL, identity, imported_with, package_dir

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

LOCK_WAIT_S = 2.0
MAX_REQUEST = 16 * 1024 * 1024  # arguments and environment: far less in practice


def preload() -> bool:
    """What served commands and the app import, imported once (models built,
    settings schema ready, every screen): a fork then starts with all of it.
    False: the app could not be loaded here (its stylesheets missing: a
    broken install); it is then never run on this server, and says what is
    wrong when it starts in its own process."""
    import jtt_tui.commands.completion
    import jtt_tui.commands.context
    import jtt_tui.config
    import jtt_tui.logs
    import jtt_tui.services.container
    import jtt_tui.services.opening
    import jtt_tui.storage.mongo_store
    import jtt_tui.storage.sqlite_store  # noqa: F401
    from jtt_tui import cli

    cli.build_parser()  # every command module, the parser built once for every fork
    with _warm_folder() as environ:
        warm_up(environ)
        try:
            _load_app()
        except Exception:  # (the error is the app's to show, where it runs)
            return False
        return _rehearse_app(environ)


def textual_key(environ: Mapping[str, str]) -> tuple[object, ...]:
    """What Textual makes of the environment when it is imported (module
    constants: ``textual.constants``, ``_xterm_parser.IS_ITERM``): the app
    runs in a fork only if the command would have imported it the same."""
    settings = imported_with(environ)  # (of the terminal's names, only iTerm2 counts)
    terminal, program = settings.pop("LC_TERMINAL", ""), settings.pop("TERM_PROGRAM", "")
    return (tuple(sorted(settings.items())), terminal == "iTerm2" or program == "iTerm.app")


@contextlib.contextmanager
def _warm_folder() -> Iterator[dict[str, str]]:
    """A throwaway store, settings and log folder (deleted after), and the
    environment that points jtt at them."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="jtt-warm-")
    environ = {
        "JTT_CONFIG_DIR": os.path.join(folder, "config"),
        "JTT_DATA_DIR": os.path.join(folder, "data"),
        "JTT_LOG_DIR": os.path.join(folder, "logs"),
        "JTT_ENV_FILE": os.path.join(folder, "none.env"),
        "LOCAL_BACKUP_ENABLED": "false",
        "DEFAULT_USER_ID": "warm-up",
    }
    try:
        open(environ["JTT_ENV_FILE"], "w").close()  # (not a .env of the folder it runs in)
        yield environ
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def warm_up(environ: dict[str, str]) -> None:
    """Run `status`, `start`, `pause` and `stop` once on the throwaway
    store (then ``_rehearse_app`` runs the app on it): what they compile or
    build on first use (regular expressions, lazily built validators,
    settings) is then ready in every fork (a served command's first-use
    costs: ~20 ms → ~3 ms). Nothing of it stays: no log handler, the
    keyring is never asked (a local store, encryption off), and the folder
    is deleted."""
    import io

    from jtt_tui.cli import build_parser
    from jtt_tui.commands.context import Context

    parser = build_parser()
    for command in (["status"], ["start", "WARM-1"], ["pause"], ["stop"], ["status"]):
        quiet = io.StringIO()
        ctx = Context(environ=environ, out=quiet, error_stream=quiet)
        try:
            args = parser.parse_args(command)
            args.handler(ctx, args)
        finally:
            ctx.close()


def _load_app() -> None:
    import importlib
    import pkgutil

    import jtt_tui.ui

    for module in pkgutil.walk_packages(jtt_tui.ui.__path__, "jtt_tui.ui."):
        importlib.import_module(module.name)  # the app, its screens, modals, widgets


def _rehearse_app(environ: dict[str, str]) -> bool:
    """The app, without a terminal, until its Timer screen shows the
    throwaway store's timer: Textual's parsed styles, lazily imported
    widgets and first-use costs are then paid. The log it wrote to is
    closed and every thread it started has ended (a fork must not inherit
    one: RuntimeError if one has not). False: the app did not get there."""
    import threading

    from jtt_tui.logs import stop_logging
    from jtt_tui.ui.launch import run_app

    shown = []

    async def until_shown(pilot: Any) -> None:
        app = pilot.app
        for _ in range(500):  # (at most 10 s)
            await pilot.pause(0.02)
            if app.ready and "WARM-1" in _text(app.screen):
                shown.append(True)
                break
        await app.workers.wait_for_complete()
        app.exit(0)

    try:
        code = run_app(environ, auto_pilot=until_shown)
    finally:
        stop_logging()
        for thread in threading.enumerate():
            if thread is not threading.main_thread():
                thread.join(timeout=5.0)
    if threading.active_count() > 1:
        raise RuntimeError("a thread of the app's rehearsal did not end: no fork is safe")
    return code == 0 and bool(shown)


def _text(screen: Any) -> str:
    """The words a screen's data tables show (enough to see data arrived)."""
    from textual.widgets import DataTable

    words: list[str] = []
    for table in screen.query(DataTable):
        for row in range(table.row_count):
            words.extend(str(cell) for cell in table.get_row_at(row))
    return " ".join(words)


def install_dirs() -> list[str]:
    """The folders the imported packages were loaded from (site-packages,
    the standard library): pip installing or removing one changes its time.
    Not jtt's own folder's parent (a checkout: every new file there would
    count); jtt's modules are checked one by one."""
    own = os.path.dirname(package_dir())
    found = set()
    for module in list(sys.modules.values()):
        where = getattr(module, "__file__", None)
        if not where:
            continue
        name = getattr(module, "__name__", "")
        top = os.path.dirname(where)
        for _ in range(name.count(".") + (where.endswith("__init__.py"))):
            top = os.path.dirname(top)
        if top != own:
            found.add(top)
    return sorted(found)


def fingerprint(dirs: list[str]) -> tuple[object, ...]:
    """jtt's code on disk (each module's size and time) and the folders of
    what it imports: when either changes, the server is out of date."""
    files = []
    for folder, _dirs, names in os.walk(package_dir()):
        for name in names:
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                files.append((folder, name, info.st_mtime_ns, info.st_size))
    times = []
    for folder in dirs:
        with contextlib.suppress(OSError):
            times.append((folder, os.stat(folder).st_mtime_ns))
    return (tuple(sorted(files)), tuple(times))


class Server:
    def __init__(self, path: str, *, idle_s: float = IDLE_S) -> None:
        self.path = path
        self.idle_s = idle_s
        self.listener: socket.socket | None = None
        self.lock: int | None = None
        self.dirs: list[str] = []
        self.code: tuple[object, ...] = ()
        self.inode: int | None = None
        self.textual = textual_key(os.environ)  # (Textual is imported with these)
        self.serves_app = True  # (False: the app could not be loaded here)
        self.clients: dict[int, int] = {}  # a running fork's pid: its client's

    def take_lock(self) -> bool:
        import fcntl

        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + LOCK_WAIT_S  # an outgoing server may still hold it
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    return False  # another server answers on this socket
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.lock = fd
        return True

    def listen(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # a dead server's (the lock says none is alive)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.path)
        finally:
            os.umask(old)
        listener.listen(32)
        self.listener = listener
        self.inode = os.stat(self.path).st_ino

    def still_mine(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.inode
        except OSError:
            return False

    def serve(self) -> None:
        """Answer until idle, replaced or out of date."""
        assert self.listener is not None
        last = time.monotonic()
        while True:
            for ended in _reap():
                self.clients.pop(ended, None)
            self.end_orphans()
            left = self.idle_s - (time.monotonic() - last)
            if left <= 0 or not self.still_mine():
                return
            ready, _, _ = select.select([self.listener], [], [], min(left, 5.0))
            if not ready:
                continue
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            last = time.monotonic()
            if not self.handle(conn):
                return

    def handle(self, conn: socket.socket) -> bool:
        """One command: forked, or refused. False: this server must go.

        The request (the command's environment: it may hold passwords) is
        read into one buffer, never split into strings here, and wiped as
        soon as the fork has its copy."""
        request = bytearray()
        try:
            client = _peer(conn)
            if client is None:
                return True
            conn.settimeout(5.0)
            size = struct.unpack("!I", _read(conn, bytearray(4)))[0]
            if size > MAX_REQUEST:
                return True
            request = _read(conn, bytearray(size))
            ours = PROTOCOL + b"\0" + identity().replace(b"\0", b"\1") + b"\0"
            if not request.startswith(ours):
                conn.sendall(struct.pack("!i", -1))  # another jtt's client: not ours
                return True
            if fingerprint(self.dirs) != self.code:
                conn.sendall(struct.pack("!i", -1))  # upgraded: a new server takes over
                return False
            pid = os.fork()
            if pid == 0:
                _child(self, conn, bytes(request).split(b"\0"))  # never returns
            if client > 0:
                self.clients[pid] = client
            return True
        except (OSError, ValueError, struct.error):
            return True  # a client that went away, or not a jtt client
        finally:
            request[:] = bytes(len(request))
            conn.close()

    def end_orphans(self) -> None:
        """A fork whose client is gone while the fork was stopped with it
        (Ctrl-Z, then `kill -9` of jtt) cannot see that itself: it is
        ended here (SIGHUP, as a closed terminal would; SIGCONT to act on it)."""
        for fork, client in list(self.clients.items()):
            if _gone(client):
                del self.clients[fork]
                for number in (signal.SIGHUP, signal.SIGCONT):
                    with contextlib.suppress(OSError):
                        os.kill(fork, number)

    def close(self) -> None:
        if self.listener is not None:
            if self.still_mine():
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
            self.listener.close()
        if self.lock is not None:
            os.close(self.lock)


def _peer(conn: socket.socket) -> int | None:
    """The connecting process's pid (0 where the system does not say), or
    None if it is another user's."""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None:
        return 0  # (macOS: the 0700 folder keeps others out)
    creds = conn.getsockopt(socket.SOL_SOCKET, peercred, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", creds)
    return pid if uid == os.getuid() else None


def _read(conn: socket.socket, buffer: bytearray) -> bytearray:
    """Fill ``buffer`` from the connection (no intermediate copies)."""
    view, got = memoryview(buffer), 0
    while got < len(buffer):
        count = conn.recv_into(view[got:])
        if not count:
            raise ConnectionError("the client went away")
        got += count
    return buffer


def _gone(pid: int) -> bool:
    """Process ``pid`` has ended (or is a zombie its parent has not yet
    waited for)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # (someone else's process now: not ours to judge)
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _reap() -> list[int]:
    ended = []
    with contextlib.suppress(ChildProcessError):
        while pid := os.waitpid(-1, os.WNOHANG)[0]:
            ended.append(pid)
    return ended


def _child(server: Server, conn: socket.socket, fields: list[bytes]) -> None:
    """In the fork: become the client's process, run the command, answer
    its exit code (NOT_RUN if it failed before the command started: the
    client then runs it itself)."""
    code = NOT_RUN
    try:
        if server.listener is not None:
            server.listener.close()
        if server.lock is not None:
            os.close(server.lock)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        conn.settimeout(None)
        conn.sendall(struct.pack("!i", os.getpid()))
        go, fds, _flags, _addr = socket.recv_fds(conn, 2, 3)
        if go != b"go" or len(fds) != 3:
            os._exit(0)  # the client gave up waiting: it runs the command itself
        _follow_client(conn)
        arguments = _become(fields, fds)
        if not arguments and (not server.serves_app or textual_key(os.environ) != server.textual):
            return  # the app, for another terminal or TEXTUAL_* settings: run there
        from jtt_tui.cli import main

        sys.argv = ["jtt", *arguments]
        code = 1  # from here on the command has run (or tried to): never twice
        try:
            code = main(arguments)
        except SystemExit as exc:  # argparse: usage errors and --help
            code = _exit_code(exc)
        _flush()
    except BaseException:
        if code != NOT_RUN:  # (main turns every failure into words; not this one)
            with contextlib.suppress(OSError):
                os.write(2, b"jtt: the command stopped on an unexpected error\n")
    finally:
        with contextlib.suppress(BaseException):
            conn.sendall(struct.pack("!i", int(code)))
        os._exit(int(code) & 0xFF)


def _follow_client(conn: socket.socket) -> None:
    """The client only closes the connection once it has the exit code: an
    end before that means it is gone (killed, its terminal closed). The
    command then ends as it would in the client's own process, instead of
    reading a terminal that belongs to the shell again."""
    import threading

    def watch() -> None:
        try:
            gone = not conn.recv(1)
        except OSError:
            gone = True
        if gone:
            os.kill(os.getpid(), signal.SIGHUP)

    # the thread is made with every signal blocked, so a Ctrl-C forwarded
    # to this process lands in the main thread (where the command may wait
    # on the terminal), not in this one
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        threading.Thread(target=watch, name="jtt-client", daemon=True).start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _become(fields: list[bytes], fds: list[int]) -> list[str]:
    """The client's terminal, environment, folder, umask and import path."""
    cwd, mask = fields[2], int(fields[3])
    encodings = [f.decode().split(":", 1) for f in fields[4:7]]
    count = int(fields[7])
    arguments = [os.fsdecode(a) for a in fields[8 : 8 + count]]
    at = 8 + count
    paths = int(fields[at])
    sys.path[:] = [os.fsdecode(p) for p in fields[at + 1 : at + 1 + paths]]
    environ = dict(item.split(b"=", 1) for item in fields[at + 1 + paths :] if b"=" in item)
    for number, fd in enumerate(fds):
        os.dup2(fd, number)
        os.close(fd)
    fds.clear()
    os.environb.clear()
    os.environb.update(environ)
    time.tzset()  # TZ: today's boundaries are the client's
    os.chdir(cwd)
    os.umask(mask)
    (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = encodings
    tty = os.isatty(1)
    sys.stdin = open(0, encoding=in_enc, errors=in_err, closefd=False)  # noqa: SIM115
    sys.stdout = open(  # noqa: SIM115
        1, "w", encoding=out_enc, errors=out_err, closefd=False, buffering=1 if tty else -1
    )
    sys.stderr = open(2, "w", encoding=err_enc, errors=err_err, closefd=False, buffering=1)  # noqa: SIM115
    # (the app's driver reads and writes the terminal through these)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]
    return arguments


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m jtt_tui.cmdserver")
    parser.add_argument("socket")
    parser.add_argument("--idle", type=float, default=IDLE_S)
    parser.add_argument("--after", type=float, default=0.0, help="wait this long, then load")
    args = parser.parse_args(argv)
    os.chdir("/")  # never keep a user's folder busy
    server = Server(args.socket, idle_s=args.idle)
    if not server.take_lock():
        return 0
    try:
        time.sleep(max(0.0, args.after))  # (the app that started it draws first)
        server.serves_app = preload()
        server.dirs = install_dirs()
        server.code = fingerprint(server.dirs)
        server.listen()
        server.serve()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    # descriptors the starting command inherited from its shell (a pipe a
    # script waits on): not kept open for the server's lifetime
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024)
    raise SystemExit(main())
