"""Opening and leaving the store, one way for the app and the commands
(#18 §2): what a start finds (a change cut off earlier, someone else's
data) and what a close does (the rolling backup, then disconnect)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jtt_tui.config import load_settings
from jtt_tui.domain.models import SessionStatus
from jtt_tui.services.opening import close_session, open_session, open_storage
from jtt_tui.services.timer import TimerService
from tests.conftest import mongomock_server
from tests.services.test_interrupted_change import start_web_2_cut_off


def backups(jtt_env) -> list[Path]:
    return sorted((Path(jtt_env["JTT_DATA_DIR"]) / "backups").glob("jtt-*.db"))


def test_a_local_start_finds_only_someone_elses_data(jtt_env, monkeypatch):
    monkeypatch.setenv("DEFAULT_USER_ID", "alice")
    first = open_session(load_settings())
    assert first.others == {}  # an empty store: nothing to say
    TimerService(first.store).start("WEB-1")
    first.store.disconnect()

    monkeypatch.setenv("DEFAULT_USER_ID", "bob")
    second = open_session(load_settings())
    assert second.others == {"alice": 1}
    assert second.completed is None
    second.store.disconnect()

    monkeypatch.setenv("DEFAULT_USER_ID", "alice")
    mine = open_session(load_settings())
    assert mine.others == {}  # alice has data here: no question
    mine.store.disconnect()


def test_a_mongodb_start_completes_a_change_cut_off_earlier(jtt_env, monkeypatch):
    monkeypatch.setenv("MONGODB_ENABLED", "true")
    monkeypatch.setenv("MONGODB_URI", "mongodb://localhost:27017")
    server = mongomock_server()
    earlier = open_storage(load_settings(), client_factory=server)
    timer = TimerService(earlier.store)
    timer.start("WEB-1")
    start_web_2_cut_off(earlier.store.active, timer)
    earlier.store.disconnect()

    opened = open_session(load_settings(), client_factory=server)
    assert opened.completed is not None and "WEB-2" in opened.completed
    assert opened.store.get_session("WEB-2").status == SessionStatus.RUNNING
    assert opened.others == {}  # a team's store: other ids are colleagues
    opened.store.disconnect()


def test_closing_backs_up_when_due_and_on_quit_always(jtt_env):
    settings = load_settings()
    opened = open_session(settings)
    assert close_session(opened.store, settings) is None
    assert not opened.store.is_connected()
    written = backups(jtt_env)
    assert len(written) == 1  # none yet: one was due

    an_hour_ago = written[0].stat().st_mtime - 3600  # (backups are due every 24 h)
    os.utime(written[0], (an_hour_ago, an_hour_ago))
    again = open_session(settings)
    assert close_session(again.store, settings) is None
    assert [p.stat().st_mtime for p in backups(jtt_env)] == [an_hour_ago]  # none due

    quitting = open_session(settings)
    assert close_session(quitting.store, settings, backup_now=True) is None
    newest = max(p.stat().st_mtime for p in backups(jtt_env))
    assert newest > an_hour_ago + 3000  # quitting the app always writes one


def test_backups_off_write_none(jtt_env, monkeypatch):
    monkeypatch.setenv("LOCAL_BACKUP_ENABLED", "false")
    settings = load_settings()
    opened = open_session(settings)
    assert close_session(opened.store, settings, backup_now=True) is None
    assert backups(jtt_env) == []


def test_a_failed_backup_is_said_and_the_store_still_closes(jtt_env):
    settings = load_settings()
    settings.backup_dir.parent.mkdir(parents=True, exist_ok=True)
    settings.backup_dir.write_text("a file where the backups folder should be")
    opened = open_session(settings)
    failed = close_session(opened.store, settings)
    assert failed is not None and ("File exists" in failed or "Not a directory" in failed)
    assert not opened.store.is_connected()


@pytest.mark.parametrize("backup_now", [False, True])
def test_a_mongodb_store_gets_no_local_backup(jtt_env, monkeypatch, backup_now):
    monkeypatch.setenv("MONGODB_ENABLED", "true")
    monkeypatch.setenv("MONGODB_URI", "mongodb://localhost:27017")
    settings = load_settings()
    opened = open_session(settings, client_factory=mongomock_server())
    assert close_session(opened.store, settings, backup_now=backup_now) is None
    assert backups(jtt_env) == []
    assert not opened.store.is_connected()
