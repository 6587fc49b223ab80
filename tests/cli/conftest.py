"""Run the real ``jtt`` command in a subprocess with its own folders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONGODB_", "JTT_", "DEFAULT_USER_ID", "ENABLE_MULTI_USER", "LOCAL_"))
    }
    return {
        **base,
        "JTT_CONFIG_DIR": str(tmp_path / "config"),
        "JTT_DATA_DIR": str(tmp_path / "data"),
        "JTT_LOG_DIR": str(tmp_path / "logs"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": "tests.support.keyrings.FileKeyring",
        "JTT_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "TZ": "UTC",
        "DEFAULT_USER_ID": "tester",
        "JTT_SERVER": "off",  # (tests/cli/test_command_server.py turns it on)
    }


@pytest.fixture
def jtt(cli_env: dict[str, str], tmp_path: Path) -> Run:
    work = tmp_path / "work"
    work.mkdir()

    def run(
        *args: str,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        expect: int | None = 0,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "jtt_tui", *args],
            check=False,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=work,
            env={**cli_env, **(env or {})},
            timeout=60,
        )
        assert "Traceback" not in result.stderr, result.stderr
        if expect is not None:
            assert result.returncode == expect, (result.stdout, result.stderr)
        return result

    return run


@pytest.fixture
def jtt_tty(cli_env: dict[str, str], tmp_path: Path) -> Callable[..., tuple[int, str]]:
    """`jtt` with a terminal (a pseudo-tty), answering its questions."""
    import pty
    import select

    def run(*args: str, answers: str = "", timeout: float = 30.0) -> tuple[int, str]:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the terminal is its stdin and stdout
            os.chdir(tmp_path)
            os.execve(sys.executable, [sys.executable, "-m", "jtt_tui", *args], cli_env)
        output = b""
        os.write(fd, answers.encode())
        deadline = __import__("time").monotonic() + timeout
        while __import__("time").monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        text = output.decode(errors="replace").replace("\r\n", "\n")
        assert "Traceback" not in text, text
        return os.waitstatus_to_exitcode(status), text

    return run
