"""The undo journal through outages: changes made offline are journaled in
the offline copy and replayed with their entries; when another machine of
the same user took the entry's number meanwhile, the offline entry moves to
the next free number (history, not a conflict for the user)."""

from __future__ import annotations

from datetime import timedelta

from jtt_tui.services.ledger import Ledger
from jtt_tui.services.timer import TimerService
from jtt_tui.storage.errors import failure
from tests.support.remote import open_service


def test_offline_changes_are_journaled_and_replayed_under_free_numbers(wire, tmp_path):
    laptop = open_service(wire, tmp_path / "laptop")
    desktop = open_service(wire, tmp_path / "desktop")
    try:
        TimerService(laptop).start("WEB-1")
        assert laptop.last_journal_seq() == desktop.last_journal_seq() == 1

        laptop.mark_offline(failure("network", "the train went into a tunnel"))
        TimerService(laptop).start("WEB-2")  # entry 2 in the laptop's offline copy
        now = desktop.clock.now()  # entry 2 on the server meanwhile (other records)
        TimerService(desktop).add(
            "API-3", now - timedelta(days=1, hours=2), now - timedelta(days=1)
        )
        assert laptop.pending() == 2  # the pause of WEB-1 and the start of WEB-2

        assert laptop.reconnect()
        assert laptop.pending() == 0 and laptop.conflicts() == []
        entries = {e.seq: e.description for e in desktop.journal_entries(10)}
        assert entries[1] == "start WEB-1"
        assert entries[2].startswith("add API-3")  # the server's number 2 stands
        assert entries[3] == "start WEB-2 (paused WEB-1)"  # the laptop's moved to 3
        # the laptop's copy holds the server's journal, not its old number 2
        assert [e.seq for e in laptop.mirror.journal_entries(10)] == [3, 2, 1]
        # and undo works on what was done offline
        undone = Ledger(desktop).undo()
        assert undone.description == "undo: start WEB-2 (paused WEB-1)"
    finally:
        laptop.disconnect()
        desktop.disconnect()


def test_undo_while_offline_is_queued_like_any_change(wire, tmp_path):
    service = open_service(wire, tmp_path)
    try:
        timer = TimerService(service)
        timer.start("WEB-1")
        service.mark_offline(failure("network", "gone"))
        timer.add(
            "WEB-2", timer.clock.now() - timedelta(hours=3), timer.clock.now() - timedelta(hours=2)
        )
        assert Ledger(service).undo().description.startswith("undo: add WEB-2")
        assert service.get_session("WEB-2") is None
        assert service.reconnect()
        assert service.remote.get_session("WEB-2") is None
        assert service.remote.journal_entries(1)[0].op == "undo"
    finally:
        service.disconnect()


def test_an_undo_made_offline_keeps_its_mark_after_replay(wire, tmp_path):
    service = open_service(wire, tmp_path)
    try:
        timer = TimerService(service)
        timer.start("WEB-1")
        service.mark_offline(failure("network", "gone"))
        now = timer.clock.now()
        timer.add("WEB-2", now - timedelta(hours=3), now - timedelta(hours=2))
        Ledger(service).undo()
        assert service.reconnect()
        entries = {e.seq: e for e in service.remote.journal_entries(10)}
        assert (
            entries[2].undone
            and entries[3].op == "undo"
            and entries[3].target == entries[2].entry_id
        )
        # the journal goes on working: redo the offline undo, then undo further back
        assert Ledger(service).redo().description.startswith("redo: add WEB-2")
        assert Ledger(service).undo().description.startswith("undo: add WEB-2")
        assert Ledger(service).undo().description == "undo: start WEB-1"
    finally:
        service.disconnect()


def test_renumbered_entries_keep_what_points_at_them(wire, tmp_path):
    laptop = open_service(wire, tmp_path / "laptop")
    desktop = open_service(wire, tmp_path / "desktop")
    try:
        TimerService(laptop).start("WEB-1")
        laptop.mark_offline(failure("network", "tunnel"))
        now = laptop.clock.now()
        TimerService(laptop).add("WEB-2", now - timedelta(hours=5), now - timedelta(hours=4))
        Ledger(laptop).undo()  # the laptop's 3: undoes its 2
        now = desktop.clock.now()
        TimerService(desktop).add(
            "API-3", now - timedelta(days=1, hours=2), now - timedelta(days=1)
        )  # the server's 2
        assert laptop.reconnect()
        assert laptop.conflicts() == []
        entries = {e.seq: e for e in desktop.journal_entries(10)}
        assert entries[2].description.startswith("add API-3") and not entries[2].undone
        assert entries[3].description.startswith("add WEB-2") and entries[3].undone
        assert entries[4].op == "undo" and entries[4].target == entries[3].entry_id
        assert desktop.get_session("WEB-2") is None
        assert Ledger(desktop).redo().description.startswith("redo: add WEB-2")
    finally:
        laptop.disconnect()
        desktop.disconnect()
