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
