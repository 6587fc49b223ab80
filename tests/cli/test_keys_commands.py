"""jtt keys, end to end: turn encryption on, rotate (also after kill -9),
report, turn it off, and the errors a user sees without the key."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jtt_tui.domain.models import DataBundle, Segment, Session
from jtt_tui.storage import SQLiteStore
from jtt_tui.storage.crypto import key_id_of, parse_key
from jtt_tui.storage.kinds import SESSIONS

START = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def _store(cli_env) -> SQLiteStore:
    store = SQLiteStore(Path(cli_env["JTT_DATA_DIR"]) / "jtt.db", user_id="tester")
    store.connect()
    return store


def _seed(cli_env, count: int) -> None:
    store = _store(cli_env)
    sessions = [
        Session(
            ticket_number=f"WEB-{n}",
            notes=f"secret note {n}",
            description=f"hunter2 #{n}",
            segments=[
                Segment(
                    start=START + timedelta(hours=n), end=START + timedelta(hours=n, minutes=30)
                )
            ],
        )
        for n in range(1, count + 1)
    ]
    store.import_all(DataBundle(exported_at=START, user_id="tester", sessions=sessions))
    store.disconnect()


def _key_ids(cli_env) -> dict[str, int]:
    """Sealed values per key id, and clear ones under ``plain``."""
    store = _store(cli_env)
    found: dict[str, int] = {}
    for _key, doc in store.raw_records(SESSIONS):
        for name in ("notes", "description"):
            value = doc[name]
            kid = value["kid"] if isinstance(value, dict) else "plain" if value else "empty"
            found[kid] = found.get(kid, 0) + 1
    store.disconnect()
    return found


def _encryption(cli_env) -> dict:
    path = Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml"
    return tomllib.loads(path.read_text()).get("encryption", {})


def test_init_encrypts_existing_data_and_the_app_reads_it(jtt, cli_env):
    _seed(cli_env, 30)
    out = jtt("keys", "init").stdout
    kid = _encryption(cli_env)["key_id"]
    assert f"key {kid} (in the keyring)" in out and "30 record(s) rewritten" in out
    assert _key_ids(cli_env) == {kid: 60}
    data = Path(cli_env["JTT_DATA_DIR"])
    for path in (data / "jtt.db", data / "jtt.db-wal"):  # not even in free pages
        assert not path.exists() or b"hunter2" not in path.read_bytes()
    assert _encryption(cli_env)["enabled"] is True
    assert _encryption(cli_env)["reencrypt_pending"] is False
    # settings and keyring file never hold the key in clear in settings.toml
    assert "data_key" not in (Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml").read_text()
    # the app reads and writes through it
    jtt("start", "WEB-99", "--note", "new secret")
    assert _key_ids(cli_env)[kid] == 61  # the new note is sealed too (description empty)
    exported = Path(cli_env["JTT_DATA_DIR"]) / "out.json"
    jtt("export", str(exported))
    assert "secret note 7" in exported.read_text() and "jtt_enc" not in exported.read_text()
    assert oct(exported.stat().st_mode & 0o777) == "0o600"
    status = jtt("keys", "status").stdout
    # 62: the undo journal's copy of the new note is sealed as well
    assert f"on, key {kid}" in status and f"62 under key {kid}; 0 in clear" in status
    for path in (data / "jtt.db", data / "jtt.db-wal"):
        assert not path.exists() or b"new secret" not in path.read_bytes()
    again = jtt("keys", "init").stdout  # nothing left to do
    assert "0 record(s) rewritten" in again


def test_without_a_keyring_jtt_data_key_does_it_all(jtt, cli_env):
    _seed(cli_env, 5)
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    refused = jtt("keys", "init", env=no_keyring, expect=1).stderr
    assert "jtt keys generate" in refused and "Nothing was changed" in refused
    assert _key_ids(cli_env) == {"plain": 10}
    key = jtt("keys", "generate", env=no_keyring).stdout.strip()
    kid = key_id_of(parse_key(key))
    env = {**no_keyring, "JTT_DATA_KEY": key}
    assert f"key {kid} (in JTT_DATA_KEY)" in jtt("keys", "init", env=env).stdout
    assert _key_ids(cli_env) == {kid: 10}
    assert "secret note 3" in jtt("export", "-", env=env).stdout
    # the key never shows up in output or the log
    log = "".join(p.read_text() for p in Path(cli_env["JTT_LOG_DIR"]).glob("*.log*"))
    assert key not in log


def test_a_machine_without_the_key_gets_a_clear_error_not_garbage(jtt, cli_env):
    _seed(cli_env, 3)
    key = jtt("keys", "generate").stdout.strip()
    jtt("keys", "init", env={"JTT_DATA_KEY": key})
    kid = key_id_of(parse_key(key))
    # encryption is on in settings.toml, but this run has no key at all
    failed = jtt("export", "-", expect=1).stderr
    assert "no data key" in failed or kid in failed
    # a wrong key: the error names the key the data needs
    other = jtt("keys", "generate").stdout.strip()
    wrong = jtt("export", "-", env={"JTT_DATA_KEY": other}, expect=1).stderr
    assert kid in wrong and "JTT_DATA_KEY" in wrong and "hunter2" not in wrong
    status = jtt("keys", "status", env={"JTT_DATA_KEY": other}, expect=1).stdout
    assert f"Key {kid} is MISSING here" in status
    bad = jtt("status", env={"JTT_DATA_KEY": "not-a-key"}, expect=1).stderr
    assert "JTT_DATA_KEY must be standard base64" in bad
    doctor = jtt("doctor", expect=1).stdout
    assert "FAIL  field encryption" in doctor and "no data key" in doctor
    assert f"on, key {kid} present" in jtt("doctor", env={"JTT_DATA_KEY": key}).stdout


def test_rotate_completes_after_kill_9_halfway(jtt, cli_env):
    _seed(cli_env, 4000)
    jtt("keys", "init")
    old = _encryption(cli_env)["key_id"]
    before = json.loads(jtt("export", "-").stdout)
    rotate = subprocess.Popen(
        [sys.executable, "-m", "jtt_tui", "keys", "rotate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cli_env["JTT_DATA_DIR"],
        env=cli_env,
    )
    assert rotate.stdout is not None
    for line in rotate.stdout:
        if "sessions " in line:  # the first batch is committed
            os.kill(rotate.pid, signal.SIGKILL)
            break
    rotate.wait(timeout=60)
    assert rotate.returncode == -signal.SIGKILL
    new = _encryption(cli_env)["key_id"]
    assert new != old and _encryption(cli_env)["reencrypt_pending"] is True
    halfway = _key_ids(cli_env)
    assert halfway.get(old, 0) > 0 and halfway.get(new, 0) > 0  # really interrupted
    # meanwhile everything still reads (both keys are in the keyring)
    assert json.loads(jtt("export", "-").stdout)["sessions"] == before["sessions"]
    assert "was interrupted" in jtt("keys", "status").stdout

    resumed = jtt("keys", "rotate").stdout
    assert f"Resuming the interrupted re-encryption under key {new}" in resumed
    assert _encryption(cli_env)["key_id"] == new  # no third key
    assert _key_ids(cli_env) == {new: 8000}
    assert json.loads(jtt("export", "-").stdout)["sessions"] == before["sessions"]
    assert _encryption(cli_env)["reencrypt_pending"] is False


def test_rotate_with_env_keys_and_disable(jtt, cli_env):
    _seed(cli_env, 4)
    first = jtt("keys", "generate").stdout.strip()
    second = jtt("keys", "generate").stdout.strip()
    jtt("keys", "init", env={"JTT_DATA_KEY": first})
    same = jtt("keys", "rotate", env={"JTT_DATA_KEY": first}).stdout
    assert "Everything was already under that key" in same
    both = {"JTT_DATA_KEY": f"{second},{first}"}
    assert "4 record(s) rewritten" in jtt("keys", "rotate", env=both).stdout
    assert _key_ids(cli_env) == {key_id_of(parse_key(second)): 8}
    off = jtt("keys", "disable", env={"JTT_DATA_KEY": second}).stdout
    assert "4 record(s) rewritten" in off
    assert _key_ids(cli_env) == {"plain": 8}
    assert _encryption(cli_env)["enabled"] is False
    assert "secret note 2" in jtt("export", "-").stdout
    assert "Field encryption: off" in jtt("keys", "status").stdout


def test_export_and_import_move_the_key_to_another_machine(jtt, cli_env, tmp_path):
    _seed(cli_env, 2)
    jtt("keys", "init")
    key = jtt("keys", "export").stdout.strip()
    kid = _encryption(cli_env)["key_id"]
    assert key_id_of(parse_key(key)) == kid
    # a second machine: its own keyring file, the same store
    elsewhere = {"JTT_TEST_KEYRING_FILE": str(tmp_path / "other-keyring.json")}
    assert kid in jtt("export", "-", env=elsewhere, expect=1).stderr
    assert (
        f"Saved key {kid}"
        in jtt("keys", "import", "--stdin", stdin=key + "\n", env=elsewhere).stdout
    )
    assert "secret note 1" in jtt("export", "-", env=elsewhere).stdout
    bad = jtt("keys", "import", "--stdin", stdin="nope\n", env=elsewhere, expect=1).stderr
    assert "standard base64" in bad


def test_env_override_is_refused(jtt, cli_env):
    refused = jtt("keys", "init", env={"JTT_ENCRYPTION": "false"}, expect=1).stderr
    assert "JTT_ENCRYPTION=false" in refused and "Nothing was changed" in refused


def test_mongodb_and_its_offline_copy_are_encrypted_too(jtt, cli_env, wire):
    mongo = {
        "MONGODB_ENABLED": "true",
        "MONGODB_URI": f"mongodb://127.0.0.1:{wire.port}",
        "MONGODB_SERVER_SELECTION_TIMEOUT_MS": "1000",
    }
    jtt("start", "WEB-1", "--note", "hunter2 on the server", env=mongo)
    assert wire.data["jtt"]["sessions"].find_one({})["notes"] == "hunter2 on the server"
    key = jtt("keys", "generate").stdout.strip()
    env = {**mongo, "JTT_DATA_KEY": key}
    out = jtt("keys", "init", env=env).stdout
    assert "MongoDB" in out and "2 record(s) rewritten" in out  # the session, its journal entry
    stored = wire.data["jtt"]["sessions"].find_one({})
    assert stored["notes"]["kid"] == key_id_of(parse_key(key)) and stored["version"] == 1
    mirrors = list(Path(cli_env["JTT_DATA_DIR"]).glob("offline-*.db"))
    assert mirrors and all(b"hunter2" not in m.read_bytes() for m in mirrors)
    assert "hunter2 on the server" in jtt("export", "-", env=env).stdout
    # while the server is down, nothing can be re-encrypted there: said, nothing changed
    wire.stop()
    down = jtt("keys", "rotate", env=env, expect=1).stderr
    assert "MongoDB must be reachable" in down
