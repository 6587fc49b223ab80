"""jtt db show / configure / use, doctor, configuration errors, help."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

SECRET = "n0t-In-Any-File"
UNREACHABLE = {"MONGODB_SERVER_SELECTION_TIMEOUT_MS": "300", "MONGODB_CONNECT_TIMEOUT_MS": "300"}


def _settings(cli_env) -> dict:
    path = Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


def test_configure_keeps_the_password_in_keyring_only(jtt, cli_env, tmp_path):
    result = jtt(
        "db",
        "configure",
        "--uri",
        f"mongodb://tracker:{SECRET}@127.0.0.1:1/",
        "--database",
        "team",
        "--auth-source",
        "admin",
        "--no-tls",
    )
    assert "password in keyring" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    mongo = _settings(cli_env)["mongodb"]
    assert mongo == {
        "uri": "mongodb://127.0.0.1:1/",
        "username": "tracker",
        "database": "team",
        "auth_source": "admin",
        "tls": False,
        "password_in_keyring": True,
    }
    keyring = json.loads(Path(cli_env["JTT_TEST_KEYRING_FILE"]).read_text())
    assert keyring == {"jtt/mongodb-password": SECRET}
    shown = jtt("db", "show").stdout
    assert "password in keyring" in shown and SECRET not in shown
    for folder in (cli_env["JTT_CONFIG_DIR"], cli_env["JTT_DATA_DIR"], str(tmp_path / "work")):
        for path in Path(folder).rglob("*") if Path(folder).exists() else []:
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path


def test_password_from_stdin(jtt, cli_env):
    jtt("db", "configure", "--uri", "mongodb://db.example", "--username", "tracker")
    jtt("db", "configure", "--password-stdin", stdin=f"{SECRET}\n")
    assert json.loads(Path(cli_env["JTT_TEST_KEYRING_FILE"]).read_text()) == {
        "jtt/mongodb-password": SECRET
    }


def test_configure_rejects_bad_values_and_changes_nothing(jtt, cli_env):
    before = _settings(cli_env)
    assert "mongodb://" in jtt("db", "configure", "--uri", "postgres://x", expect=2).stderr
    assert (
        "no such file"
        in jtt(
            "db", "configure", "--uri", "mongodb://h", "--tls-ca-file", "/nope.pem", expect=2
        ).stderr
    )
    assert "nothing to configure" in jtt("db", "configure", expect=2).stderr
    assert _settings(cli_env).get("mongodb") == before.get("mongodb")


def test_use_mongodb_refuses_an_unreachable_server(jtt, cli_env):
    assert "not configured" in jtt("db", "use", "mongodb", expect=1).stderr
    jtt("db", "configure", "--uri", "mongodb://127.0.0.1:1", env=UNREACHABLE)
    result = jtt("db", "use", "mongodb", env=UNREACHABLE, expect=1)
    assert "not switched" in result.stderr
    assert "(network)" in result.stderr or "(timeout)" in result.stderr
    assert "hint:" in result.stderr
    assert _settings(cli_env)["mongodb"].get("enabled") is not True
    assert "Backend:       local" in jtt("db", "show").stdout
    assert "Now using the local store" in jtt("db", "use", "local").stdout


def test_unreachable_mongodb_works_offline_and_queues_the_change(jtt):
    env = {**UNREACHABLE, "MONGODB_ENABLED": "true", "MONGODB_URI": "mongodb://127.0.0.1:1"}
    result = jtt("start", "WEB-1", env=env)
    assert "working offline" in result.stderr and "(network)" in result.stderr
    assert "Started WEB-1" in result.stdout
    # the next command (still offline) sees it, from the offline copy
    assert "WEB-1" in jtt("status", env=env).stdout
    # it went to the queue for the shared store, not to the local store
    assert "No timer is running." in jtt("status").stdout


def test_doctor(jtt, cli_env):
    result = jtt("doctor")
    lines = result.stdout.splitlines()
    assert any(line.startswith("OK    local store") for line in lines)
    assert any(line.startswith("OK    keyring") for line in lines)
    assert any("mongodb" in line and "not configured" in line for line in lines)
    jtt("db", "configure", "--uri", "mongodb://127.0.0.1:1", env=UNREACHABLE)
    failing = jtt("doctor", env=UNREACHABLE, expect=1)
    assert "FAIL  mongodb connection" in failing.stdout
    assert "hint:" in failing.stdout


def test_doctor_warns_about_a_readable_store(jtt, cli_env):
    jtt("start", "WEB-1")
    store = Path(cli_env["JTT_DATA_DIR"]) / "jtt.db"
    store.chmod(0o644)
    out = jtt("doctor").stdout
    assert "WARN  local store" in out and "readable by others" in out


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MONGODB_MAX_POOL_SIZE": "ten"}, "MONGODB_MAX_POOL_SIZE=ten"),
        ({"MONGODB_URI": "mysql://root:hunter2@db"}, "MONGODB_URI=mysql://root:***@db"),
        ({"MONGODB_MIN_POOL_SIZE": "50", "MONGODB_MAX_POOL_SIZE": "5"}, "larger than the max"),
    ],
)
def test_configuration_errors_exit_2_with_one_line(jtt, env, message):
    result = jtt("status", env=env, expect=2)
    assert result.stderr.startswith("jtt: configuration error: ")
    assert message in result.stderr
    assert "hunter2" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_for_every_command(jtt):
    top = jtt("--help").stdout
    commands = [
        "start",
        "pause",
        "resume",
        "stop",
        "complete",
        "status",
        "log",
        "export",
        "import",
        "reset",
        "db",
        "doctor",
    ]
    for command in commands:
        assert command in top
        assert "usage: jtt " + command in jtt(command, "--help").stdout
    for action in ("show", "configure", "use"):
        assert f"usage: jtt db {action}" in jtt("db", action, "--help").stdout
    assert jtt("--version").stdout.startswith("jtt ")
    assert "invalid choice" in jtt("frobnicate", expect=2).stderr


def test_a_refused_password_never_shows_in_any_output(jtt, wire):
    """Every command that touches a MongoDB refusing the password — with
    --debug's traceback too — keeps the password out of what it prints."""
    wire.mode = "auth_refused"
    uri = f"mongodb://tracker:{SECRET}@127.0.0.1:{wire.port}/"
    outputs = [jtt("db", "configure", "--uri", uri, "--no-tls", env=UNREACHABLE)]
    outputs.append(jtt("db", "use", "mongodb", env=UNREACHABLE, expect=1))
    assert "(auth)" in outputs[-1].stderr and "127.0.0.1" in outputs[-1].stderr
    outputs.append(jtt("doctor", env=UNREACHABLE, expect=1))
    assert "FAIL  mongodb connection" in outputs[-1].stdout
    enabled = {**UNREACHABLE, "MONGODB_ENABLED": "true", "MONGODB_URI": uri}
    outputs.append(jtt("--debug", "start", "WEB-1", env=enabled))
    assert "working offline" in outputs[-1].stderr
    outputs.append(jtt("--debug", "status", env={**enabled, "MONGODB_PASSWORD": SECRET}))
    outputs.append(jtt("db", "show", env=enabled))
    for result in outputs:
        assert SECRET not in result.stdout + result.stderr, result


def test_doctor_checks_the_database_users_privileges(jtt, wire):
    jtt("db", "configure", "--uri", wire.uri.split("?")[0], env=UNREACHABLE)
    out = jtt("doctor", env=UNREACHABLE).stdout
    assert "WARN  mongodb user" in out and "not authenticated" in out
    wire.auth_info = {
        "authenticatedUsers": [{"user": "jtt", "db": "admin"}],
        "authenticatedUserRoles": [{"role": "root", "db": "admin"}],
    }
    out = jtt("doctor", env=UNREACHABLE).stdout
    assert "jtt@admin has more than readWrite on jtt: root@admin" in out
    assert "least-privilege user" in out
    wire.auth_info = {
        "authenticatedUsers": [{"user": "jtt", "db": "admin"}],
        "authenticatedUserRoles": [{"role": "readWrite", "db": "jtt"}],
    }
    out = jtt("doctor", env=UNREACHABLE).stdout
    assert "OK    mongodb user" in out and "readWrite on jtt only" in out


def test_doctor_names_files_others_can_read(jtt, cli_env):
    jtt("start", "WEB-1")
    assert "OK    file permissions" in jtt("doctor").stdout
    data = Path(cli_env["JTT_DATA_DIR"])
    data.chmod(0o755)
    out = jtt("doctor").stdout
    assert "WARN  file permissions" in out and f"{data}/ (0755)" in out


def test_a_write_whose_answer_is_lost_says_it_was_saved_offline(jtt, wire):
    """The server carries the write out but its answer never arrives: the
    command must not read as confirmed — it says the change is queued."""
    jtt("db", "configure", "--uri", wire.uri.split("?")[0], env=UNREACHABLE)
    env = {
        **UNREACHABLE,
        "MONGODB_ENABLED": "true",
        "MONGODB_URI": wire.uri,
        "MONGODB_SOCKET_TIMEOUT_MS": "500",
    }
    assert "Saved offline" not in jtt("start", "AR-1", env=env).stderr  # confirmed
    wire.mode = "lose_replies"
    stopped = jtt("stop", env=env)
    assert "Stopped AR-1" in stopped.stdout
    assert "Saved offline" in stopped.stderr and "sent by the next jtt" in stopped.stderr
    wire.mode = "normal"
    assert "Saved offline" not in jtt("status", env=env).stderr  # a read queues nothing
