"""jtt migrate, end to end: the real command against the wire-level server."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "electron-store" / "app-data.json"
FAST = {"MONGODB_SERVER_SELECTION_TIMEOUT_MS": "1000", "MONGODB_CONNECT_TIMEOUT_MS": "1000"}


def _settings(cli_env) -> dict:
    path = Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


def test_local_to_mongodb_verified_then_switch_and_back(jtt, cli_env, wire):
    jtt("import", str(FIXTURE))
    jtt("stop", "WEB-102", "--at", "2025-07-20 17:00")  # left running in the file since 2025
    jtt("start", "WEB-7", "--name", "running during the move")
    uri = f"mongodb://127.0.0.1:{wire.port}"

    dry = jtt("migrate", "--to", "mongodb", "--uri", uri, "--dry-run", env=FAST)
    assert "would copy" in dry.stdout and "Dry run:" in dry.stdout
    assert wire.data["jtt"]["sessions"].count_documents({}) == 0

    moved = jtt("migrate", "--to", "mongodb", "--uri", uri, "--batch-size", "2", env=FAST)
    assert "Verified:" in moved.stdout and "NO" not in moved.stdout
    assert "[  ok] backup" in moved.stderr and "[  ok] verify" in moved.stderr
    assert "sessions: " in moved.stderr  # plain progress lines (not a terminal)
    backups = list((Path(cli_env["JTT_DATA_DIR"]) / "backups").glob("before-migrate-*.json"))
    assert len(backups) == 1 and stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert wire.data["jtt"]["sessions"].count_documents({}) == 5
    assert "Not switched" in moved.stdout
    assert _settings(cli_env).get("mongodb", {}).get("enabled") is not True

    again = jtt("migrate", "--to", "mongodb", "--uri", uri, "--switch", env=FAST)
    assert "Switched: jtt now uses MongoDB" in again.stdout
    assert _settings(cli_env)["mongodb"]["enabled"] is True
    status = jtt("status", env=FAST).stdout
    assert "WEB-7" in status  # the running timer, now read from MongoDB

    back = jtt("migrate", "--to", "local", "--switch", env=FAST)
    assert "Verified:" in back.stdout
    assert _settings(cli_env)["mongodb"]["enabled"] is False
    assert "WEB-7" in jtt("status").stdout


def test_refusals_change_nothing(jtt, cli_env, wire):
    jtt("start", "WEB-1")
    assert "already the one in use" in jtt("migrate", "--to", "local", expect=1).stderr
    assert "no MongoDB connection string" in jtt("migrate", "--to", "mongodb", expect=1).stderr
    assert (
        "--batch-size"
        in jtt(
            "migrate", "--to", "mongodb", "--uri", "mongodb://h", "--batch-size", "0", expect=2
        ).stderr
    )
    bad = jtt("migrate", "--to", "mongodb", "--uri", "http://x", expect=2).stderr
    assert "mongodb://" in bad


def test_an_unreachable_target_stops_at_connect_and_never_echoes_the_password(jtt, wire):
    jtt("start", "WEB-1")
    wire.mode = "auth_refused"
    secret = "Kept-0ut-0f-output"
    result = jtt(
        "migrate",
        "--to",
        "mongodb",
        "--uri",
        f"mongodb://me:{secret}@127.0.0.1:{wire.port}",
        env=FAST,
        expect=1,
    )
    assert "stopped at the connect step" in result.stderr
    assert "run the same command again" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert "WEB-1" in jtt("status").stdout
