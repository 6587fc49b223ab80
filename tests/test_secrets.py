"""Credentials go to keyring and nowhere else."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from jtt_tui import secrets
from jtt_tui.cli import main
from jtt_tui.config import load_settings
from jtt_tui.storage.factory import mongo_options, mongo_password

PASSWORD = "Tr0ub4dor-&3-zebra"


def _files_containing(folder: Path, needle: str) -> list[Path]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(path)
    return hits


def test_set_get_delete(memory_keyring):
    secrets.set_secret("mongodb-password", "s3cret")
    assert secrets.get_secret("mongodb-password") == "s3cret"
    assert memory_keyring.secrets == {("jtt", "mongodb-password"): "s3cret"}
    assert secrets.delete_secret("mongodb-password") is True
    assert secrets.delete_secret("mongodb-password") is False
    assert secrets.get_secret("mongodb-password") is None


def test_without_a_keyring_saving_fails_with_the_alternatives(no_keyring):
    assert not secrets.keyring_usable()
    with pytest.raises(secrets.SecretStoreUnavailable) as info:
        secrets.set_secret("mongodb-password", "s3cret")
    message = str(info.value)
    assert "MONGODB_PASSWORD" in message and "keyrings.alt" in message
    assert "s3cret" not in message
    assert secrets.get_secret("mongodb-password") is None  # reading just finds nothing


def _configure(monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_configured_password_is_nowhere_but_keyring(jtt_env, monkeypatch, capsys, memory_keyring):
    uri = f"mongodb://tracker:{PASSWORD}@db.example.com:27017/?authSource=admin"
    code, out, err = _configure(
        monkeypatch, capsys, "db", "configure", "--uri", uri, "--database", "jtt_team"
    )
    assert code == 0, err
    code, out2, err2 = _configure(
        monkeypatch, capsys, "db", "configure", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, err2
    code, shown, err3 = _configure(monkeypatch, capsys, "db", "show")
    assert code == 0
    # the secret went to keyring ...
    assert memory_keyring.secrets[("jtt", secrets.MONGODB_PASSWORD)] == PASSWORD
    settings = load_settings()
    assert settings.mongodb.password_in_keyring is True
    assert settings.mongodb.username == "tracker"
    assert mongo_password(settings.mongodb) == PASSWORD
    assert mongo_options(settings.mongodb, PASSWORD)["password"] == PASSWORD
    # ... and nowhere else: not in any file, not in any output
    for folder in (jtt_env["JTT_CONFIG_DIR"], jtt_env["JTT_DATA_DIR"], str(Path.cwd())):
        if Path(folder).exists():
            assert _files_containing(Path(folder), PASSWORD) == []
    for text in (out, err, out2, err2, shown, err3):
        assert PASSWORD not in text
    assert "password in keyring" in shown or "in keyring" in shown


def test_configure_without_keyring_changes_nothing(jtt_env, monkeypatch, capsys, no_keyring):
    code, out, err = _configure(
        monkeypatch,
        capsys,
        "db",
        "configure",
        "--uri",
        f"mongodb://tracker:{PASSWORD}@db.example.com/",
    )
    assert code == 1
    assert "MONGODB_PASSWORD" in err and "nothing changed" in err
    assert PASSWORD not in out + err
    assert not (Path(jtt_env["JTT_CONFIG_DIR"]) / "settings.toml").exists() or (
        "db.example.com" not in (Path(jtt_env["JTT_CONFIG_DIR"]) / "settings.toml").read_text()
    )


def test_percent_encoded_credentials_are_decoded(jtt_env, monkeypatch, capsys, memory_keyring):
    code, _, err = _configure(
        monkeypatch,
        capsys,
        "db",
        "configure",
        "--uri",
        "mongodb://us%40er:p%40ss%3Aword@h.example/",
    )
    assert code == 0, err
    assert memory_keyring.secrets[("jtt", secrets.MONGODB_PASSWORD)] == "p@ss:word"
    assert load_settings().mongodb.username == "us@er"
    assert load_settings().mongodb.uri == "mongodb://h.example/"


def test_environment_password_is_used_without_keyring(jtt_env, monkeypatch, no_keyring):
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example.com")
    monkeypatch.setenv("MONGODB_USER", "tracker")
    monkeypatch.setenv("MONGODB_PASSWORD", PASSWORD)
    settings = load_settings()
    assert mongo_password(settings.mongodb) == PASSWORD
    assert PASSWORD not in repr(settings)  # SecretStr
    assert PASSWORD not in settings.model_dump_json()
