"""The offline mirror's files are private like every file jtt writes (#19 §5)."""

from __future__ import annotations

import os
import stat

from jtt_tui.storage.offline import OfflineMirror


def test_the_replay_lock_is_created_readable_by_the_user_only(tmp_path, clock):
    mirror = OfflineMirror(tmp_path / "offline.db", user_id="alice", clock=clock)
    mirror.connect()
    old_umask = os.umask(0o022)
    try:
        with mirror.replay_lock() as held:
            assert held
        lock = tmp_path / "offline.replay.lock"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        lock.chmod(0o644)  # made by an earlier version
        with mirror.replay_lock():
            pass
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)
        mirror.disconnect()
