"""open_storage: the configured backend, or local plus the reason."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jtt_tui.config import load_settings
from jtt_tui.services.opening import open_storage
from jtt_tui.storage import MongoStore, SQLiteStore
from jtt_tui.storage.factory import mongo_options, uri_hosts, wants_tls
from tests.conftest import mongomock_server


def test_local_by_default(jtt_env):
    opened = open_storage(load_settings())
    assert isinstance(opened.store.active, SQLiteStore)
    assert opened.store.mirror is None
    assert opened.failure is None and opened.warnings == []
    assert opened.store.active.path == Path(jtt_env["JTT_DATA_DIR"]) / "jtt.db"
    opened.store.disconnect()


def test_enabled_without_uri_warns_and_uses_local(jtt_env, monkeypatch):
    monkeypatch.setenv("MONGODB_ENABLED", "true")
    opened = open_storage(load_settings())
    assert isinstance(opened.store.active, SQLiteStore)
    assert "no MongoDB URI" in opened.warnings[0]
    opened.store.disconnect()


def test_mongodb_when_reachable(jtt_env, monkeypatch):
    monkeypatch.setenv("MONGODB_ENABLED", "true")
    monkeypatch.setenv("MONGODB_URI", "mongodb://localhost:27017")
    opened = open_storage(load_settings(), client_factory=mongomock_server())
    assert isinstance(opened.store.active, MongoStore)
    assert opened.store.online and opened.failure is None
    assert opened.store.mirror is not None  # the offline copy comes with it
    opened.store.disconnect()


def test_unreachable_mongodb_starts_offline_with_the_classified_reason(jtt_env, monkeypatch):
    from pymongo.errors import ServerSelectionTimeoutError

    monkeypatch.setenv("MONGODB_ENABLED", "true")
    monkeypatch.setenv("MONGODB_URI", "mongodb://jtt:pw-in-uri@db.example:27017")

    def unreachable(uri, **options):
        raise ServerSelectionTimeoutError("db.example:27017: [Errno 111] Connection refused")

    opened = open_storage(load_settings(), client_factory=unreachable)
    assert not opened.store.online and opened.store.state == "offline"
    assert opened.store.active is opened.store.mirror
    assert opened.failure.kind == "network"
    assert "pw-in-uri" not in opened.failure.message
    opened.store.disconnect()


def test_missing_password_is_an_auth_failure(jtt_env, monkeypatch):
    monkeypatch.setenv("MONGODB_ENABLED", "true")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example")
    monkeypatch.setenv("MONGODB_USER", "jtt")
    opened = open_storage(load_settings(), client_factory=mongomock_server())
    assert opened.failure.kind == "auth"
    assert "needs a password" in opened.failure.message
    opened.store.disconnect()


def test_local_store_does_not_import_pymongo(jtt_env):
    import subprocess

    code = (
        "import sys; from jtt_tui.config import load_settings; "
        "from jtt_tui.services.opening import open_storage; "
        "s = open_storage(load_settings()).store; s.get_sessions(); "
        "print('pymongo' in sys.modules, 'textual' in sys.modules, 'keyring' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


@pytest.mark.parametrize(
    ("uri", "tls", "expected"),
    [
        ("mongodb://localhost:27017", None, False),
        ("mongodb://127.0.0.1,[::1]:27018", None, False),
        ("mongodb://db.example.com", None, True),
        ("mongodb+srv://cluster0.abc.mongodb.net", None, True),
        ("mongodb://db.example.com/?tls=false", None, None),  # the URI decides
        ("mongodb://db.example.com", False, False),  # an explicit setting always wins
        ("mongodb://localhost", True, True),
    ],
)
def test_tls_defaults(jtt_env, monkeypatch, uri, tls, expected):
    monkeypatch.setenv("MONGODB_URI", uri)
    if tls is not None:
        monkeypatch.setenv("MONGODB_SSL", str(tls).lower())
    config = load_settings().mongodb
    assert wants_tls(config) is expected
    assert mongo_options(config).get("tls") is expected


def test_options_from_settings(jtt_env, monkeypatch, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    for name, value in {
        "MONGODB_URI": "mongodb://db.example",
        "MONGODB_MAX_POOL_SIZE": "25",
        "MONGODB_MIN_POOL_SIZE": "5",
        "MONGODB_AUTH_SOURCE": "admin",
        "MONGODB_TLS_CA_FILE": str(ca),
        "MONGODB_USER": "jtt",
        "MONGODB_SOCKET_TIMEOUT_MS": "7000",
    }.items():
        monkeypatch.setenv(name, value)
    options = mongo_options(load_settings().mongodb, "pw")
    assert options["maxPoolSize"] == 25 and options["minPoolSize"] == 5
    assert options["authSource"] == "admin" and options["tlsCAFile"] == str(ca)
    assert options["username"] == "jtt" and options["password"] == "pw"
    assert options["timeoutMS"] == 7000 and options["serverSelectionTimeoutMS"] == 2000
    assert options["heartbeatFrequencyMS"] == 1000


def test_uri_hosts():
    assert uri_hosts("mongodb://u:p@a.example:1,b.example/db?x=1") == ["a.example", "b.example"]
    assert uri_hosts("mongodb://[::1]:27017") == ["[::1]"]
    assert uri_hosts("http://nope") == []
