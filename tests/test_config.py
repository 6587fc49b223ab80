"""Settings: precedence, validation messages, stable user id, settings.toml."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from jtt_tui.config import (
    ENV_VARS,
    LOCATION_VARS,
    ConfigError,
    MongoConfig,
    dump_toml,
    load_settings,
    update_settings_file,
)

ROOT = Path(__file__).resolve().parents[1]


def _write_settings(env: dict[str, str], text: str) -> Path:
    path = Path(env["JTT_CONFIG_DIR"]) / "settings.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults(jtt_env):
    settings = load_settings()
    assert settings.backend == "local"
    assert settings.mongodb.database == "jtt"
    assert settings.mongodb.max_pool_size == 10
    assert settings.health_interval_s == 5
    assert settings.store_path == Path(jtt_env["JTT_DATA_DIR"]) / "jtt.db"
    assert settings.config_dir == Path(jtt_env["JTT_CONFIG_DIR"])


def test_precedence_defaults_toml_dotenv_environment(jtt_env, monkeypatch):
    _write_settings(
        jtt_env,
        '[mongodb]\ndatabase = "from_toml"\nmax_pool_size = 20\n'
        "min_pool_size = 2\n[timer]\nallow_concurrent = true\n",
    )
    Path(".env").write_text("MONGODB_DATABASE=from_dotenv\nMONGODB_MAX_POOL_SIZE=30\n")
    monkeypatch.setenv("MONGODB_DATABASE", "from_environment")
    settings = load_settings()
    assert settings.mongodb.database == "from_environment"  # environment beats .env
    assert settings.mongodb.max_pool_size == 30  # .env beats settings.toml
    assert settings.mongodb.min_pool_size == 2  # settings.toml beats the default
    assert settings.timer.allow_concurrent is True
    assert settings.env_file == Path.cwd() / ".env"


def test_env_file_named_by_jtt_env_file(jtt_env, monkeypatch, tmp_path):
    other = tmp_path / "elsewhere.env"
    other.write_text("JTT_ALLOW_CONCURRENT_TIMERS=yes\n")
    monkeypatch.setenv("JTT_ENV_FILE", str(other))
    assert load_settings().timer.allow_concurrent is True
    monkeypatch.setenv("JTT_ENV_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(ConfigError, match="no such file"):
        load_settings()


def test_dotenv_can_move_the_config_dir(jtt_env, monkeypatch, tmp_path):
    monkeypatch.delenv("JTT_CONFIG_DIR")
    Path(".env").write_text(f"JTT_CONFIG_DIR={tmp_path / 'moved'}\n")
    assert load_settings().config_dir == tmp_path / "moved"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "MONGODB_MAX_POOL_SIZE",
            "ten",
            r"MONGODB_MAX_POOL_SIZE=ten .*must be a whole number.*allowed: "
            r"a whole number from 1 to 500",
        ),
        (
            "MONGODB_URI",
            "http://jtt:hunter2@db:1",
            r"MONGODB_URI=http://jtt:\*\*\*@db:1 .*"
            r"mongodb://",
        ),
        ("MONGODB_URI", "mongodb://", r"MONGODB_URI=mongodb:// .*followed by a host"),
        (
            "MONGODB_MIN_POOL_SIZE",
            "20",
            r"MONGODB_MIN_POOL_SIZE=20 .*larger than the max pool "
            r"size \(10\)",
        ),
        ("MONGODB_SSL", "maybe", r"MONGODB_SSL=maybe .*allowed: auto, true or false"),
        ("MONGODB_ENABLED", "perhaps", r"MONGODB_ENABLED=perhaps .*true or false"),
        ("JTT_HEALTH_INTERVAL_S", "0", r"JTT_HEALTH_INTERVAL_S=0 .*0.5 to 3600"),
        ("LOCAL_BACKUP_INTERVAL_HOURS", "-1", r"LOCAL_BACKUP_INTERVAL_HOURS=-1 .*1 to 720"),
        (
            "MONGODB_TLS_CA_FILE",
            "/no/such/ca.pem",
            r"MONGODB_TLS_CA_FILE=/no/such/ca.pem .*no "
            r"such file",
        ),
        ("MONGODB_DATABASE", "my.db", r"MONGODB_DATABASE=my.db"),
        ("DEFAULT_USER_ID", "two words", r"DEFAULT_USER_ID=two words"),
    ],
)
def test_bad_values_give_one_clear_line(jtt_env, monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert re.search(expected, message), message
    assert "hunter2" not in message


def test_bad_value_in_settings_toml_names_the_file_and_key(jtt_env):
    path = _write_settings(jtt_env, "[mongodb]\nmax_pool_size = 0\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(path) in str(info.value)
    assert "[mongodb] max_pool_size = 0" in str(info.value)


def test_broken_toml_is_a_clear_error(jtt_env):
    _write_settings(jtt_env, "[mongodb\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_a_password_in_settings_toml_is_refused(jtt_env):
    _write_settings(jtt_env, '[mongodb]\npassword = "oops"\n')
    with pytest.raises(ConfigError, match="must not be stored in settings.toml") as info:
        load_settings()
    assert "oops" not in str(info.value)


def test_user_id_is_generated_once_and_kept(jtt_env):
    first = load_settings().user_id
    assert re.fullmatch(r"[\w.-]+-[0-9a-f]{8}", first)
    for _ in range(3):
        assert load_settings().user_id == first
    stored = tomllib.loads((Path(jtt_env["JTT_CONFIG_DIR"]) / "settings.toml").read_text())
    assert stored["user_id"] == first


def test_default_user_id_wins_and_is_not_stored(jtt_env, monkeypatch):
    monkeypatch.setenv("DEFAULT_USER_ID", "alice@example.com")
    assert load_settings().user_id == "alice@example.com"
    assert not (Path(jtt_env["JTT_CONFIG_DIR"]) / "settings.toml").exists()


def test_settings_file_is_private_and_written_atomically(jtt_env):
    config_dir = Path(jtt_env["JTT_CONFIG_DIR"])
    update_settings_file(config_dir, {"mongodb": {"uri": "mongodb://h", "enabled": True}})
    update_settings_file(config_dir, {"ui": {"theme": "ansi"}, "mongodb": {"enabled": None}})
    path = config_dir / "settings.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    data = tomllib.loads(path.read_text())
    assert data == {"mongodb": {"uri": "mongodb://h"}, "ui": {"theme": "ansi"}}
    assert [p.name for p in config_dir.iterdir()] == ["settings.toml"]  # no temp files left
    with pytest.raises(ValueError, match="password"):
        update_settings_file(config_dir, {"mongodb": {"password": "x"}})


def test_toml_writer_round_trips_awkward_strings():
    data = {
        "user_id": "a",
        "keys": {"quit": 'q"\\\x7f\n\t', "odd key": "é✓"},
        "mongodb": {"max_pool_size": 5, "enabled": False, "tags": ["x", "y"]},
    }
    assert tomllib.loads(dump_toml(data)) == data


def test_env_example_documents_every_variable():
    text = (ROOT / ".env.example").read_text()
    for var in (*ENV_VARS, *LOCATION_VARS):
        match = re.search(rf"^# (.+)\n#? ?{var.name}=(.*)$", text, re.MULTILINE)
        assert match, f"{var.name} is not documented in .env.example"
    assert re.search(r"^MONGODB_PASSWORD=$", text, re.MULTILINE)  # no sample secret


def test_env_example_defaults_load_cleanly(jtt_env, monkeypatch):
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            if name not in ("JTT_CONFIG_DIR", "JTT_DATA_DIR", "JTT_ENV_FILE"):
                monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.backend == "local"
    assert os.environ["MONGODB_SSL"] == "auto"


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("mongodb://db.example:notaport", "must be a number from 1 to 65535"),
        ("mongodb://db.example:0", "must be a number"),
        ("mongodb://a:27017,,b:27017", "not a host name"),
        ("mongodb+srv://cluster0.abcde.mongodb.net:27017", "takes no port"),
        ("mongodb+srv://a.example.net,b.example.net", "exactly one host"),
    ],
)
def test_mongodb_uri_host_mistakes_are_caught_where_typed(uri, problem):
    with pytest.raises(ValidationError, match=problem):
        MongoConfig(uri=uri)


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://localhost",
        "mongodb://u:p%40ss@a.example:27017,b.example:27018/jtt?replicaSet=rs0",
        "mongodb://[::1]:27017/?directConnection=true",
        "mongodb+srv://cluster0.abcde.mongodb.net/?retryWrites=true",
    ],
)
def test_good_mongodb_uris_pass(uri):
    assert MongoConfig(uri=uri).uri == uri
